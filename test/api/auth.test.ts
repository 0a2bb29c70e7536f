// Bearer tokens: missing, forged, expired, wrong algorithm and alg:none → 401; missing role → 403.
import { type Database, schema } from '@fhirdesk/core';
import { SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOKEN_AUDIENCE, TOKEN_ISSUER } from '../../packages/server/src/auth/tokens';
import {
  buildTestApp,
  createTenantWithAgent,
  createTestUser,
  jsonRequest,
  newTicket,
  TEST_SECRET,
  type TestApp,
  type TestUser,
} from '../support/app';
import { openTestDatabase } from '../support/db';
import { tenantRowCounts } from '../support/snapshot';

let database: Database;
let t: TestApp;
let agent: TestUser;

beforeAll(async () => {
  database = await openTestDatabase();
  t = buildTestApp(database);
  agent = await createTenantWithAgent(database, t.keys);
});
afterAll(async () => {
  await t.sealer.flush();
  await database.close();
});

const claims = () => ({ tid: agent.tenantId, roles: ['admin'], knd: 'user' });
const sign = (key: string, alg = 'HS256', exp: string | number = '5m') =>
  new SignJWT(claims())
    .setProtectedHeader({ alg })
    .setIssuer(TOKEN_ISSUER)
    .setAudience(TOKEN_AUDIENCE)
    .setSubject(agent.id)
    .setIssuedAt()
    .setExpirationTime(exp)
    .sign(new TextEncoder().encode(key));

async function expectUnauthorized(token: string | null, reason?: string) {
  const before = await tenantRowCounts(database, agent.tenantId);
  const res = await t.app.request('/api/v1/tickets', jsonRequest(token, 'POST', newTicket()));
  expect(res.status).toBe(401);
  expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
  const body = (await res.json()) as { reason?: string; detail: string };
  if (reason) expect(body.reason).toBe(reason);
  expect(await tenantRowCounts(database, agent.tenantId)).toEqual(before);
  return body;
}

describe('authentication', () => {
  it('requires a bearer token', async () => {
    expect((await expectUnauthorized(null, 'missing')).detail).toMatch(/Authorization: Bearer/);
  });

  it('refuses a token signed with another key', async () => {
    await expectUnauthorized(await sign('another-secret-another-secret-another-secret'), 'signature');
  });

  it('refuses an expired token', async () => {
    await expectUnauthorized(await sign(TEST_SECRET, 'HS256', Math.floor(Date.now() / 1000) - 60), 'expired');
  });

  it('refuses alg:none and other algorithms', async () => {
    const none = new UnsecuredJWT(claims())
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setSubject(agent.id)
      .setExpirationTime('5m')
      .encode();
    await expectUnauthorized(none);
    await expectUnauthorized(await sign(TEST_SECRET, 'HS512'), 'algorithm');
  });

  it('refuses a token for another audience and garbage', async () => {
    const wrongAud = await new SignJWT(claims())
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(TOKEN_ISSUER)
      .setAudience('someone-else')
      .setSubject(agent.id)
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(TEST_SECRET));
    await expectUnauthorized(wrongAud, 'claims');
    await expectUnauthorized('not.a.jwt', 'malformed');
  });
});

describe('authorisation', () => {
  it('answers 403 to a role without ticket rights, and audits the denial', async () => {
    const integration = await createTestUser(database, t.keys, agent.tenantId, ['integration'], 'EHR feed');
    const denialsBefore = await database.db.$count(schema.auditEvent);
    const res = await t.app.request('/api/v1/tickets', jsonRequest(integration.token, 'GET'));
    expect(res.status).toBe(403);
    expect(((await res.json()) as { requiredRoles: string[] }).requiredRoles).toEqual([
      'agent',
      'billing',
      'supervisor',
      'admin',
    ]);
    expect((await database.db.$count(schema.auditEvent)) - denialsBefore).toBe(1);
  });

  it('lets only admins verify the audit chain', async () => {
    expect((await t.app.request('/api/v1/audit/verify', jsonRequest(agent.token, 'POST'))).status).toBe(403);
    const admin = await createTestUser(database, t.keys, agent.tenantId, ['admin'], 'Admin');
    const res = await t.app.request('/api/v1/audit/verify', jsonRequest(admin.token, 'POST'));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, unsealed: 0 });
  });
});
