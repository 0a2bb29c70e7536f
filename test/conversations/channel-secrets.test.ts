// Channel secrets at rest (issue #6, BS-10, HIPAA-09): integration HMAC secrets and tenant transport secrets are
// sealed with the secret box, never returned or logged, set and rotated by admins through an audited API; the
// old secret stops working at rotation, and clear-text values from before sealing are converted.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createIntegrationKey,
  type Database,
  DeliveryService,
  schema,
  sealLegacySecrets,
  signWebhookPayload,
  verifyWebhookSignature,
} from '@fhirdesk/core';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tenantTransports } from '../../packages/server/src/outbound/tenant-transports';
import {
  buildTestApp,
  createTestUser,
  jsonRequest,
  TEST_SECRET_KEY,
  type TestApp,
  type TestUser,
} from '../support/app';
import { createTestTenant, openTestDatabase } from '../support/db';
import { startSmtp } from './smtp';

let database: Database;
let t: TestApp;
beforeAll(async () => {
  database = await openTestDatabase();
  t = buildTestApp(database);
});
afterAll(async () => {
  await t.sealer.flush();
  await database.close();
});

const SMTP_PASS_1 = 'smtp-password-one-9f3k2';
const SMTP_PASS_2 = 'smtp-password-two-7q1z8';
const HOOK_SECRET_1 = 'webhook-secret-number-one-0001';
const HOOK_SECRET_2 = 'webhook-secret-number-two-0002';

async function tenantWith() {
  const tenantId = await createTestTenant(database);
  const admin = await createTestUser(database, t.keys, tenantId, ['admin'], 'Admin');
  const agent = await createTestUser(database, t.keys, tenantId, ['agent'], 'Agent');
  return { tenantId, admin, agent };
}

const api = (user: TestUser, method: string, path: string, body?: unknown) =>
  t.app.request(`/api/v1/channel-settings${path}`, jsonRequest(user.token, method, body));

/** Everything the database holds about a tenant's channel configuration, as text. */
async function storedText(tenantId: string): Promise<string> {
  const rows = await database.query<{ t: string }>(
    sql`select coalesce((select settings::text from tenant where id = ${tenantId}), '')
      || coalesce((select string_agg(s::text, '|') from tenant_secret s where tenant_id = ${tenantId}), '')
      || coalesce((select string_agg(k::text, '|') from integration_key k where tenant_id = ${tenantId}), '')
      || coalesce((select string_agg(a.detail::text, '|') from audit_event a where tenant_id = ${tenantId}), '') as t`,
  );
  return rows[0]!.t;
}

const worker = () =>
  new DeliveryService({
    database,
    transports: tenantTransports(database, TEST_SECRET_KEY),
    policy: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 5 },
    random: () => 0,
  });

