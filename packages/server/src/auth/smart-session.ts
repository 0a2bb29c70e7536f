// SMART launch → fhirdesk session (DESIGN "Security model"; SAL-04, SAL-50, SAL-60..63, HIPAA-02/04/09).
// The browser's id_token, access token, iss and patient are trusted only after proof: the issuer is a
// registered source, the id_token verifies against that issuer's JWKS with our client id as audience,
// and the EHR itself confirms the launch patient for the presented access token.
import {
  type Actor,
  type AuditOutcome,
  roles as allRoles,
  type Clock,
  type Database,
  DomainError,
  FHIR_ID,
  ForbiddenError,
  type RefreshPatient,
  type Role,
  recordAudit,
  schema,
  systemClock,
  UnauthorizedError,
  UpstreamError,
} from '@fhirdesk/core';
import { and, eq, inArray } from 'drizzle-orm';
import { createRemoteJWKSet, errors, type JWTPayload, jwtVerify } from 'jose';
import type { TokenKeys } from './tokens';

/** Options of the SMART surface (session exchange and agent view), all optional with safe defaults. */
export interface SmartDeps {
  /** Patient-scoped refresh from the EHR (connectors); without it the agent view serves the cache as is. */
  refreshPatient?: RefreshPatient;
  /** Agent-view cache age before a refresh (default 10 min). */
  contextMaxAgeMs?: number;
  /** Agent-view refresh budget before serving the cache as stale (default 5 s). */
  refreshTimeoutMs?: number;
  /**
   * Lifetime of the session token issued after a launch, and so the idle limit: the app renews it on user
   * input (POST /auth/session/renew), so a session without input expires this long after the last renewal
   * (default 900 s, HIPAA-04).
   */
  sessionTtlSeconds?: number;
  /** Absolute lifetime of a launch session, renewals included (default 8 h, HIPAA-04). */
  sessionMaxSeconds?: number;
  /** Timeout of each call to the EHR during the exchange: discovery, JWKS, Patient read (default 5 s). */
  httpTimeoutMs?: number;
  /** How long a discovered openid-configuration is reused (default 1 h). */
  discoveryTtlMs?: number;
}

export interface SessionExchangeInput {
  idToken: string;
  accessToken: string;
  /** FHIR base URL the app was launched from (SMART `iss`). */
  iss: string;
  /** Launch patient id (SMART `patient`), relative to `iss`. */
  patient: string;
}

export interface SessionExchangeResult {
  token: string;
  expiresIn: number;
  tenantId: string;
  user: { id: string; displayName: string; roles: Role[] };
  patient: string;
}

interface CandidateSource {
  id: string;
  tenantId: string;
  clientId: string | null;
  settings: Record<string, unknown>;
}

interface Discovery {
  issuer: string;
  jwksUri: string;
  fetchedAt: number;
}

/** Resource types `fhirUser` may name (SAL-62); Patient and RelatedPerson are not staff. */
const FHIR_USER_TYPES = ['Practitioner', 'PractitionerRole', 'Person', 'Patient', 'RelatedPerson'] as const;
const NOT_STAFF = new Set(['Patient', 'RelatedPerson']);
/** SAL-60: servers must support RS256; ES256 and PS256 are accepted too. Never HMAC or none. */
const ID_TOKEN_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384'];
const HUMAN_ROLES = allRoles.filter((r) => r !== 'integration');

export function normaliseIssuer(iss: string): string {
  return iss.trim().replace(/\/+$/, '');
}

/** `fhirUser` (absolute or relative, SAL-62) → `Type/id` when under the issuer's base, else the absolute URL. */
export function parseFhirUser(raw: unknown, base: string): { type: string; id: string; reference: string } | undefined {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 2048) return undefined;
  const absolute = /^https?:\/\//i.test(raw);
  const relative = absolute && raw.startsWith(`${base}/`) ? raw.slice(base.length + 1) : raw;
  const parts = relative.split('?')[0]!.split('/');
  const historyAt = parts.lastIndexOf('_history');
  const end = historyAt > 0 ? historyAt : parts.length;
  const type = parts[end - 2];
  const id = parts[end - 1];
  if (!type || !id || !(FHIR_USER_TYPES as readonly string[]).includes(type) || !FHIR_ID.test(id)) return undefined;
  return { type, id, reference: absolute && relative === raw ? raw : `${type}/${id}` };
}

