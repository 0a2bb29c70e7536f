// SLA webhook per tenant (issue #6): a tenant's own webhook (set by its admin, secret sealed) receives its
// notices signed with its secret; a tenant without one falls back to the deployment's webhook. Concurrent
// sweeps still post each at-risk / breached notice exactly once (a real receiver on 127.0.0.1 counts them).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type Database,
  InboundService,
  runSlaSweep,
  signWebhookPayload,
  verifyWebhookSignature,
  webhookSlaNotifier,
} from '@fhirdesk/core';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { tenantSlaNotifier } from '../../packages/server/src/jobs/desk-jobs';
import { buildTestApp, createTestUser, jsonRequest, TEST_SECRET_KEY, type TestApp } from '../support/app';
import { createTestTenant, openTestDatabase } from '../support/db';

const TENANT_SECRET = 'tenant-a-sla-secret-0123456789';
const TENANT_SECRET_2 = 'tenant-a-sla-secret-rotated-987';
const DEPLOYMENT_SECRET = 'deployment-sla-secret-0123456789';

let database: Database;
let t: TestApp;
let hook: Server;
let base: string;
const received: { path: string; body: Record<string, unknown>; signedBy: string[] }[] = [];

beforeAll(async () => {
  database = await openTestDatabase();
  t = buildTestApp(database);
  hook = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => {
      raw += chunk.toString('utf8');
    });
    req.on('end', () => {
      const header = req.headers['x-fhirdesk-signature'] as string | undefined;
      const signedBy = [TENANT_SECRET, TENANT_SECRET_2, DEPLOYMENT_SECRET].filter(
        (secret) => verifyWebhookSignature({ rawBody: raw, header, secrets: [secret] }).ok,
      );
      received.push({ path: req.url ?? '', body: JSON.parse(raw) as Record<string, unknown>, signedBy });
      setTimeout(() => res.writeHead(204).end(), 50);
    });
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(hook.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await t.sealer.flush();
  await new Promise<void>((resolve) => hook.close(() => resolve()));
  await database.close();
});

// Monday 09:00 UTC: first response due 13:00 (240 business minutes), at risk from 12:00.
const created = new Date('2026-11-23T09:00:00Z');

async function openTicket(tenantId: string, id: string) {
  const inbound = new InboundService({ database, clock: { now: () => created } });
  const result = await inbound.receive(
    { keyId: 'k', tenantId, name: 'gw', channels: ['email'] },
    {
      channel: 'email',
      providerMessageId: id,
      from: { email: `${id}@example.org` },
      subject: 'Portal login',
      body: 'I cannot log in to the portal',
    },
  );
  return result.ticketId;
}

it("posts each tenant's notices once: to its own webhook when set, else to the deployment's", async () => {
  const tenantA = await createTestTenant(database);
  const tenantB = await createTestTenant(database);
  const adminA = await createTestUser(database, t.keys, tenantA, ['admin'], 'Admin A');
  const set = await t.app.request(
    '/api/v1/channel-settings/sla-webhook',
    jsonRequest(adminA.token, 'PUT', { url: `${base}/tenant-a`, secret: TENANT_SECRET }),
  );
  expect(set.status).toBe(200);
  const setText = await set.text();
  expect(setText).not.toContain(TENANT_SECRET);
  expect(JSON.parse(setText).slaWebhook).toMatchObject({ origin: 'tenant', url: `${base}/tenant-a` });
  const stored = await database.query<{ t: string }>(
    sql`select (select settings::text from tenant where id = ${tenantA})
      || coalesce((select string_agg(s::text, '|') from tenant_secret s where tenant_id = ${tenantA}), '') as t`,
  );
  expect(stored[0]!.t).not.toContain(TENANT_SECRET);

  const ticketA = await openTicket(tenantA, 'sla-a');
  const ticketB = await openTicket(tenantB, 'sla-b');
  const notifier = tenantSlaNotifier({
    database,
    secretKey: TEST_SECRET_KEY,
    fallback: webhookSlaNotifier({
      url: `${base}/deployment`,
      sign: (raw, ts) => signWebhookPayload(raw, DEPLOYMENT_SECRET, ts),
    }),
  });
  // Two workers sweeping both tenants at the same moments (scoped per tenant: other test files share the DB).
  const sweepAll = async (at: string) => {
    const now = new Date(at);
    const results = await Promise.all(
      [tenantA, tenantB, tenantA, tenantB].map((tenantId) => runSlaSweep(database, now, { notifier, tenantId })),
    );
    expect(results.reduce((n, r) => n + r.notifyFailures, 0)).toBe(0);
  };
  await sweepAll('2026-11-23T12:30:00Z');
  await sweepAll('2026-11-23T12:31:00Z');
  await sweepAll('2026-11-23T13:30:00Z');
  await sweepAll('2026-11-23T13:31:00Z');

  const of = (ticketId: string) => received.filter((r) => r.body.ticketId === ticketId);
  expect(of(ticketA).map((r) => r.body.type)).toEqual(['sla.at-risk', 'sla.breached']);
  expect(of(ticketB).map((r) => r.body.type)).toEqual(['sla.at-risk', 'sla.breached']);
  expect(of(ticketA).every((r) => r.path === '/tenant-a' && r.signedBy.join() === TENANT_SECRET)).toBe(true);
  expect(of(ticketB).every((r) => r.path === '/deployment' && r.signedBy.join() === DEPLOYMENT_SECRET)).toBe(true);

  // Rotating the tenant's secret signs the next notice with the new one; removing the webhook falls back.
  const ticketA2 = await openTicket(tenantA, 'sla-a2');
  const rotate = await t.app.request(
    '/api/v1/channel-settings/sla-webhook',
    jsonRequest(adminA.token, 'PUT', { url: `${base}/tenant-a`, secret: TENANT_SECRET_2 }),
  );
  expect(rotate.status).toBe(200);
  await sweepAll('2026-11-23T12:30:00Z');
  expect(of(ticketA2).map((r) => [r.body.type, r.path, r.signedBy.join()])).toEqual([
    ['sla.at-risk', '/tenant-a', TENANT_SECRET_2],
  ]);
  const removed = await t.app.request('/api/v1/channel-settings/sla-webhook', jsonRequest(adminA.token, 'DELETE'));
  expect(((await removed.json()) as { slaWebhook: { origin: string } }).slaWebhook.origin).toBe('none');
  await sweepAll('2026-11-23T13:30:00Z');
  expect(of(ticketA2).map((r) => [r.body.type, r.path])).toEqual([
    ['sla.at-risk', '/tenant-a'],
    ['sla.breached', '/deployment'],
  ]);

  const bad = await t.app.request(
    '/api/v1/channel-settings/sla-webhook',
    jsonRequest(adminA.token, 'PUT', { url: `${base}/tenant-a` }),
  );
  expect(bad.status).toBe(400);
  expect(bad.headers.get('content-type')).toMatch(/problem\+json/);
});