/** A ticket opened by an inbound message from the patient, so a reply has a recipient. */
async function ticketWithReply(agent: TestUser, channel: 'email' | 'sms') {
  const key = await createIntegrationKey(
    database,
    agent.tenantId,
    { name: `gw-${channel}`, channels: [channel] },
    TEST_SECRET_KEY,
  );
  const body =
    channel === 'email'
      ? {
          messageId: `<m-${Math.random()}@mail.example>`,
          from: 'ana@example.org',
          subject: 'Refill',
          text: 'Is it ready?',
        }
      : { messageId: `sms-${Math.random()}`, from: '+15552010000', body: 'Is it ready?' };
  const res = await t.app.request(`/inbound/${channel}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': key.apiKey! },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { ticketId: string }).ticketId;
}

async function sendReply(agent: TestUser, ticketId: string, channel: 'email' | 'sms') {
  const res = await t.app.request(
    `/api/v1/tickets/${ticketId}/messages`,
    jsonRequest(agent.token, 'POST', { channel, direction: 'outbound', body: 'Your refill is ready.' }),
  );
  expect(res.status).toBe(201);
  return res;
}

describe('tenant transport secrets', () => {
  let hook: Server;
  let hookUrl: string;
  const posts: { ok1: boolean; ok2: boolean }[] = [];
  beforeAll(async () => {
    hook = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString('utf8');
      });
      req.on('end', () => {
        const header = req.headers['x-fhirdesk-signature'] as string | undefined;
        const check = (secret: string) =>
          verifyWebhookSignature({ rawBody: body, header, secrets: [secret], now: new Date(), toleranceSeconds: 300 })
            .ok;
        posts.push({ ok1: check(HOOK_SECRET_1), ok2: check(HOOK_SECRET_2) });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ messageId: `SM-${posts.length}` }));
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/send`;
  });
  afterAll(async () => {
    await new Promise<void>((r) => hook.close(() => r()));
  });

  it('stores the SMTP password and webhook secret sealed, never returns them, and delivers with each rotated one', async () => {
    const { tenantId, admin, agent } = await tenantWith();
    const password = { current: SMTP_PASS_1 };
    const smtp = await startSmtp({ password });
    try {
      const email = {
        host: '127.0.0.1',
        port: smtp.port,
        from: 'Desk <desk@clinic.example>',
        replyDomain: 'desk.example',
        timeoutMs: 2000,
      };
      const put = await api(admin, 'PUT', '/outbound', {
        email: { ...email, auth: { user: 'desk', pass: SMTP_PASS_1 } },
        webhook: { url: hookUrl, secret: HOOK_SECRET_1, channels: ['sms'] },
      });
      expect(put.status).toBe(200);
      const putText = await put.text();
      const view = JSON.parse(putText) as {
        outbound: {
          email: { auth: { user: string; password: { hasSecret: boolean; fingerprint: string } } };
          webhook: { secret: { hasSecret: boolean; fingerprint: string } };
        };
      };
      expect(view.outbound.email.auth.password.hasSecret).toBe(true);
      expect(view.outbound.webhook.secret).toMatchObject({
        hasSecret: true,
        fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/),
      });
      const firstFingerprint = view.outbound.webhook.secret.fingerprint;
      const getText = await (await api(admin, 'GET', '')).text();
      for (const secret of [SMTP_PASS_1, HOOK_SECRET_1]) {
        expect(putText).not.toContain(secret);
        expect(getText).not.toContain(secret);
        expect(await storedText(tenantId)).not.toContain(secret);
      }

      // Email with the first password, SMS through the webhook signed with the first secret.
      const emailTicket = await ticketWithReply(agent, 'email');
      const first = (await (await sendReply(agent, emailTicket, 'email')).json()) as { delivery: { id: string } };
      const smsTicket = await ticketWithReply(agent, 'sms');
      const firstSms = (await (await sendReply(agent, smsTicket, 'sms')).json()) as { delivery: { id: string } };
      await worker().processDue();
      const status = async (id: string) =>
        (await database.db.select().from(schema.outboundDelivery).where(eq(schema.outboundDelivery.id, id)))[0]!;
      expect((await status(first.delivery.id)).status).toBe('sent');
      expect((await status(firstSms.delivery.id)).status).toBe('sent');
      expect(posts.at(-1)).toEqual({ ok1: true, ok2: false });

      // Rotation: the server now wants the second password; the receiver sees the second signature only.
      password.current = SMTP_PASS_2;
      const rotated = await api(admin, 'PUT', '/outbound', {
        email: { ...email, auth: { user: 'desk', pass: SMTP_PASS_2 } },
        webhook: { url: hookUrl, secret: HOOK_SECRET_2, channels: ['sms'] },
      });
      expect(rotated.status).toBe(200);
      const rotatedView = (await rotated.json()) as typeof view;
      expect(rotatedView.outbound.webhook.secret.fingerprint).not.toBe(firstFingerprint);
      const second = (await (await sendReply(agent, emailTicket, 'email')).json()) as { delivery: { id: string } };
      const secondSms = (await (await sendReply(agent, smsTicket, 'sms')).json()) as { delivery: { id: string } };
      await worker().processDue();
      expect((await status(second.delivery.id)).status).toBe('sent');
      expect((await status(secondSms.delivery.id)).status).toBe('sent');
      expect(posts.at(-1)).toEqual({ ok1: false, ok2: true });
      expect(smtp.received).toHaveLength(2);

      // Keeping the stored secrets: a PUT without them changes settings only.
      const keep = await api(admin, 'PUT', '/outbound', {
        email: { ...email, timeoutMs: 3000, auth: { user: 'desk' } },
        webhook: { url: hookUrl, channels: ['sms', 'chat'] },
      });
      expect(((await keep.json()) as typeof view).outbound.webhook.secret.fingerprint).toBe(
        rotatedView.outbound.webhook.secret.fingerprint,
      );

      const text = await storedText(tenantId);
      for (const secret of [SMTP_PASS_1, SMTP_PASS_2, HOOK_SECRET_1, HOOK_SECRET_2]) expect(text).not.toContain(secret);
      await t.sealer.flush();
      for (const secret of [SMTP_PASS_1, SMTP_PASS_2, HOOK_SECRET_1, HOOK_SECRET_2]) {
        expect(t.logs.text()).not.toContain(secret);
      }
      const audits = await database.db
        .select({ action: schema.auditEvent.action, detail: schema.auditEvent.detail })
        .from(schema.auditEvent)
        .where(eq(schema.auditEvent.tenantId, tenantId));
      const changes = audits.filter((a) => a.action === 'tenant.channel-settings.change');
      expect(changes).toHaveLength(3);
      expect(changes.map((c) => c.detail)).toContainEqual(
        expect.objectContaining({
          section: 'outbound',
          secretsRotated: ['outbound.email.password', 'outbound.webhook.secret'],
        }),
      );
    } finally {
      await smtp.close();
    }
  });

  it('refuses bad input with problem+json and writes nothing; only admins may read or change', async () => {
    const { tenantId, admin, agent } = await tenantWith();
    const before = await storedText(tenantId);
    const cases: [unknown, string][] = [
      [{ webhook: { url: 'http://127.0.0.1:1/x', channels: ['sms'] } }, 'webhook.secret'],
      [{ webhook: { url: 'ftp://host/x', secret: HOOK_SECRET_1, channels: ['sms'] } }, 'webhook.url'],
      [{ webhook: { url: 'http://127.0.0.1:1/x', secret: 'short', channels: ['sms'] } }, 'webhook.secret'],
      [{ email: { host: 'h', port: 25, from: 'a@b', replyDomain: 'd', auth: { user: 'u' } } }, 'email.auth.pass'],
      [{ sms: {} }, ''],
    ];
    for (const [body, field] of cases) {
      const res = await api(admin, 'PUT', '/outbound', body);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
      const doc = (await res.json()) as { errors?: { field: string }[] };
      if (field) expect(doc.errors?.map((e) => e.field)).toContain(field);
    }
    expect(await storedText(tenantId)).toBe(before);
    expect((await api(agent, 'GET', '')).status).toBe(403);
    expect((await api(agent, 'PUT', '/sla-webhook', { url: hookUrl, secret: HOOK_SECRET_1 })).status).toBe(403);
  });
});

