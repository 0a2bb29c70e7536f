// Outbound replies (issue #6, HIPAA-09, HIPAA-11): real SMTP and HTTP peers receive them; delivery
// status is recorded, transient failures are retried, and a reply is never "sent" unless accepted.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createIntegrationKey,
  type Database,
  DeliveryService,
  schema,
  signWebhookPayload,
  verifyWebhookSignature,
} from '@fhirdesk/core';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tenantTransports } from '../../packages/server/src/outbound/tenant-transports';
import { buildTestApp, createTenantWithAgent, jsonRequest, TEST_SECRET_KEY, type TestApp } from '../support/app';
import { openTestDatabase } from '../support/db';
import { startSmtp } from './smtp';

let database: Database;
let t: TestApp;
const WEBHOOK_SECRET = 'outbound-webhook-secret-0123456789';

beforeAll(async () => {
  database = await openTestDatabase();
  t = buildTestApp(database);
});
afterAll(async () => {
  await t.sealer.flush();
  // HIPAA-11: no reply body, address or phone number reached the log stream.
  const logs = t.logs.text();
  for (const phi of ['refunded the duplicate', 'ana@example.org', '+15552017777', 'Your refill is ready']) {
    expect(logs).not.toContain(phi);
  }
  await database.close();
});

const worker = (maxAttempts = 3) =>
  new DeliveryService({
    database,
    transports: tenantTransports(database, TEST_SECRET_KEY),
    policy: { maxAttempts, baseDelayMs: 1, maxDelayMs: 5 },
    random: () => 0,
  });

function header(raw: string, name: string): string | undefined {
  const head = raw.split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, ' ');
  const line = head.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(name.length + 1).trim();
}

async function setTenantOutbound(tenantId: string, outbound: Record<string, unknown>) {
  await database.db.update(schema.tenant).set({ settings: { outbound } }).where(eq(schema.tenant.id, tenantId));
}

async function setup() {
  const agent = await createTenantWithAgent(database, t.keys, ['agent']);
  const key = await createIntegrationKey(
    database,
    agent.tenantId,
    {
      name: 'gateway',
      channels: ['email', 'sms', 'chat', 'portal'],
      hmac: true,
    },
    TEST_SECRET_KEY,
  );
  return { agent, key };
}