function clientIdOf(auth: Record<string, unknown>, settings: Record<string, unknown>): string | null {
  const id = settings.smartClientId ?? auth.clientId;
  return typeof id === 'string' && id.length > 0 ? id : null;
}

function defaultRoles(settings: Record<string, unknown>): Role[] {
  const configured = settings.smartDefaultRoles;
  if (!Array.isArray(configured)) return ['agent'];
  const valid = configured.filter((r): r is Role => (HUMAN_ROLES as readonly string[]).includes(String(r)));
  return valid.length > 0 ? valid : ['agent'];
}

function displayNameOf(payload: JWTPayload, fhirUser: string | undefined): string {
  for (const claim of [payload.name, payload.preferred_username]) {
    if (typeof claim === 'string' && claim.trim()) return claim.trim().slice(0, 200);
  }
  return fhirUser ?? 'EHR user';
}

/** A refusal with a specific, human message and a stable `reason` (never token content). */
class LaunchRefused extends Error {
  constructor(
    readonly error: DomainError,
    readonly outcome: AuditOutcome,
  ) {
    super(error.message);
  }
}

const refuse = (reason: string, message: string): never => {
  throw new LaunchRefused(new UnauthorizedError(message, { reason }), 'denied');
};
const forbid = (reason: string, message: string): never => {
  throw new LaunchRefused(new ForbiddenError(message, { reason }), 'denied');
};
const upstream = (reason: string, message: string): never => {
  throw new LaunchRefused(new UpstreamError(message, { reason }), 'failure');
};

export class SmartSessionExchange {
  private readonly clock: Clock;
  private readonly ttl: number;
  private readonly timeoutMs: number;
  private readonly discoveryTtlMs: number;
  private readonly discoveries = new Map<string, Discovery>();
  private readonly jwks = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

  constructor(
    private readonly deps: {
      database: Database;
      keys: TokenKeys;
      clock?: Clock;
      options?: SmartDeps;
      afterAudit?: (tenantId: string) => void;
    },
  ) {
    this.clock = deps.clock ?? systemClock;
    this.ttl = deps.options?.sessionTtlSeconds ?? 900;
    this.timeoutMs = deps.options?.httpTimeoutMs ?? 5_000;
    this.discoveryTtlMs = deps.options?.discoveryTtlMs ?? 60 * 60_000;
  }

