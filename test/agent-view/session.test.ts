// POST /auth/session: SMART launch → fhirdesk session. A node:http server on 127.0.0.1 stands in for the
// EHR (openid-configuration, JWKS, Patient read). Each refusal has its own message and writes nothing but
// its audit row (SAL-04, SAL-50, SAL-60..63, HIPAA-02/04/09, AUD-06).
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AuditSealer, type Database, schema } from '@fhirdesk/core';
import { and, eq, sql } from 'drizzle-orm';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../packages/server/src/app';
import { TokenKeys } from '../../packages/server/src/auth/tokens';
import { createLogger } from '../../packages/server/src/http/logger';
import { LogCapture, TEST_SECRET } from '../support/app';
import { createTestTenant, openTestDatabase } from '../support/db';
import { createSource } from './cache-fixtures';

const CLIENT_ID = 'fhirdesk-test-client';
const ACCESS_TOKEN = 'ehr-access-token-for-pat1';

let database: Database;
let app: ReturnType<typeof createApp>;
let keys: TokenKeys;
let sealer: AuditSealer;
let logs: LogCapture;
let ehr: Server;
let base: string;
let tenantId: string;
let privateKey: CryptoKey;
let otherKey: CryptoKey;
let jwk: JWK;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256', { extractable: true });
  privateKey = pair.privateKey;
  otherKey = (await generateKeyPair('RS256')).privateKey;
  jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  ehr = createServer((req, res) => {
    const url = new URL(req.url ?? '/', base);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/fhir/.well-known/openid-configuration')
      return send(200, { issuer: base, jwks_uri: `${base}/jwks` });
    if (url.pathname === '/fhir/jwks') return send(200, { keys: [jwk] });
    const m = /^\/fhir\/Patient\/([^/]+)$/.exec(url.pathname);
    if (m) {
      if (req.headers.authorization !== `Bearer ${ACCESS_TOKEN}`)
        return send(401, { resourceType: 'OperationOutcome' });
      // The EHR only lets this access token read the launch patient (patient/ scopes, SAL-50).
      return m[1] === 'pat1'
        ? send(200, { resourceType: 'Patient', id: 'pat1' })
        : send(403, { resourceType: 'OperationOutcome' });
    }
    return send(404, {});
  });
  ehr.listen(0, '127.0.0.1');
  await once(ehr, 'listening');
  base = `http://127.0.0.1:${(ehr.address() as AddressInfo).port}/fhir`;

  database = await openTestDatabase();
  keys = new TokenKeys(TEST_SECRET);
  sealer = new AuditSealer(database, { delayMs: 5 });
  logs = new LogCapture();
  app = createApp({ database, keys, sealer, logger: createLogger('info', logs), smart: { sessionTtlSeconds: 600 } });
  tenantId = await createTestTenant(database);
  await createSource(database, tenantId, base, { mode: 'smart', clientId: CLIENT_ID });
});
afterAll(async () => {
  await sealer.flush();
  await database.close();
  ehr.close();
});

interface IdTokenOptions {
  sub?: string;
  aud?: string;
  exp?: number | string;
  key?: CryptoKey;
  fhirUser?: string;
  issuer?: string;
}

function idToken(o: IdTokenOptions = {}) {
  return new SignJWT({ fhirUser: o.fhirUser ?? `${base}/Practitioner/123`, name: 'Dr. Alex Test' })
    .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
    .setIssuer(o.issuer ?? base)
    .setAudience(o.aud ?? CLIENT_ID)
    .setSubject(o.sub ?? 'ehr-user-1')
    .setIssuedAt()
    .setExpirationTime(o.exp ?? '5m')
    .sign(o.key ?? privateKey);
}

interface SessionBody {
  token: string;
  expiresIn: number;
  tenantId: string;
  user: { id: string; displayName: string; roles: string[] };
  patient: string;
  reason?: string;
  detail?: string;
}