const inbound = async (channel: string, apiKey: string, body: unknown) =>
  (await (
    await t.app.request(`/inbound/${channel}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
      body: JSON.stringify(body),
    })
  ).json()) as { ticketId: string; ticketNumber: number; replyToken: string; outcome: string };

async function reply(token: string, ticketId: string, channel: string, body: string) {
  const res = await t.app.request(
    `/api/v1/tickets/${ticketId}/messages`,
    jsonRequest(token, 'POST', { channel, direction: 'outbound', body }),
  );
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; delivery: { id: string; status: string } };
}

async function deliveryOf(id: string) {
  const [row] = await database.db.select().from(schema.outboundDelivery).where(eq(schema.outboundDelivery.id, id));
  return row!;
}

async function timeline(token: string, ticketId: string) {
  const res = await t.app.request(`/api/v1/tickets/${ticketId}/timeline`, jsonRequest(token, 'GET'));
  return (
    (await res.json()) as {
      items: {
        id: string;
        type: string;
        data: Record<string, unknown>;
        delivery?: { status: string; providerMessageId: string | null; lastError: string | null };
      }[];
    }
  ).items;
}

const emailSettings = (port: number) => ({
  email: {
    host: '127.0.0.1',
    port,
    secure: false,
    from: 'Desk <desk@clinic.example>',
    replyDomain: 'desk.example',
    timeoutMs: 2000,
  },
});

async function emailTicket(apiKey: string) {
  return inbound('email', apiKey, {
    messageId: '<m-1@mail.example>',
    from: 'Ana <ana@example.org>',
    to: ['desk@clinic.example'],
    subject: 'Charged twice',
    text: 'I was charged twice for my visit.',
  });
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('email replies over SMTP', () => {
  it('queues the reply, sends it to a real SMTP server with threading headers and records sent', async () => {
    const smtp = await startSmtp();
    try {
      const { agent, key } = await setup();
      await setTenantOutbound(agent.tenantId, emailSettings(smtp.port));
      const ticket = await emailTicket(key.apiKey!);
      const sent = await reply(agent.token, ticket.ticketId, 'email', 'We refunded the duplicate charge.');
      expect(sent.delivery.status).toBe('queued');
      expect(smtp.received).toHaveLength(0);

      // Counts are not asserted: on PostgreSQL other test files share the queue.
      await worker().processDue();
      expect(smtp.received).toHaveLength(1);
      const mail = smtp.received[0]!;
      expect(mail.to).toEqual(['ana@example.org']);
      expect(mail.from).toBe('desk@clinic.example');
      expect(header(mail.raw, 'Reply-To')).toBe(`reply+${ticket.replyToken}@desk.example`);
      expect(header(mail.raw, 'Subject')).toBe(`Re: Charged twice [T-${ticket.ticketNumber}]`);
      expect(header(mail.raw, 'In-Reply-To')).toBe('<m-1@mail.example>');
      expect(header(mail.raw, 'References')).toBe('<m-1@mail.example>');
      expect(header(mail.raw, 'Message-ID')).toBe(`<${sent.delivery.id}@desk.example>`);
      expect(mail.raw).toContain('We refunded the duplicate charge.');

      const row = await deliveryOf(sent.delivery.id);
      expect(row).toMatchObject({ status: 'sent', attempts: 1, lastError: null });
      expect(row.providerMessageId).toBe(`<${sent.delivery.id}@desk.example>`);
      const events = await timeline(agent.token, ticket.ticketId);
      expect(events.find((e) => e.id === sent.id)!.delivery).toMatchObject({ status: 'sent' });
      expect(events.filter((e) => e.type === 'delivery-status').map((e) => e.data.status)).toEqual(['sent']);
      const audits = await database.db
        .select()
        .from(schema.auditEvent)
        .where(
          and(eq(schema.auditEvent.tenantId, agent.tenantId), eq(schema.auditEvent.action, 'ticket.reply.deliver')),
        );
      expect(audits.map((a) => a.outcome)).toEqual(['success']);

      // The patient's answer to the Reply-To address threads back onto the same ticket.
      const answer = await inbound('email', key.apiKey!, {
        messageId: '<m-2@mail.example>',
        from: 'ana@example.org',
        to: [`reply+${ticket.replyToken}@desk.example`],
        subject: `Re: Charged twice [T-${ticket.ticketNumber}]`,
        text: 'Thank you.',
      });
      expect(answer).toMatchObject({ outcome: 'threaded', ticketId: ticket.ticketId });
    } finally {
      await smtp.close();
    }
  });

  it('fails permanently when the SMTP server rejects the recipient (5xx), and retry-now queues it again', async () => {
    const smtp = await startSmtp({ rejectRcpt: true });
    try {
      const { agent, key } = await setup();
      await setTenantOutbound(agent.tenantId, emailSettings(smtp.port));
      const ticket = await emailTicket(key.apiKey!);
      const sent = await reply(agent.token, ticket.ticketId, 'email', 'We refunded the duplicate charge.');
      await worker().processDue();
      const row = await deliveryOf(sent.delivery.id);
      expect(row).toMatchObject({ status: 'failed', attempts: 1, lastError: 'smtp-550', sentAt: null });
      await worker().processDue();
      expect(await deliveryOf(sent.delivery.id)).toMatchObject({ status: 'failed', attempts: 1 });
      expect(smtp.received).toHaveLength(0);
      const events = await timeline(agent.token, ticket.ticketId);
      expect(events.find((e) => e.id === sent.id)!.delivery).toMatchObject({ status: 'failed', lastError: 'smtp-550' });

      const retried = await t.app.request(
        `/api/v1/tickets/${ticket.ticketId}/deliveries/${sent.delivery.id}/retry`,
        jsonRequest(agent.token, 'POST'),
      );
      expect(retried.status).toBe(200);
      expect(await retried.json()).toMatchObject({ status: 'queued', attempts: 0 });
      const again = await t.app.request(
        `/api/v1/tickets/${ticket.ticketId}/deliveries/${sent.delivery.id}/retry`,
        jsonRequest(agent.token, 'POST'),
      );
      expect(again.status).toBe(409);
    } finally {
      await smtp.close();
    }
  });

  it('retries while the SMTP server is down and sends once it is up', async () => {
    const port = await freePort();
    const { agent, key } = await setup();
    await setTenantOutbound(agent.tenantId, emailSettings(port));
    const ticket = await emailTicket(key.apiKey!);
    const sent = await reply(agent.token, ticket.ticketId, 'email', 'We refunded the duplicate charge.');
    await worker().processDue();
    expect(await deliveryOf(sent.delivery.id)).toMatchObject({
      status: 'queued',
      attempts: 1,
      lastError: 'connection-refused',
    });
    const smtp = await startSmtp({ port });
    try {
      await new Promise((r) => setTimeout(r, 20));
      // A new worker instance (as after a restart) picks the pending delivery up from the database.
      await worker().processDue();
      expect(await deliveryOf(sent.delivery.id)).toMatchObject({ status: 'sent', attempts: 2 });
      expect(smtp.received).toHaveLength(1);
    } finally {
      await smtp.close();
    }
  });

  it('never marks a reply sent when the tenant has no transport for the channel', async () => {
    const { agent, key } = await setup();
    const ticket = await emailTicket(key.apiKey!);
    const sent = await reply(agent.token, ticket.ticketId, 'email', 'We refunded the duplicate charge.');
    await worker().processDue();
    expect(await deliveryOf(sent.delivery.id)).toMatchObject({
      status: 'failed',
      lastError: 'no-transport-configured',
      sentAt: null,
    });
  });
});

describe('SMS and chat replies through the signed webhook transport', () => {
  let server: Server;
  let url: string;
  const requests: { body: string; signatureOk: boolean; deliveryId: string }[] = [];
  let plan: { status: number; headers?: Record<string, string> }[] = [];

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const verdict = verifyWebhookSignature({
          rawBody: body,
          header: req.headers['x-fhirdesk-signature'] as string | undefined,
          secrets: [WEBHOOK_SECRET],
        });
        const deliveryId = String(req.headers['x-fhirdesk-delivery-id']);
        requests.push({ body, signatureOk: verdict.ok, deliveryId });
        const next = plan.shift() ?? { status: 200 };
        res.writeHead(next.status, { 'content-type': 'application/json', ...(next.headers ?? {}) });
        res.end(next.status === 200 ? JSON.stringify({ messageId: `SM-${deliveryId}` }) : '{"error":"busy"}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/send`;
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
  });

  async function smsTicket() {
    const { agent, key } = await setup();
    await setTenantOutbound(agent.tenantId, { webhook: { url, secret: WEBHOOK_SECRET, channels: ['sms', 'chat'] } });
    const ticket = await inbound('sms', key.apiKey!, {
      messageId: `sms-${Math.random()}`,
      from: '+15552017777',
      body: 'Is my refill ready?',
    });
    return { agent, key, ticket };
  }

  it('posts a signed JSON reply, retries a 503 and records the provider message id, then takes a delivery receipt once', async () => {
    const { agent, key, ticket } = await smsTicket();
    requests.length = 0;
    plan = [{ status: 503 }];
    const sent = await reply(agent.token, ticket.ticketId, 'sms', 'Your refill is ready for pickup.');
    const w = worker();
    await w.processDue();
    expect(await deliveryOf(sent.delivery.id)).toMatchObject({ status: 'queued', lastError: 'http-503' });
    await new Promise((r) => setTimeout(r, 10));
    await w.processDue();
    const row = await deliveryOf(sent.delivery.id);
    expect(row).toMatchObject({ status: 'sent', attempts: 2, providerMessageId: `SM-${sent.delivery.id}` });
    expect(requests).toHaveLength(2);
    expect(requests.every((r) => r.signatureOk)).toBe(true);
    expect(JSON.parse(requests[1]!.body)).toMatchObject({
      deliveryId: sent.delivery.id,
      channel: 'sms',
      to: '+15552017777',
      body: 'Your refill is ready for pickup.',
      ticket: `T-${ticket.ticketNumber}`,
    });

    const receipt = (ts: number) => {
      const raw = JSON.stringify({ messageId: `SM-${sent.delivery.id}`, status: 'delivered' });
      return t.app.request('/inbound/sms/status', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-fhirdesk-key-id': key.id,
          'x-fhirdesk-signature': signWebhookPayload(raw, key.hmacSecret!, ts),
        },
        body: raw,
      });
    };
    const now = Math.floor(Date.now() / 1000);
    const first = await receipt(now);
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ status: 'delivered', changed: true });
    const second = await receipt(now - 1);
    expect(await second.json()).toMatchObject({ status: 'delivered', changed: false });
    const unsigned = await t.app.request('/inbound/sms/status', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messageId: `SM-${sent.delivery.id}`, status: 'failed' }),
    });
    expect(unsigned.status).toBe(401);
    const events = await timeline(agent.token, ticket.ticketId);
    expect(events.filter((e) => e.type === 'delivery-status').map((e) => e.data.status)).toEqual([
      'retry-scheduled',
      'sent',
      'delivered',
    ]);
  });

  it('honours Retry-After on 429 and fails permanently on other 4xx', async () => {
    const { agent, ticket } = await smsTicket();
    plan = [{ status: 429, headers: { 'retry-after': '120' } }, { status: 400 }];
    const a = await reply(agent.token, ticket.ticketId, 'sms', 'Your refill is ready for pickup.');
    const before = Date.now();
    await worker().processDue();
    const row = await deliveryOf(a.delivery.id);
    expect(row).toMatchObject({ status: 'queued', lastError: 'http-429' });
    expect(row.nextAttemptAt!.getTime()).toBeGreaterThanOrEqual(before + 119_000);
    const b = await reply(agent.token, ticket.ticketId, 'sms', 'Your refill is ready for pickup.');
    await worker().processDue();
    expect(await deliveryOf(b.delivery.id)).toMatchObject({ status: 'failed', lastError: 'http-400' });
  });

  it('sends each reply exactly once when two workers race for the queue', async () => {
    const { agent, ticket } = await smsTicket();
    requests.length = 0;
    plan = [];
    const ids: string[] = [];
    for (let i = 0; i < 6; i++)
      ids.push((await reply(agent.token, ticket.ticketId, 'sms', `Your refill is ready (${i}).`)).delivery.id);
    const [w1, w2] = [worker(), worker()];
    await Promise.all([w1.processDue(2), w2.processDue(2), w1.processDue(2), w2.processDue(2)]);
    while ((await w1.processDue(2)) > 0) {}
    const received = requests.map((r) => r.deliveryId).filter((id) => ids.includes(id));
    expect(received.sort()).toEqual([...ids].sort());
    for (const id of ids) expect((await deliveryOf(id)).status).toBe('sent');
  });
});
