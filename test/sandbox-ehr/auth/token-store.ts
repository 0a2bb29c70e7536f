// Opaque access tokens issued by the sandbox, checked on FHIR and bulk requests when auth is required.
import { randomBytes } from 'node:crypto';

export interface IssuedToken {
  clientId: string;
  scope: string;
  expiresAt: number;
}

export class TokenStore {
  private readonly tokens = new Map<string, IssuedToken>();

  issue(clientId: string, scope: string, lifetimeSeconds: number): { accessToken: string; token: IssuedToken } {
    this.prune();
    const accessToken = randomBytes(32).toString('base64url');
    const token = { clientId, scope, expiresAt: Date.now() + lifetimeSeconds * 1000 };
    this.tokens.set(accessToken, token);
    return { accessToken, token };
  }

  /** The token's grant if it exists and has not expired. */
  verify(accessToken: string): IssuedToken | undefined {
    const token = this.tokens.get(accessToken);
    if (!token || token.expiresAt <= Date.now()) return undefined;
    return token;
  }

  private prune(): void {
    const now = Date.now();
    for (const [key, token] of this.tokens) if (token.expiresAt <= now) this.tokens.delete(key);
  }
}