async function launch(body: Record<string, unknown>, requestId: string = randomUUID()) {
  const res = await app.request('/auth/session', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': requestId },
    body: JSON.stringify({ accessToken: ACCESS_TOKEN, iss: base, patient: 'pat1', ...body }),
  });
  return { status: res.status, body: (await res.json()) as SessionBody, type: res.headers.get('content-type') };
}

/** Rows of this test's tenant (other test files share the CI database, so counts are scoped). */
async function counts() {
  const [row] = await database.query<{ users: number; audits: number; denied: number }>(sql`
    select (select count(*)::int from app_user where tenant_id = ${tenantId}) as users,
           (select count(*)::int from audit_event where tenant_id = ${tenantId}) as audits,
           (select count(*)::int from audit_event where tenant_id = ${tenantId} and action = 'session.create' and outcome <> 'success') as denied`);
  return { users: Number(row!.users), audits: Number(row!.audits), denied: Number(row!.denied) };
}

/** Audit rows of one request anywhere in the database, whatever the tenant. */
async function auditsOfRequest(requestId: string) {
  const [row] = await database.query<{ n: number }>(
    sql`select count(*)::int as n from audit_event where request_id = ${requestId}`,
  );
  return Number(row!.n);
}

/** A refusal: status, a specific message, no user written, exactly one denied/failed audit row (or none). */
async function expectRefused(
  body: Record<string, unknown>,
  status: number,
  reason: string,
  message: RegExp,
  audited = true,
) {
  const before = await counts();
  const requestId = randomUUID();
  const res = await launch(body, requestId);
  expect(res.status).toBe(status);
  expect(res.type).toMatch(/problem\+json/);
  expect(res.body.reason).toBe(reason);
  expect(res.body.detail).toMatch(message);
  const after = await counts();
  expect(after.users).toBe(before.users);
  expect(after.audits).toBe(before.audits + (audited ? 1 : 0));
  expect(after.denied).toBe(before.denied + (audited ? 1 : 0));
  expect(await auditsOfRequest(requestId)).toBe(audited ? 1 : 0);
  return res;
}