describe('integration key secrets', () => {
  const send = (keyId: string, secret: string, raw: string) =>
    t.app.request('/inbound/portal', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-fhirdesk-key-id': keyId,
        'x-fhirdesk-signature': signWebhookPayload(raw, secret, Math.floor(Date.now() / 1000)),
      },
      body: raw,
    });
  const message = (n: number) =>
    JSON.stringify({ messageId: `portal-${n}-${Math.random()}`, from: { email: 'p@example.org' }, body: 'Question' });

  it('seals the HMAC secret, lists only its fingerprint, and refuses the old secret after rotation', async () => {
    const { tenantId, admin } = await tenantWith();
    const created = await api(admin, 'POST', '/integration-keys', { name: 'portal', channels: ['portal'], hmac: true });
    expect(created.status).toBe(201);
    const key = (await created.json()) as { id: string; apiKey: string; hmacSecret: string };
    expect(key.hmacSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const [row] = await database.db.select().from(schema.integrationKey).where(eq(schema.integrationKey.id, key.id));
    expect(row!.hmacSecret).toMatch(/^v1\./);
    expect(await storedText(tenantId)).not.toContain(key.hmacSecret);
    expect(await storedText(tenantId)).not.toContain(key.apiKey);

    expect((await send(key.id, key.hmacSecret, message(1))).status).toBe(201);
    const listText = await (await api(admin, 'GET', '/integration-keys')).text();
    expect(listText).not.toContain(key.hmacSecret);
    expect(JSON.parse(listText).items[0]).toMatchObject({ name: 'portal', hasApiKey: true, hmac: { hasSecret: true } });

    // Rotate to a generated secret: shown once; the old one is refused at once.
    const rotated = await api(admin, 'POST', `/integration-keys/${key.id}/rotate`, { hmac: true, apiKey: false });
    expect(rotated.status).toBe(200);
    const next = (await rotated.json()) as { hmacSecret: string; apiKey: string | null; key: { rotatedAt: string } };
    expect(next.apiKey).toBeNull();
    expect(next.hmacSecret).not.toBe(key.hmacSecret);
    expect((await send(key.id, key.hmacSecret, message(2))).status).toBe(401);
    expect((await send(key.id, next.hmacSecret, message(3))).status).toBe(201);

    // Rotate to a secret the admin chose: stored sealed, never echoed.
    const chosen = 'admin-chosen-hmac-secret-0123456789abcdef';
    const own = await api(admin, 'POST', `/integration-keys/${key.id}/rotate`, { hmacSecret: chosen, apiKey: true });
    const ownText = await own.text();
    expect(own.status).toBe(200);
    expect(ownText).not.toContain(chosen);
    const ownBody = JSON.parse(ownText) as { apiKey: string; hmacSecret: null };
    expect(ownBody.hmacSecret).toBeNull();
    expect((await send(key.id, next.hmacSecret, message(4))).status).toBe(401);
    expect((await send(key.id, chosen, message(5))).status).toBe(201);
    // The old API key is refused, the new one works.
    const byKey = (apiKey: string) =>
      t.app.request('/inbound/portal', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
        body: message(6),
      });
    expect((await byKey(key.apiKey)).status).toBe(401);
    expect((await byKey(ownBody.apiKey)).status).toBe(201);

    for (const secret of [key.hmacSecret, next.hmacSecret, chosen]) {
      expect(await storedText(tenantId)).not.toContain(secret);
    }
    await t.sealer.flush();
    expect(t.logs.text()).not.toContain(chosen);
    const actions = (
      await database.db
        .select({ action: schema.auditEvent.action })
        .from(schema.auditEvent)
        .where(eq(schema.auditEvent.tenantId, tenantId))
    ).map((a) => a.action);
    expect(actions.filter((a) => a === 'integration-key.rotate')).toHaveLength(2);
    expect(actions).toContain('integration-key.create');

    const bad = await api(admin, 'POST', `/integration-keys/${key.id}/rotate`, { hmac: true, hmacSecret: chosen });
    expect(bad.status).toBe(400);
    expect((await api(admin, 'POST', `/integration-keys/${key.id}/rotate`, { hmacSecret: 'short' })).status).toBe(400);
    const other = await tenantWith();
    expect((await api(other.admin, 'POST', `/integration-keys/${key.id}/rotate`, { hmac: true })).status).toBe(404);
  });

  it('seals clear-text secrets left from before sealing, at start-up and on first use', async () => {
    const { tenantId } = await tenantWith();
    const legacySecret = 'legacy-clear-hmac-secret-0123456789';
    const [legacyKey] = await database.db
      .insert(schema.integrationKey)
      .values({ tenantId, name: 'legacy', hmacSecret: legacySecret, channels: ['portal'] })
      .returning();
    // First use before the start-up pass ran: verified with the clear value, then sealed in place.
    expect((await send(legacyKey!.id, legacySecret, message(7))).status).toBe(201);
    expect(await storedText(tenantId)).not.toContain(legacySecret);
    expect((await send(legacyKey!.id, legacySecret, message(8))).status).toBe(201);

    await database.db
      .update(schema.tenant)
      .set({
        settings: {
          outbound: {
            email: {
              host: 'h',
              port: 25,
              from: 'a@b.example',
              replyDomain: 'd',
              auth: { user: 'u', pass: SMTP_PASS_1 },
            },
            webhook: { url: 'http://127.0.0.1:1/x', secret: HOOK_SECRET_1, channels: ['sms'] },
          },
          slaWebhook: { url: 'http://127.0.0.1:1/sla', secret: HOOK_SECRET_2 },
        },
      })
      .where(eq(schema.tenant.id, tenantId));
    const sealed = await sealLegacySecrets(database, TEST_SECRET_KEY);
    expect(sealed.tenants).toBeGreaterThanOrEqual(1);
    const text = await storedText(tenantId);
    for (const secret of [SMTP_PASS_1, HOOK_SECRET_1, HOOK_SECRET_2]) expect(text).not.toContain(secret);
    const resolve = tenantTransports(database, TEST_SECRET_KEY);
    expect(await resolve(tenantId, 'sms')).not.toBeNull();
    // Idempotent: a second start seals nothing of this tenant again.
    const again = await sealLegacySecrets(database, TEST_SECRET_KEY);
    expect(again.integrationKeys).toBe(0);
  });
});
