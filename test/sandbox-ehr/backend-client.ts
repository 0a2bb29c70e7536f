// A SMART Backend Services client for tests: a fresh key pair, its public JWKS, and signed client
// assertions (BS-02/BS-03: typ JWT, kid, iss = sub = client_id, aud = token URL, exp ≤ 5 min, new jti).
import { randomUUID } from 'node:crypto';
import type { CryptoKey, JSONWebKeySet, JWTPayload } from 'jose';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

export type AssertionAlgorithm = 'RS384' | 'ES384';

export interface TestBackendClient {
  clientId: string;
  alg: AssertionAlgorithm;
  kid: string;
  privateKey: CryptoKey;
  jwks: JSONWebKeySet;
  /** A signed assertion for `tokenUrl`; `claims` override or add payload claims (e.g. a past `exp`). */
  assertion(tokenUrl: string, claims?: JWTPayload & { exp?: number }): Promise<string>;
}

export async function createTestBackendClient(
  alg: AssertionAlgorithm = 'RS384',
  clientId = `client-${randomUUID()}`,
): Promise<TestBackendClient> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const kid = randomUUID();
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return {
    clientId,
    alg,
    kid,
    privateKey,
    jwks: { keys: [jwk] },
    assertion: (tokenUrl, claims = {}) => signAssertion(privateKey, alg, kid, clientId, tokenUrl, claims),
  };
}

export async function signAssertion(
  key: CryptoKey,
  alg: AssertionAlgorithm,
  kid: string,
  clientId: string,
  tokenUrl: string,
  claims: JWTPayload = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const payload: JWTPayload = {
    iss: clientId,
    sub: clientId,
    aud: tokenUrl,
    jti: randomUUID(),
    exp: now + 240,
    ...claims,
  };
  return new SignJWT(payload).setProtectedHeader({ alg, kid, typ: 'JWT' }).sign(key);
}

/** The form body of a Backend Services token request (BS-04). */
export function tokenRequestBody(assertion: string, scope = 'system/*.rs'): URLSearchParams {
  return new URLSearchParams({
    grant_type: 'client_credentials',
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: assertion,
    scope,
  });
}

/** Registers nothing: mints an assertion, posts it and returns the access token (throws on error). */
export async function fetchBackendToken(tokenUrl: string, client: TestBackendClient, scope?: string): Promise<string> {
  const response = await fetch(tokenUrl, {
    method: 'POST',
    body: tokenRequestBody(await client.assertion(tokenUrl), scope),
  });
  const body = (await response.json()) as { access_token?: string; error?: string };
  if (!response.ok || !body.access_token)
    throw new Error(`Token request failed: ${response.status} ${body.error ?? ''}`);
  return body.access_token;
}