describe('SMART session exchange', () => {
  it('issues a short-lived session for a verified launch and records the user by (iss, sub) and fhirUser', async () => {
    const before = await counts();
    const res = await launch({ idToken: await idToken() });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      expiresIn: 600,
      tenantId,
      patient: 'pat1',
      user: { displayName: 'Dr. Alex Test', roles: ['agent'] },
    });
    const claims = await keys.verify(res.body.token);
    expect(claims).toMatchObject({
      tenantId,
      userId: res.body.user.id,
      roles: ['agent'],
      patient: 'pat1',
      kind: 'user',
    });
    const [user] = await database.db.select().from(schema.appUser).where(eq(schema.appUser.id, res.body.user.id));
    expect(user).toMatchObject({
      tenantId,
      issuer: base,
      subject: 'ehr-user-1',
      fhirUser: 'Practitioner/123',
      roles: ['agent'],
    });
    const after = await counts();
    expect(after.users).toBe(before.users + 1);
    const audit = await database.db
      .select({
        action: schema.auditEvent.action,
        outcome: schema.auditEvent.outcome,
        patientRef: schema.auditEvent.patientRef,
      })
      .from(schema.auditEvent)
      .where(and(eq(schema.auditEvent.tenantId, tenantId), eq(schema.auditEvent.actorId, user!.id)));
    expect(audit).toEqual(
      expect.arrayContaining([
        { action: 'user.create', outcome: 'success', patientRef: null },
        { action: 'session.create', outcome: 'success', patientRef: 'Patient/pat1' },
      ]),
    );
  });

  it('reuses the same user on the next launch and keeps a relative PractitionerRole fhirUser (SAL-62)', async () => {
    const first = await launch({ idToken: await idToken({ sub: 'ehr-user-2', fhirUser: 'PractitionerRole/pr-9' }) });
    const before = await counts();
    const again = await launch({ idToken: await idToken({ sub: 'ehr-user-2', fhirUser: 'PractitionerRole/pr-9' }) });
    expect(again.status).toBe(200);
    expect(again.body.user.id).toBe(first.body.user.id);
    expect((await counts()).users).toBe(before.users);
    const [user] = await database.db.select().from(schema.appUser).where(eq(schema.appUser.id, first.body.user.id));
    expect(user!.fhirUser).toBe('PractitionerRole/pr-9');
  });

  it('lets the session read only the launch patient', async () => {
    const res = await launch({ idToken: await idToken() });
    const other = await app.request('/api/v1/patients/pat2/context', {
      headers: { authorization: `Bearer ${res.body.token}` },
    });
    expect(other.status).toBe(403);
  });

  it('refuses an issuer that is not a registered source, writing nothing (SAL-04)', async () => {
    await expectRefused(
      { idToken: await idToken(), iss: 'http://127.0.0.1:9/not-registered' },
      401,
      'unknown-issuer',
      /not registered as a source/,
      false,
    );
  });

  it('refuses an id_token whose signature was tampered with', async () => {
    const [h, p, s] = (await idToken()).split('.');
    const forgedPayload = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), sub: 'someone-else' }),
    ).toString('base64url');
    await expectRefused({ idToken: `${h}.${forgedPayload}.${s}` }, 401, 'signature', /signature does not verify/);
    await expectRefused({ idToken: await idToken({ key: otherKey }) }, 401, 'signature', /signature does not verify/);
  });

  it('refuses an expired id_token', async () => {
    await expectRefused(
      { idToken: await idToken({ exp: Math.floor(Date.now() / 1000) - 600 }) },
      401,
      'expired',
      /expired/,
    );
  });

  it('refuses an id_token issued for another application (audience)', async () => {
    await expectRefused(
      { idToken: await idToken({ aud: 'some-other-app' }) },
      401,
      'audience',
      /different application/,
    );
  });

  it('refuses an id_token from an issuer other than the discovered one', async () => {
    await expectRefused({ idToken: await idToken({ issuer: 'https://evil.example' }) }, 401, 'issuer', /issuer/);
  });

  it('refuses a launch patient the EHR does not confirm for this access token (SAL-50)', async () => {
    await expectRefused(
      { idToken: await idToken({ sub: 'ehr-user-3' }), patient: 'pat2' },
      403,
      'patient-mismatch',
      /Patient mismatch/,
    );
    await expectRefused(
      { idToken: await idToken({ sub: 'ehr-user-3' }), accessToken: 'stolen' },
      403,
      'patient-mismatch',
      /Patient mismatch/,
    );
  });

  it('refuses a patient signing in, since fhirdesk is for staff', async () => {
    await expectRefused({ idToken: await idToken({ fhirUser: 'Patient/pat1' }) }, 403, 'not-staff', /for staff/);
  });

  it('never writes the tokens to the log (HIPAA-11)', async () => {
    const token = await idToken();
    await launch({ idToken: token });
    expect(logs.text()).not.toContain(token.split('.')[2]!);
    expect(logs.text()).not.toContain(ACCESS_TOKEN);
  });
  it('documents /auth/session and the patient context route in the OpenAPI document', async () => {
    const doc = (await (await app.request('/openapi.json')).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/auth/session', '/api/v1/patients/{id}/context']));
  });
  it('issues sessions of 15 minutes unless configured otherwise (HIPAA-04)', async () => {
    const defaults = createApp({ database, keys, sealer, logger: createLogger('info', new LogCapture()) });
    const res = await defaults.request('/auth/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ idToken: await idToken(), accessToken: ACCESS_TOKEN, iss: base, patient: 'pat1' }),
    });
    const body = (await res.json()) as SessionBody;
    expect(body.expiresIn).toBe(900);
    const { exp, iat } = JSON.parse(Buffer.from(body.token.split('.')[1]!, 'base64url').toString()) as {
      exp: number;
      iat: number;
    };
    expect(exp - iat).toBe(900);
  });
});
