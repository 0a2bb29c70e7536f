// SMART Backend Services `client_credentials` grant with a private_key_jwt assertion
// (SAL backend-services.html, client-confidential-asymmetric.html#signature-verification):
// RS384/ES384, iss = sub = a known client_id, aud = this token URL, exp ≤ 5 min ahead, jti never
// replayed within its lifetime, key selected by kid/kty from the client's JWKS (INF-S-03/04, BS-03).
import { decodeJwt, errors, jwtVerify } from 'jose';
import type { ClientRegistry } from './clients';
import { OAuthError } from './oauth-error';

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
export const ASSERTION_ALGORITHMS = ['RS384', 'ES384'];
/** SAL: the assertion's `exp` is no more than five minutes in the future. */
const MAX_ASSERTION_LIFETIME_SECONDS = 300;
const CLOCK_SKEW_SECONDS = 5;

export interface Grant {
  clientId: string;
  scope: string;
}

export class BackendServicesGrant {
  /** `${clientId} ${jti}` → assertion expiry (ms); entries are dropped once the assertion expired. */
  private readonly seenJtis = new Map<string, number>();

  constructor(
    private readonly clients: ClientRegistry,
    private readonly tokenUrl: string,
  ) {}

  async grant(form: URLSearchParams): Promise<Grant> {
    if (form.get('client_assertion_type') !== CLIENT_ASSERTION_TYPE) {
      throw new OAuthError(400, 'invalid_request', 'client_assertion_type must be jwt-bearer');
    }
    const assertion = form.get('client_assertion');
    if (!assertion) throw new OAuthError(400, 'invalid_request', 'client_assertion is required');
    const clientId = this.claimedClient(assertion);
    const client = this.clients.backendClient(clientId);
    if (!client) throw new OAuthError(401, 'invalid_client', 'Unknown client');

    let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
    try {
      ({ payload } = await jwtVerify(assertion, client.keys, {
        algorithms: ASSERTION_ALGORITHMS,
        issuer: clientId,
        subject: clientId,
        audience: this.tokenUrl,
        requiredClaims: ['exp', 'jti'],
        clockTolerance: CLOCK_SKEW_SECONDS,
      }));
    } catch (err) {
      throw new OAuthError(401, 'invalid_client', describeJoseError(err));
    }
    // Checked again by hand: jose accepts an `aud` array containing the token URL; SAL wants it exact.
    if (payload.aud !== this.tokenUrl) throw new OAuthError(401, 'invalid_client', 'aud must be the token URL');
    const now = Date.now();
    const exp = (payload.exp as number) * 1000;
    if (exp - now > (MAX_ASSERTION_LIFETIME_SECONDS + CLOCK_SKEW_SECONDS) * 1000) {
      throw new OAuthError(401, 'invalid_client', 'Assertion exp is more than 5 minutes ahead');
    }
    this.rememberJti(clientId, payload.jti as string, exp, now);
    return { clientId, scope: grantedScope(form.get('scope'), client.scopes) };
  }

  private claimedClient(assertion: string): string {
    try {
      const { iss, sub } = decodeJwt(assertion);
      if (!iss || iss !== sub) throw new OAuthError(401, 'invalid_client', 'iss and sub must both be the client_id');
      return iss;
    } catch (err) {
      if (err instanceof OAuthError) throw err;
      throw new OAuthError(401, 'invalid_client', 'client_assertion is not a JWT');
    }
  }

  private rememberJti(clientId: string, jti: string, exp: number, now: number): void {
    for (const [key, expiry] of this.seenJtis) if (expiry + CLOCK_SKEW_SECONDS * 1000 < now) this.seenJtis.delete(key);
    const key = `${clientId} ${jti}`;
    if (this.seenJtis.has(key)) throw new OAuthError(401, 'invalid_client', 'jti has already been used');
    this.seenJtis.set(key, exp);
  }
}

/**
 * Grants the requested `system/` scopes the client is registered for (SAL scopes-and-launch-context:
 * the server may grant fewer). A request with none grantable is `invalid_scope`.
 */
function grantedScope(requested: string | null, allowed: string[] | undefined): string {
  const scopes = (requested ?? '').split(/\s+/).filter(Boolean);
  if (scopes.length === 0) throw new OAuthError(400, 'invalid_scope', 'scope is required');
  const granted = scopes.filter((scope) => scope.startsWith('system/') && isAllowed(scope, allowed));
  if (granted.length === 0) throw new OAuthError(400, 'invalid_scope', 'None of the requested scopes can be granted');
  return granted.join(' ');
}

function isAllowed(scope: string, allowed: string[] | undefined): boolean {
  if (!allowed) return true;
  if (allowed.includes(scope)) return true;
  const permission = scope.slice(scope.indexOf('.') + 1);
  return allowed.includes(`system/*.${permission}`) || allowed.includes('system/*.*');
}

function describeJoseError(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'Assertion has expired';
  if (err instanceof errors.JWTClaimValidationFailed) return `Assertion claim "${err.claim}" is invalid`;
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'Assertion signature is invalid';
  if (err instanceof errors.JWKSNoMatchingKey) return 'No registered key matches the assertion header';
  if (err instanceof errors.JOSEAlgNotAllowed) return 'Assertion algorithm must be RS384 or ES384';
  return 'Assertion could not be verified';
}
