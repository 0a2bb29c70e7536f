// SMART Backend Services client (SAL backend-services.html; BS-01..08): key pairs, the public JWKS,
// signed client assertions and the client_credentials token request.
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type JSONWebKeySet, type JWK, SignJWT } from 'jose';
import { ConnectorError } from '../errors';

export type BackendServicesAlg = 'RS384' | 'ES384';

export interface ClientKey {
  kid: string;
  alg: BackendServicesAlg;
  /** Private JWK; store it only through `encryptSecret` (BS-10). */
  privateJwk: JWK;
  publicJwk: JWK;
}

/** A new signing key (RSA 2048+ per EPIC-03, or P-384) with a fresh `kid`. */
export async function generateClientKey(alg: BackendServicesAlg, kid: string = randomUUID()): Promise<ClientKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { modulusLength: 3072, extractable: true });
  const meta = { kid, alg, use: 'sig' };
  const privateJwk = { ...(await exportJWK(privateKey)), ...meta };
  const publicJwk = { ...(await exportJWK(publicKey)), ...meta };
  return { kid, alg, privateJwk, publicJwk };
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

/** Public keys only, for the JWKS URL (BS-01); publish current and next key to rotate (BS-10). */
export function publicJwks(keys: readonly (Pick<ClientKey, 'publicJwk'> | JWK)[]): JSONWebKeySet {
  return {
    keys: keys.map((k) => {
      const jwk: JWK = { ...('publicJwk' in k ? (k.publicJwk as JWK) : (k as JWK)) };
      for (const m of PRIVATE_MEMBERS) delete (jwk as Record<string, unknown>)[m];
      return jwk;
    }),
  };
}

/** The public JWKS of a stored private key (what the source's JWKS URL serves). */
export function jwksOfPrivateJwk(privateJwk: JWK): JSONWebKeySet {
  return publicJwks([privateJwk]);
}

export interface AssertionInput {
  clientId: string;
  tokenUrl: string;
  privateJwk: JWK;
  alg: BackendServicesAlg;
  kid: string;
  jwksUrl?: string | undefined;
  now?: Date;
}

/** A new client assertion for every token request (BS-03): exp ≤ now + 5 min, unique jti. */
export async function createClientAssertion(input: AssertionInput): Promise<string> {
  const key = await importJWK(input.privateJwk, input.alg);
  const nowSec = Math.floor((input.now ?? new Date()).getTime() / 1000);
  const header: { alg: string; kid: string; typ: string; jku?: string } = {
    alg: input.alg,
    kid: input.kid,
    typ: 'JWT',
  };
  if (input.jwksUrl) header.jku = input.jwksUrl;
  return new SignJWT({})
    .setProtectedHeader(header)
    .setIssuer(input.clientId)
    .setSubject(input.clientId)
    .setAudience(input.tokenUrl)
    .setJti(randomUUID())
    .setIssuedAt(nowSec)
    .setExpirationTime(nowSec + 240)
    .sign(key);
}

export interface TokenResponse {
  accessToken: string;
  expiresInSeconds: number;
  scope?: string | undefined;
}

/**
 * POSTs a token request form (BS-04) and parses the answer. Errors carry `error`/`error_description`
 * from the RFC 6749 §5.2 body, never the request body (which holds the assertion or secret) (BS-08).
 */
export async function requestToken(
  tokenUrl: string,
  form: Record<string, string>,
  options: { headers?: Record<string, string>; signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<TokenResponse> {
  let response: Response;
  try {
    const timeout = AbortSignal.timeout(options.timeoutMs ?? 30_000);
    response = await fetch(tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...options.headers },
      body: new URLSearchParams(form).toString(),
      signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout,
    });
  } catch {
    throw new ConnectorError('unreachable', 'Token endpoint could not be reached', { retryable: true });
  }
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // Gateways answer HTML; say so without echoing it.
  }
  if (!response.ok) {
    const error = typeof body.error === 'string' ? body.error : undefined;
    const description = typeof body.error_description === 'string' ? body.error_description : undefined;
    const what = error ? `${error}${description ? `: ${description.slice(0, 300)}` : ''}` : 'non-JSON error body';
    throw new ConnectorError('token', `Token request failed (HTTP ${response.status}): ${what}`, {
      httpStatus: response.status,
      retryable: response.status === 429 || response.status >= 500,
      extensions: { error, error_description: description },
    });
  }
  if (typeof body.access_token !== 'string') {
    throw new ConnectorError('token', 'Token response has no access_token', { httpStatus: response.status });
  }
  const expiresIn = typeof body.expires_in === 'number' ? body.expires_in : 300;
  return {
    accessToken: body.access_token,
    expiresInSeconds: expiresIn,
    scope: typeof body.scope === 'string' ? body.scope : undefined,
  };
}

/** `system/` scopes for the configured types, v2 form (BS-06). */
export function systemScopes(resourceTypes: readonly string[], version: 'v1' | 'v2' = 'v2'): string {
  return resourceTypes.map((t) => (version === 'v2' ? `system/${t}.rs` : `system/${t}.read`)).join(' ');
}
