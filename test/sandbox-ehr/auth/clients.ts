// Registered SMART clients. Backend Services clients register a JWKS inline or by URL (BS-01).
import type { JSONWebKeySet } from 'jose';
import { createLocalJWKSet, createRemoteJWKSet } from 'jose';

export interface BackendClientRegistration {
  clientId: string;
  /** Public keys, inline. One of `jwks` / `jwksUrl` is required. */
  jwks?: JSONWebKeySet;
  /** Where to fetch the public keys (fetched on demand, e.g. a test server on 127.0.0.1). */
  jwksUrl?: string;
  /** Scopes the client may be granted; omitted means any `system/` scope. */
  scopes?: string[];
}

export type KeySetResolver = ReturnType<typeof createLocalJWKSet>;

export interface RegisteredBackendClient {
  clientId: string;
  keys: KeySetResolver;
  scopes?: string[];
}

export class ClientRegistry {
  private readonly backendClients = new Map<string, RegisteredBackendClient>();

  registerBackendClient(registration: BackendClientRegistration): void {
    const { clientId, jwks, jwksUrl, scopes } = registration;
    let keys: KeySetResolver;
    if (jwks) keys = createLocalJWKSet(jwks);
    else if (jwksUrl) keys = createRemoteJWKSet(new URL(jwksUrl)) as KeySetResolver;
    else throw new Error('A backend client needs jwks or jwksUrl');
    this.backendClients.set(clientId, { clientId, keys, ...(scopes ? { scopes } : {}) });
  }

  backendClient(clientId: string): RegisteredBackendClient | undefined {
    return this.backendClients.get(clientId);
  }
}
