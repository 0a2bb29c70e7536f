// HIPAA-04 automatic logoff on the server: a launch session's token lasts the idle limit and is renewed only
// on the app's input, so an idle session is rejected with 401; renewals stop at the absolute lifetime.
import { randomUUID } from 'node:crypto';
import { AuditSealer, type Database, schema, verifyAuditChain } from '@fhirdesk/core';
import { and, asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../packages/server/src/app';
import { type TokenClaims, TokenKeys } from '../../packages/server/src/auth/tokens';
import { createLogger } from '../../packages/server/src/http/logger';
import { jsonRequest, LogCapture, TEST_SECRET } from '../support/app';
import { createTestTenant, openTestDatabase } from '../support/db';

let database: Database;
let keys: TokenKeys;
let sealer: AuditSealer;
let claims: TokenClaims;
const appWith = (smart: { sessionTtlSeconds?: number; sessionMaxSeconds?: number }) =>
  createApp({ database, keys, sealer, logger: createLogger('info', new LogCapture()), smart });

beforeAll(async () => {
  database = await openTestDatabase();
  keys = new TokenKeys(TEST_SECRET);
  sealer = new AuditSealer(database, { delayMs: 5 });
  const tenantId = await createTestTenant(database);
  const userId = randomUUID();
  await database.db.insert(schema.appUser).values({ id: userId, tenantId, displayName: 'Agent', roles: ['agent'] });
  claims = { tenantId, userId, roles: ['agent'], kind: 'user', patient: 'pat1' };
});
afterAll(async () => {
  await sealer.flush();
  await database.close();
});

const renew = (app: ReturnType<typeof appWith>, token: string) =>
  app.request('/auth/session/renew', jsonRequest(token, 'POST', {}));
const nowSeconds = () => Math.floor(Date.now() / 1000);

describe('session idle limit (HIPAA-04)', () => {
  it('renews an active launch session for the idle limit, keeping its claims', async () => {
    const app = appWith({ sessionTtlSeconds: 120 });
    const token = await keys.issue({ ...claims, sessionStart: nowSeconds() }, 120);
    const res = await renew(app, token);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { token: string; expiresIn: number };
    expect(body.expiresIn).toBe(120);
    expect(await keys.verify(body.token)).toMatchObject({ ...claims, sessionStart: expect.any(Number) });
  });

  it('rejects an idle session with 401: the token was not renewed within the idle limit', async () => {
    const app = appWith({ sessionTtlSeconds: 1 });
    const token = await keys.issue({ ...claims, sessionStart: nowSeconds() }, 1);
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const read = await app.request('/api/v1/patients/pat1/context', jsonRequest(token, 'GET'));
    expect(read.status).toBe(401);
    const again = await renew(app, token);
    expect(again.status).toBe(401);
    expect(((await again.json()) as { reason?: string }).reason).toBe('expired');
  });

  it('stops renewing at the absolute lifetime and caps the last renewal at it', async () => {
    const app = appWith({ sessionTtlSeconds: 900, sessionMaxSeconds: 3600 });
    const over = await keys.issue({ ...claims, sessionStart: nowSeconds() - 3601 }, 60);
    const refused = await renew(app, over);
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { reason?: string }).reason).toBe('session-lifetime');
    const nearEnd = await keys.issue({ ...claims, sessionStart: nowSeconds() - 3500 }, 60);
    const capped = (await (await renew(app, nearEnd)).json()) as { expiresIn: number };
    expect(capped.expiresIn).toBeLessThanOrEqual(100);
    expect(capped.expiresIn).toBeGreaterThan(90);
  });

  it('renews only launch sessions, not API or integration tokens', async () => {
    const app = appWith({});
    const apiToken = await keys.issue({ ...claims, patient: undefined }, 600);
    const res = await renew(app, apiToken);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { reason?: string }).reason).toBe('not-a-session');
  });

  it('audits each renewal and each refusal at the absolute lifetime like the other session events (HIPAA-06)', async () => {
    const tenantId = await createTestTenant(database);
    const userId = randomUUID();
    await database.db.insert(schema.appUser).values({ id: userId, tenantId, displayName: 'Agent', roles: ['agent'] });
    const mine = { ...claims, tenantId, userId };
    const app = appWith({ sessionTtlSeconds: 900, sessionMaxSeconds: 3600 });
    const ok = await app.request(
      '/auth/session/renew',
      jsonRequest(
        await keys.issue({ ...mine, sessionStart: nowSeconds() }, 60),
        'POST',
        {},
        { 'x-request-id': 'renew-1' },
      ),
    );
    expect(ok.status).toBe(200);
    expect((await renew(app, await keys.issue({ ...mine, sessionStart: nowSeconds() - 3601 }, 60))).status).toBe(401);
    // An API token is refused before any session exists: nothing to audit as a renewal.
    expect((await renew(app, await keys.issue({ ...mine, patient: undefined }, 60))).status).toBe(401);
    await sealer.flush();
    const rows = await database.db
      .select()
      .from(schema.auditEvent)
      .where(and(eq(schema.auditEvent.tenantId, tenantId), eq(schema.auditEvent.action, 'session.renew')))
      .orderBy(asc(schema.auditEvent.occurredAt));
    expect(rows.map((r) => [r.outcome, r.actorId, r.patientRef, r.entityType])).toEqual([
      ['success', userId, 'Patient/pat1', 'Session'],
      ['failure', userId, 'Patient/pat1', 'Session'],
    ]);
    expect(rows[0]!.requestId).toBe('renew-1');
    expect(rows[0]!.detail).toMatchObject({ fhirAction: 'E', expiresIn: 900 });
    expect(rows[1]!.detail).toMatchObject({ reason: 'session-lifetime' });
    // The renewal rows are sealed into the tenant's hash chain.
    const chain = await verifyAuditChain(database.db, tenantId);
    expect(chain).toMatchObject({ ok: true, unsealed: 0 });
  });
});
