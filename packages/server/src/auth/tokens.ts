// Server-issued bearer tokens (HS256 JWTs carrying tenant, user, roles and expiry), verified with jose.
import { createSecretKey, type KeyObject, randomBytes } from 'node:crypto';
import { roles as allRoles, type Role, UnauthorizedError } from '@fhirdesk/core';
import { errors, jwtVerify, SignJWT } from 'jose';

export const TOKEN_ISSUER = 'fhirdesk';
export const TOKEN_AUDIENCE = 'fhirdesk-api';

export interface TokenClaims {
  tenantId: string;
  userId: string;
  roles: Role[];
  kind: 'user' | 'integration';
  /** Patient the session is scoped to after a SMART launch. */
  patient?: string | undefined;
  /** When the SMART session began (epoch seconds): renewals never extend it past its absolute lifetime (HIPAA-04). */
  sessionStart?: number | undefined;
}

export class TokenKeys {
  // A KeyObject made once: passing raw bytes makes jose import the key again on every request.
  private readonly key: KeyObject;
  /** True for embedded mode's development key: start-up warns loudly. */
  readonly development: boolean;
  /**
   * Tokens already verified, by their exact text (signature included), until their expiry: an HMAC verify
   * through WebCrypto costs more than the agent view's whole passthrough (bench:agent-view profile). Bounded;
   * the oldest entry goes first.
   */
  private readonly verified = new Map<string, { claims: TokenClaims; expiresAt: number }>();
  private static readonly VERIFIED_MAX = 2048;

  constructor(secret?: string, options: { development?: boolean } = {}) {
    this.development = options.development ?? !secret;
    this.key = createSecretKey(secret ? Buffer.from(secret, 'utf8') : randomBytes(32));
  }

  async issue(claims: TokenClaims, ttlSeconds: number): Promise<string> {
    return new SignJWT({
      tid: claims.tenantId,
      roles: claims.roles,
      knd: claims.kind,
      pat: claims.patient,
      sst: claims.sessionStart,
    })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setSubject(claims.userId)
      .setIssuedAt()
      .setExpirationTime(`${ttlSeconds}s`)
      .sign(this.key);
  }

  /** Verifies signature, algorithm (HS256 only: `alg: none` and key confusion are refused), issuer, audience and expiry. */
  async verify(token: string): Promise<TokenClaims> {
    const known = this.verified.get(token);
    if (known) {
      if (Date.now() < known.expiresAt) return { ...known.claims, roles: [...known.claims.roles] };
      this.verified.delete(token);
    }
    return this.verifyOnce(token);
  }

  private async verifyOnce(token: string): Promise<TokenClaims> {
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: ['HS256'],
        issuer: TOKEN_ISSUER,
        audience: TOKEN_AUDIENCE,
        requiredClaims: ['sub', 'exp', 'tid'],
      });
      const roles = Array.isArray(payload.roles)
        ? payload.roles.filter((r): r is Role => (allRoles as readonly string[]).includes(String(r)))
        : [];
      if (typeof payload.tid !== 'string' || typeof payload.sub !== 'string')
        throw new UnauthorizedError('Token lacks tenant or subject');
      const claims: TokenClaims = {
        tenantId: payload.tid,
        userId: payload.sub,
        roles,
        kind: payload.knd === 'integration' ? 'integration' : 'user',
        patient: typeof payload.pat === 'string' ? payload.pat : undefined,
        sessionStart: typeof payload.sst === 'number' ? payload.sst : undefined,
      };
      if (typeof payload.exp === 'number') {
        if (this.verified.size >= TokenKeys.VERIFIED_MAX) this.verified.delete(this.verified.keys().next().value!);
        this.verified.set(token, { claims: { ...claims, roles: [...roles] }, expiresAt: payload.exp * 1000 });
      }
      return claims;
    } catch (error) {
      if (error instanceof UnauthorizedError) throw error;
      if (error instanceof errors.JWTExpired)
        throw new UnauthorizedError('The access token has expired', { reason: 'expired' });
      if (error instanceof errors.JOSEAlgNotAllowed)
        throw new UnauthorizedError('The access token uses an algorithm this server does not accept', {
          reason: 'algorithm',
        });
      if (error instanceof errors.JWSSignatureVerificationFailed)
        throw new UnauthorizedError('The access token signature is invalid', { reason: 'signature' });
      if (error instanceof errors.JWTClaimValidationFailed)
        throw new UnauthorizedError('The access token is not valid for this API', { reason: 'claims' });
      throw new UnauthorizedError('The access token is malformed', { reason: 'malformed' });
    }
  }
}