  async exchange(input: SessionExchangeInput, requestId: string | null = null): Promise<SessionExchangeResult> {
    const iss = normaliseIssuer(input.iss);
    let tenantId: string | null = null;
    let sourceId: string | null = null;
    let userId: string | null = null;
    try {
      // SAL-04: an unregistered issuer is refused before any network call to it.
      const candidates = await this.sourcesFor(iss);
      if (candidates.length === 0) {
        refuse(
          'unknown-issuer',
          'This EHR (iss) is not registered as a source in fhirdesk; ask an administrator to add it',
        );
      }
      const tenants = new Set(candidates.map((c) => c.tenantId));
      if (tenants.size === 1) tenantId = candidates[0]!.tenantId;
      if (candidates.length === 1) sourceId = candidates[0]!.id;
      const clientIds = [...new Set(candidates.map((c) => c.clientId).filter((c): c is string => Boolean(c)))];
      if (clientIds.length === 0) {
        refuse('no-client-id', 'This EHR source has no SMART client id configured in fhirdesk (source.auth.clientId)');
      }

      const discovery = await this.discover(iss);
      const payload = await this.verifyIdToken(input.idToken, discovery, clientIds);
      const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
      const matching = candidates.filter((c) => c.clientId && audiences.includes(c.clientId));
      if (new Set(matching.map((c) => c.tenantId)).size !== 1) {
        refuse(
          'ambiguous-source',
          'This EHR and client id are registered for several tenants; the launch cannot be routed',
        );
      }
      const chosen = matching[0]!;
      tenantId = chosen.tenantId;
      sourceId = chosen.id;

      const subject = payload.sub!;
      if (subject.length > 255) refuse('claims', 'The id_token subject (sub) is longer than 255 characters');
      const rawFhirUser = payload.fhirUser ?? payload.profile;
      const fhirUser = parseFhirUser(rawFhirUser, iss);
      if (rawFhirUser !== undefined && !fhirUser) {
        refuse(
          'fhir-user',
          'The id_token fhirUser is not a Practitioner, PractitionerRole, Person, Patient or RelatedPerson reference',
        );
      }
      if (fhirUser && NOT_STAFF.has(fhirUser.type)) {
        forbid('not-staff', 'fhirdesk is for staff; this EHR sign-in belongs to a patient or a related person');
      }

      const existing = await this.findUser(chosen.tenantId, discovery.issuer, subject);
      userId = existing?.id ?? null;
      if (existing && !existing.active)
        forbid('inactive', 'Your fhirdesk account is deactivated; ask an administrator');
      const roles = existing
        ? existing.roles.filter((r) => (HUMAN_ROLES as readonly string[]).includes(r))
        : defaultRoles(chosen.settings);
      if (roles.length === 0) forbid('no-roles', 'Your fhirdesk account has no role yet; ask an administrator');

      // SAL-50: the patient id from the browser counts only once the EHR confirms it for this access token.
      await this.confirmPatient(iss, input.patient, input.accessToken);

      const user = await this.saveUser(chosen, existing, {
        issuer: discovery.issuer,
        subject,
        fhirUser: fhirUser?.reference ?? null,
        displayName: displayNameOf(payload, fhirUser?.reference),
        roles,
        patient: input.patient,
        requestId,
      });
      const token = await this.deps.keys.issue(
        {
          tenantId: chosen.tenantId,
          userId: user.id,
          roles: user.roles,
          kind: 'user',
          patient: input.patient,
          // Wall time, as the token's own iat/exp: the absolute limit is checked against them.
          sessionStart: Math.floor(Date.now() / 1000),
        },
        this.ttl,
      );
      this.deps.afterAudit?.(chosen.tenantId);
      return { token, expiresIn: this.ttl, tenantId: chosen.tenantId, user, patient: input.patient };
    } catch (error) {
      const refusal =
        error instanceof LaunchRefused
          ? error
          : error instanceof DomainError
            ? new LaunchRefused(error, 'failure')
            : undefined;
      // AUD-06: failed and denied launches are audited, best effort, whenever the tenant is known.
      if (tenantId) {
        await this.auditRefusal(tenantId, userId, requestId, input.patient, sourceId, refusal).catch(() => {});
        this.deps.afterAudit?.(tenantId);
      }
      throw refusal ? refusal.error : error;
    }
  }

  private async sourcesFor(iss: string): Promise<CandidateSource[]> {
    const rows = await this.deps.database.db
      .select({
        id: schema.source.id,
        tenantId: schema.source.tenantId,
        auth: schema.source.auth,
        settings: schema.source.settings,
      })
      .from(schema.source)
      .where(and(inArray(schema.source.baseUrl, [iss, `${iss}/`]), eq(schema.source.enabled, true)));
    return rows.map((r) => ({
      id: r.id,
      tenantId: r.tenantId,
      clientId: clientIdOf(r.auth, r.settings),
      settings: r.settings,
    }));
  }

