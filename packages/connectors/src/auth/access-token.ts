// Access tokens for a source, one provider per auth mode. Tokens are cached until shortly before expiry and
// re-minted once after a 401 (BS-07, BULK-09).
import type { JWK } from 'jose';
import type { AuthConfig, SourceSecrets } from '../config/source-config';
import { ConnectorError } from '../errors';
import { createClientAssertion, requestToken } from './backend-services';

export interface AccessTokenProvider {
  /** Current token, or undefined when the source needs none. */
  getToken(signal?: AbortSignal): Promise<string | undefined>;
  /** Drops the cached token so the next `getToken` mints a new one (after a 401). */
  invalidate(): void;
}

export const noAuth: AccessTokenProvider = { getToken: async () => undefined, invalidate: () => {} };

/** Refresh this long before `expires_in` runs out, so a page never starts with a token about to lapse. */
const EXPIRY_MARGIN_MS = 30_000;

class CachedTokenProvider implements AccessTokenProvider {
  private cached: { token: string; expiresAt: number } | undefined;
  private inflight: Promise<string> | undefined;
  constructor(
    private readonly mint: (signal?: AbortSignal) => Promise<{ accessToken: string; expiresInSeconds: number }>,
    private readonly now: () => number,
  ) {}
  async getToken(signal?: AbortSignal): Promise<string> {
    if (this.cached && this.cached.expiresAt - EXPIRY_MARGIN_MS > this.now()) return this.cached.token;
    // One token request at a time, whatever the concurrency.
    this.inflight ??= this.mint(signal)
      .then((r) => {
        this.cached = { token: r.accessToken, expiresAt: this.now() + r.expiresInSeconds * 1000 };
        return r.accessToken;
      })
      .finally(() => {
        this.inflight = undefined;
      });
    return this.inflight;
  }
  invalidate(): void {
    this.cached = undefined;
  }
}

export interface TokenProviderOptions {
  auth: AuthConfig;
  secrets: SourceSecrets;
  /** From `.well-known/smart-configuration` when the config does not name one. */
  discoveredTokenUrl?: string | undefined;
  scope: string;
  now?: () => number;
}

export function createAccessTokenProvider(options: TokenProviderOptions): AccessTokenProvider {
  const { auth, secrets } = options;
  const now = options.now ?? Date.now;
  switch (auth.mode) {
    case 'none':
      return noAuth;
    case 'bearer': {
      const token = secrets.bearerToken;
      if (!token) throw new ConnectorError('config', 'Source uses a static bearer token but none is stored');
      return { getToken: async () => token, invalidate: () => {} };
    }
    case 'client-secret': {
      const tokenUrl = auth.tokenUrl ?? options.discoveredTokenUrl;
      const secret = secrets.clientSecret;
      if (!tokenUrl) throw new ConnectorError('config', 'No token URL configured or discovered');
      if (!secret) throw new ConnectorError('config', 'Source uses a client secret but none is stored');
      const basic = Buffer.from(`${encodeURIComponent(auth.clientId)}:${encodeURIComponent(secret)}`).toString(
        'base64',
      );
      return new CachedTokenProvider(
        (signal) =>
          requestToken(
            tokenUrl,
            { grant_type: 'client_credentials', scope: auth.scope ?? options.scope },
            { headers: { authorization: `Basic ${basic}` }, ...(signal ? { signal } : {}) },
          ),
        now,
      );
    }
    case 'backend-services': {
      const tokenUrl = auth.tokenUrl ?? options.discoveredTokenUrl;
      const privateJwk = secrets.privateJwk as JWK | undefined;
      if (!tokenUrl) throw new ConnectorError('config', 'No token URL configured or discovered');
      if (!privateJwk) throw new ConnectorError('config', 'Source uses Backend Services but no private key is stored');
      return new CachedTokenProvider(async (signal) => {
        // A new assertion for every token request (BS-03).
        const assertion = await createClientAssertion({
          clientId: auth.clientId,
          tokenUrl,
          privateJwk,
          alg: auth.alg,
          kid: auth.kid,
          jwksUrl: auth.jwksUrl,
          now: new Date(now()),
        });
        return requestToken(
          tokenUrl,
          {
            grant_type: 'client_credentials',
            scope: auth.scope ?? options.scope,
            client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
            client_assertion: assertion,
          },
          signal ? { signal } : {},
        );
      }, now);
    }
  }
}