  private async getJson(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
    const res = await fetch(url, {
      headers: { accept: 'application/json', ...headers },
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await res.text();
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
    return { status: res.status, body };
  }

  /** SAL-60 / SAL-02: openid-configuration first, then smart-configuration; relative URLs resolve on the base (SAL-03). */
  private async discover(iss: string): Promise<Discovery> {
    const cached = this.discoveries.get(iss);
    if (cached && Date.now() - cached.fetchedAt < this.discoveryTtlMs) return cached;
    for (const path of ['/.well-known/openid-configuration', '/.well-known/smart-configuration']) {
      let doc: { status: number; body: unknown };
      try {
        doc = await this.getJson(`${iss}${path}`);
      } catch {
        continue;
      }
      const body = doc.body as { jwks_uri?: unknown; issuer?: unknown } | null;
      if (doc.status !== 200 || typeof body?.jwks_uri !== 'string') continue;
      let jwksUri: string;
      try {
        jwksUri = new URL(body.jwks_uri, `${iss}/`).toString();
      } catch {
        continue;
      }
      const discovery = { issuer: typeof body.issuer === 'string' ? body.issuer : iss, jwksUri, fetchedAt: Date.now() };
      this.discoveries.set(iss, discovery);
      return discovery;
    }
    return upstream(
      'discovery',
      "Could not read the EHR's OpenID configuration (jwks_uri); try again or contact support",
    );
  }

  private jwksFor(uri: string) {
    let set = this.jwks.get(uri);
    if (!set) {
      // One key set per issuer, refetched on an unknown `kid` at most every 30 s (jose cooldown).
      set = createRemoteJWKSet(new URL(uri), {
        timeoutDuration: this.timeoutMs,
        cooldownDuration: 30_000,
        cacheMaxAge: 10 * 60_000,
      });
      this.jwks.set(uri, set);
    }
    return set;
  }

  private async verifyIdToken(idToken: string, discovery: Discovery, clientIds: string[]): Promise<JWTPayload> {
    try {
      const { payload } = await jwtVerify(idToken, this.jwksFor(discovery.jwksUri), {
        issuer: discovery.issuer,
        audience: clientIds,
        algorithms: ID_TOKEN_ALGORITHMS,
        requiredClaims: ['sub', 'exp', 'iat'],
        clockTolerance: 60,
        currentDate: this.clock.now(),
      });
      return payload;
    } catch (error) {
      if (error instanceof errors.JWTExpired) {
        return refuse('expired', 'Your EHR sign-in (id_token) has expired; relaunch fhirdesk from the EHR');
      }
      if (error instanceof errors.JWTClaimValidationFailed) {
        if (error.claim === 'aud')
          return refuse(
            'audience',
            'The EHR sign-in was issued for a different application (the audience is not this fhirdesk client id)',
          );
        if (error.claim === 'iss')
          return refuse(
            'issuer',
            "The EHR sign-in was issued by an issuer other than the one in the EHR's OpenID configuration",
          );
        return refuse('claims', `The EHR sign-in lacks a valid "${error.claim}" claim`);
      }
      if (error instanceof errors.JWSSignatureVerificationFailed || error instanceof errors.JWKSNoMatchingKey) {
        return refuse(
          'signature',
          "The EHR sign-in (id_token) signature does not verify against the EHR's published keys",
        );
      }
      if (error instanceof errors.JOSEAlgNotAllowed) {
        return refuse('algorithm', 'The EHR sign-in uses a signing algorithm fhirdesk does not accept');
      }
      if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) {
        return refuse('malformed', 'The id_token is not a well-formed signed JWT');
      }
      return upstream('jwks', "Could not fetch the EHR's signing keys (JWKS); try again or contact support");
    }
  }

  private async confirmPatient(iss: string, patient: string, accessToken: string): Promise<void> {
    let res: { status: number; body: unknown };
    try {
      res = await this.getJson(`${iss}/Patient/${encodeURIComponent(patient)}`, {
        accept: 'application/fhir+json',
        authorization: `Bearer ${accessToken}`,
      });
    } catch {
      return upstream('patient-check', 'The EHR did not answer when fhirdesk tried to confirm the launch patient');
    }
    if (res.status >= 500)
      return upstream('patient-check', 'The EHR failed when fhirdesk tried to confirm the launch patient');
    const body = res.body as { resourceType?: unknown; id?: unknown } | null;
    if (res.status !== 200 || body?.resourceType !== 'Patient' || body.id !== patient) {
      forbid('patient-mismatch', 'Patient mismatch: the EHR did not confirm the launch patient for this access token');
    }
  }

  private async findUser(tenantId: string, issuer: string, subject: string) {
    const [row] = await this.deps.database.db
      .select()
      .from(schema.appUser)
      .where(
        and(
          eq(schema.appUser.tenantId, tenantId),
          eq(schema.appUser.issuer, issuer),
          eq(schema.appUser.subject, subject),
        ),
      );
    return row;
  }

  /** SAL-63 / HIPAA-02: the user is (iss, sub) plus the resolved fhirUser; created on first launch. */
  private async saveUser(
    source: CandidateSource,
    existing: typeof schema.appUser.$inferSelect | undefined,
    identity: {
      issuer: string;
      subject: string;
      fhirUser: string | null;
      displayName: string;
      roles: Role[];
      patient: string;
      requestId: string | null;
    },
  ): Promise<{ id: string; displayName: string; roles: Role[] }> {
    return this.deps.database.db.transaction(async (tx) => {
      let user = existing;
      let created = false;
      if (!user) {
        const [inserted] = await tx
          .insert(schema.appUser)
          .values({
            tenantId: source.tenantId,
            displayName: identity.displayName,
            roles: identity.roles,
            fhirUser: identity.fhirUser,
            issuer: identity.issuer,
            subject: identity.subject,
          })
          .onConflictDoNothing()
          .returning();
        user = inserted ?? (await this.findUser(source.tenantId, identity.issuer, identity.subject));
        created = Boolean(inserted);
      } else if (identity.fhirUser && identity.fhirUser !== user.fhirUser) {
        await tx.update(schema.appUser).set({ fhirUser: identity.fhirUser }).where(eq(schema.appUser.id, user.id));
      }
      if (!user) throw new UnauthorizedError('The user could not be recorded', { reason: 'user' });
      const actor: Actor = {
        tenantId: source.tenantId,
        userId: user.id,
        kind: 'user',
        roles: identity.roles,
        requestId: identity.requestId,
        label: 'smart-launch',
      };
      const entries = [];
      if (created) {
        // HIPAA-06: a new account with its roles is a privilege change.
        entries.push({
          action: 'user.create',
          fhirAction: 'C' as const,
          entityType: 'AppUser',
          entityId: user.id,
          detail: { roles: identity.roles, sourceId: source.id },
        });
      }
      entries.push({
        action: 'session.create',
        fhirAction: 'E' as const,
        entityType: 'Session',
        entityId: user.id,
        patientRef: `Patient/${identity.patient}`,
        detail: { sourceId: source.id, fhirUserType: identity.fhirUser?.split('/').at(-2) ?? null },
      });
      await recordAudit(tx, actor, entries);
      return { id: user.id, displayName: user.displayName, roles: identity.roles };
    });
  }

  private auditRefusal(
    tenantId: string,
    userId: string | null,
    requestId: string | null,
    patient: string,
    sourceId: string | null,
    refusal: LaunchRefused | undefined,
  ): Promise<void> {
    const actor: Actor = { tenantId, userId, kind: 'user', roles: [], requestId, label: 'smart-launch' };
    return recordAudit(this.deps.database.db, actor, {
      action: 'session.create',
      fhirAction: 'E',
      entityType: 'Session',
      patientRef: FHIR_ID.test(patient) ? `Patient/${patient}` : null,
      outcome: refusal?.outcome ?? 'failure',
      detail: { reason: (refusal?.error.extensions.reason as string | undefined) ?? 'internal', sourceId },
    });
  }
}

/**
 * HIPAA-04 automatic logoff, server side: a launch session's token lives `ttlSeconds` (the idle limit) and is
 * renewed only by the app on user input, so a session left idle expires and is refused with 401; renewals stop
 * at `maxSeconds` after the launch (absolute lifetime). Only launch-session tokens (patient-scoped, with a
 * session start) renew; anything else is refused.
 */
export async function renewSession(
  keys: TokenKeys,
  token: string,
  options: {
    ttlSeconds?: number | undefined;
    maxSeconds?: number | undefined;
    /** Audits the renewal (or its refusal at the absolute lifetime) like the other session events (HIPAA-06). */
    audit?: { database: Database; requestId?: string | null | undefined } | undefined;
  } = {},
): Promise<{ token: string; expiresIn: number }> {
  const claims = await keys.verify(token);
  if (claims.kind !== 'user' || !claims.patient || claims.sessionStart === undefined) {
    throw new UnauthorizedError('Only a session from an EHR launch can be renewed', { reason: 'not-a-session' });
  }
  const ttl = options.ttlSeconds ?? 900;
  const left = claims.sessionStart + (options.maxSeconds ?? 8 * 3600) - Math.floor(Date.now() / 1000);
  const audit = (outcome: 'success' | 'failure', detail: Record<string, unknown>) =>
    options.audit
      ? recordAudit(
          options.audit.database.db,
          {
            tenantId: claims.tenantId,
            userId: claims.userId,
            kind: 'user',
            roles: claims.roles,
            requestId: options.audit.requestId ?? null,
            label: 'session-renew',
          },
          {
            action: 'session.renew',
            fhirAction: 'E',
            entityType: 'Session',
            entityId: claims.userId,
            patientRef: FHIR_ID.test(claims.patient!) ? `Patient/${claims.patient}` : null,
            outcome,
            detail,
          },
        )
      : Promise.resolve();
  if (left <= 0) {
    await audit('failure', { reason: 'session-lifetime' });
    throw new UnauthorizedError('The session reached its maximum lifetime; launch the app again from the EHR', {
      reason: 'session-lifetime',
    });
  }
  const expiresIn = Math.min(ttl, left);
  const renewed = { token: await keys.issue(claims, expiresIn), expiresIn };
  await audit('success', { expiresIn, sessionStart: new Date(claims.sessionStart * 1000).toISOString() });
  return renewed;
}
