// CSAT survey invitations reach the patient (issue #6, HIPAA-11): the survey job queues the link on the
// ticket's channel in the survey's own transaction; real SMTP and HTTP peers receive it through the
// reply queue; the URL carries no PHI; a rerun sends nothing more; phone tickets record "not sent".
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InProcessScheduler } from '@fhirdesk/connectors';
import {
  AuditSealer,
  createIntegrationKey,
  type Database,
  DeliveryService,
  deskMetrics,
  issueSurveysForResolved,
  schema,
} from '@fhirdesk/core';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../packages/server/src/app';
import { TokenKeys } from '../../packages/server/src/auth/tokens';
import { createLogger } from '../../packages/server/src/http/logger';
import { registerDeskJobs, SURVEY_TASK } from '../../packages/server/src/jobs/desk-jobs';
import { tenantTransports } from '../../packages/server/src/outbound/tenant-transports';
import { SurveyTokens, surveyLinkBuilder } from '../../packages/server/src/routes/surveys';
import { createTenantWithAgent, jsonRequest, LogCapture, TEST_SECRET, TEST_SECRET_KEY } from '../support/app';
import { openTestDatabase } from '../support/db';
import { startSmtp } from './smtp';
import { resolvedTicket } from './support';

const PUBLIC_URL = 'https://desk.clinic.example';
const surveyKey = new TextEncoder().encode('survey-delivery-key-survey-delivery-key');
const WEBHOOK_SECRET = 'survey-webhook-secret-0123456789';
let database: Database;
let app: ReturnType<typeof createApp>;
let keys: TokenKeys;
let sealer: AuditSealer;
const logs = new LogCapture();

beforeAll(async () => {
  database = await openTestDatabase();
  keys = new TokenKeys(TEST_SECRET);
  sealer = new AuditSealer(database, { delayMs: 5 });
  app = createApp({
    database,
    keys,
    logger: createLogger('info', logs),
    sealer,
    surveyKey,
    secretKey: TEST_SECRET_KEY,
  });
});
afterAll(async () => {
  await sealer.flush();
  // HIPAA-11: neither addresses nor message text reached the log stream.
  for (const phi of ['ana@example.org', '+15552019999', 'charged twice', 'receta']) {
    expect(logs.text()).not.toContain(phi);
  }
  await database.close();
});

/** The delivery worker, which alone signs survey links (as each invitation goes to the transport). */
const sender = (options: { withSurveyKey?: boolean } = {}) =>
  new DeliveryService({
    database,
    transports: tenantTransports(database, TEST_SECRET_KEY),
    policy: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
    random: () => 0,
    ...(options.withSurveyKey === false
      ? {}
      : { surveyLink: surveyLinkBuilder(new SurveyTokens(surveyKey), PUBLIC_URL) }),
  });

/** One run of the recurring survey job, as registered by the server, limited to this test's tenant. */
async function runSurveyJob(tenantId: string): Promise<void> {
  const errors: unknown[] = [];
  const scheduler = new InProcessScheduler(async () => {}, { onTaskError: (e) => errors.push(e) });
  await scheduler.start();
  try {
    await registerDeskJobs(scheduler, {
      database,
      tenantId,
      surveyInvitations: true,
    });
    expect(await scheduler.trigger(SURVEY_TASK)).not.toBeNull();
    await scheduler.idle();
  } finally {
    await scheduler.stop();
  }
  expect(errors).toEqual([]);
}

async function setup(outbound: Record<string, unknown>) {
  const agent = await createTenantWithAgent(database, keys, ['agent']);
  const key = await createIntegrationKey(
    database,
    agent.tenantId,
    {
      name: 'gateway',
      channels: ['email', 'sms'],
      hmac: true,
    },
    TEST_SECRET_KEY,
  );
  await database.db.update(schema.tenant).set({ settings: { outbound } }).where(eq(schema.tenant.id, agent.tenantId));
  return { agent, apiKey: key.apiKey! };
}

async function inbound(channel: string, apiKey: string, body: unknown) {
  const res = await app.request(`/inbound/${channel}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
    body: JSON.stringify(body),
  });
  expect(res.status).toBeLessThan(300);
  return (await res.json()) as { ticketId: string; ticketNumber: number };
}

async function resolve(token: string, ticketId: string) {
  for (const status of ['open', 'resolved']) {
    const res = await app.request(`/api/v1/tickets/${ticketId}/status`, jsonRequest(token, 'POST', { status }));
    expect(res.status).toBe(200);
  }
}

interface TimelineItem {
  id: string;
  type: string;
  direction: string | null;
  body: string | null;
  data: Record<string, unknown>;
  delivery?: { id: string; status: string };
}

/** HIPAA-07: no staff-facing response about the ticket carries the survey link or its token. */
async function expectNoStaffResponseContains(token: string, ticketId: string, secrets: string[]) {
  for (const path of [`/api/v1/tickets/${ticketId}`, `/api/v1/tickets/${ticketId}/timeline`, '/api/v1/tickets']) {
    const res = await app.request(path, jsonRequest(token, 'GET'));
    const text = await res.text();
    for (const secret of secrets) expect(text, path).not.toContain(secret);
  }
}

async function timeline(token: string, ticketId: string): Promise<TimelineItem[]> {
  const res = await app.request(`/api/v1/tickets/${ticketId}/timeline`, jsonRequest(token, 'GET'));
  expect(res.status).toBe(200);
  return ((await res.json()) as { items: TimelineItem[] }).items;
}

const surveyMessages = (items: TimelineItem[]) =>
  items.filter((e) => e.type === 'message' && e.direction === 'outbound' && e.data.survey);

const linkIn = (text: string) => {
  const match = /https:\/\/desk\.clinic\.example\/survey\/[A-Za-z0-9_.-]+/.exec(text);
  expect(match).not.toBeNull();
  return match![0];
};

/** Quoted-printable soft line breaks (`=\r\n`) and `=3D` would split or mangle a long URL. */
const decodeQp = (raw: string) =>
  raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(Number.parseInt(h, 16)));

describe('CSAT survey invitations', () => {
  it('emails the survey link through the reply queue; the link answers onto the timeline, carries no PHI and a rerun sends nothing', async () => {
    const smtp = await startSmtp();
    try {
      const { agent, apiKey } = await setup({
        email: {
          host: '127.0.0.1',
          port: smtp.port,
          secure: false,
          from: 'Desk <desk@clinic.example>',
          replyDomain: 'desk.example',
          timeoutMs: 2000,
        },
      });
      const ticket = await inbound('email', apiKey, {
        messageId: `<s-${Math.random()}@mail.example>`,
        from: 'Ana Lopez <ana@example.org>',
        to: ['desk@clinic.example'],
        subject: 'Charged twice for my visit',
        text: 'I was charged twice for my visit.',
      });
      await resolve(agent.token, ticket.ticketId);

      await runSurveyJob(agent.tenantId);
      const [queued] = surveyMessages(await timeline(agent.token, ticket.ticketId));
      // Queued in the survey's transaction; never "sent" before the SMTP server accepted it.
      expect(queued!.delivery).toMatchObject({ status: 'queued' });
      expect(smtp.received).toHaveLength(0);

      await sender().processDue();
      expect(smtp.received).toHaveLength(1);
      expect(smtp.received[0]!.to).toEqual(['ana@example.org']);
      const url = linkIn(decodeQp(smtp.received[0]!.raw));
      // Staff see that an invitation went out and until when, never the link (an agent holding it
      // could answer in the patient's name).
      expect(queued!.body).toMatch(/^CSAT survey invitation sent by email; .* expires \d{4}-/);
      const token = url.split('/survey/')[1]!;
      await expectNoStaffResponseContains(agent.token, ticket.ticketId, [token, '/survey/']);
      // The URL names no patient, address, ticket or subject: only a signed survey id.
      for (const phi of ['Ana', 'Lopez', 'ana@example.org', 'Charged', ticket.ticketId, String(ticket.ticketNumber)]) {
        expect(url).not.toContain(phi);
      }
      const [survey] = await database.db
        .select()
        .from(schema.survey)
        .where(eq(schema.survey.ticketId, ticket.ticketId));

      const items = await timeline(agent.token, ticket.ticketId);
      expect(items.find((e) => e.id === queued!.id)!.delivery).toMatchObject({ status: 'sent' });
      expect(items.filter((e) => e.type === 'delivery-status').map((e) => e.data)).toEqual([
        expect.objectContaining({ status: 'sent', deliveryId: queued!.delivery!.id }),
      ]);

      // A second run issues nothing and queues nothing.
      await runSurveyJob(agent.tenantId);
      await sender().processDue();
      expect(smtp.received).toHaveLength(1);
      expect(surveyMessages(await timeline(agent.token, ticket.ticketId))).toHaveLength(1);
      const deliveries = await database.db
        .select()
        .from(schema.outboundDelivery)
        .where(eq(schema.outboundDelivery.ticketId, ticket.ticketId));
      expect(deliveries).toHaveLength(1);

      // The patient opens the emailed link (its path, on this server) and answers once.
      const path = new URL(url).pathname;
      expect((await app.request(path)).status).toBe(200);
      const answered = await app.request(path, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'rating=5&nps=10&comment=Very+helpful',
      });
      expect(answered.status).toBe(201);
      // Single use: the same link answers no second time.
      const again = await app.request(path, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'rating=1',
      });
      expect(again.status).toBe(409);
      expect((await app.request(path)).status).toBe(409);
      await expectNoStaffResponseContains(agent.token, ticket.ticketId, [token, '/survey/']);
      const csat = (await timeline(agent.token, ticket.ticketId)).filter((e) => e.type === 'csat');
      expect(csat.map((e) => e.data)).toEqual([expect.objectContaining({ surveyId: survey!.id, rating: 5, nps: 10 })]);
      expect(csat[0]!.body).toBe('Very helpful');

      const audits = await database.db
        .select()
        .from(schema.auditEvent)
        .where(
          and(eq(schema.auditEvent.tenantId, agent.tenantId), eq(schema.auditEvent.action, 'ticket.survey.issue')),
        );
      expect(audits.map((a) => a.entityId)).toEqual([ticket.ticketId]);
    } finally {
      await smtp.close();
    }
  });

  describe('over the signed webhook transport', () => {
    let server: Server;
    let url: string;
    const posted: Record<string, unknown>[] = [];
    beforeAll(async () => {
      server = createServer((req: IncomingMessage, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
          posted.push(body);
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ messageId: `SM-${String(body.deliveryId)}` }));
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/send`;
    });
    afterAll(async () => {
      await new Promise<void>((r) => server.close(() => r()));
    });

    it('texts the link to the SMS sender in the ticket language', async () => {
      const { agent, apiKey } = await setup({ webhook: { url, secret: WEBHOOK_SECRET, channels: ['sms'] } });
      const ticket = await inbound('sms', apiKey, {
        messageId: `sms-${Math.random()}`,
        from: '+15552019999',
        body: 'Hola, ¿está lista mi receta? Necesito saber cuándo puedo recogerla, por favor. Gracias.',
      });
      await database.db.update(schema.ticket).set({ language: 'es' }).where(eq(schema.ticket.id, ticket.ticketId));
      // One agent reply, then resolution: a first-contact resolution, which the invitation must not spoil.
      const reply = await app.request(
        `/api/v1/tickets/${ticket.ticketId}/messages`,
        jsonRequest(agent.token, 'POST', { channel: 'sms', direction: 'outbound', body: 'Sí, ya está lista.' }),
      );
      expect(reply.status).toBe(201);
      await resolve(agent.token, ticket.ticketId);
      await runSurveyJob(agent.tenantId);
      const [queued] = surveyMessages(await timeline(agent.token, ticket.ticketId));
      await sender().processDue();
      const metrics = await deskMetrics(database, {
        tenantId: agent.tenantId,
        from: new Date(Date.now() - 3_600_000),
        to: new Date(Date.now() + 3_600_000),
      });
      expect(metrics.firstContactResolution).toMatchObject({ resolved: 1, firstContact: 1 });
      const mine = posted.filter((p) => p.deliveryId === queued!.delivery!.id);
      expect(mine).toHaveLength(1);
      expect(mine[0]).toMatchObject({ channel: 'sms', to: '+15552019999' });
      const body = String(mine[0]!.body);
      expect(body).toMatch(/^Gracias por contactarnos/);
      const path = new URL(linkIn(body)).pathname;
      expect(path).toMatch(/^\/survey\//);
      await expectNoStaffResponseContains(agent.token, ticket.ticketId, [path.split('/survey/')[1]!, '/survey/']);
      expect((await app.request(path)).status).toBe(200);
      expect(body).not.toContain('receta');
      const items = await timeline(agent.token, ticket.ticketId);
      expect(items.find((e) => e.id === queued!.id)!.delivery).toMatchObject({ status: 'sent' });
    });
  });

  it('issues the survey of a phone ticket without a message and records that no link was sent', async () => {
    const { agent } = await setup({});
    const row = await resolvedTicket(database, agent.tenantId, { channel: 'phone', subject: 'Question about a bill' });
    await runSurveyJob(agent.tenantId);
    const surveys = await database.db.select().from(schema.survey).where(eq(schema.survey.ticketId, row.id));
    expect(surveys).toHaveLength(1);
    const deliveries = await database.db
      .select()
      .from(schema.outboundDelivery)
      .where(eq(schema.outboundDelivery.ticketId, row.id));
    expect(deliveries).toEqual([]);
    const items = await timeline(agent.token, row.id);
    expect(items.filter((e) => e.type === 'message')).toEqual([]);
    expect(items.filter((e) => e.type === 'csat').map((e) => e.data)).toEqual([
      { surveyId: surveys[0]!.id, stage: 'issued', linkSent: false, reason: 'no-outbound-channel' },
    ]);
  });

  it('never sends an invitation without its link: a worker without the signing key fails it visibly', async () => {
    const { agent } = await setup({
      email: {
        host: '127.0.0.1',
        port: 9,
        secure: false,
        from: 'Desk <desk@clinic.example>',
        replyDomain: 'desk.example',
        timeoutMs: 500,
      },
    });
    const row = await resolvedTicket(database, agent.tenantId, { channel: 'email', subject: 'Refund' });
    const resolvedAt = row.resolvedAt!;
    await database.db.insert(schema.inboundMessage).values({
      tenantId: agent.tenantId,
      channel: 'email',
      providerMessageId: `<r-${Math.random()}@mail.example>`,
      sender: 'ana@example.org',
      ticketId: row.id,
      eventId: (
        await database.db
          .insert(schema.ticketEvent)
          .values({
            tenantId: agent.tenantId,
            ticketId: row.id,
            type: 'message',
            actorKind: 'integration',
            channel: 'email',
            direction: 'inbound',
            body: 'refund?',
            createdAt: resolvedAt,
          })
          .returning()
      )[0]!.id,
      outcome: 'created',
      receivedAt: resolvedAt,
    });
    const issued = await issueSurveysForResolved(database, new Date(), { tenantId: agent.tenantId, invite: true });
    expect(issued).toHaveLength(1);
    await sender({ withSurveyKey: false }).processDue();
    const [delivery] = await database.db
      .select()
      .from(schema.outboundDelivery)
      .where(eq(schema.outboundDelivery.ticketId, row.id));
    expect(delivery).toMatchObject({
      id: issued[0]!.deliveryId,
      status: 'failed',
      lastError: 'survey-link-unavailable',
    });
  });

  it('queues an invitation with no address anyway, so it fails visibly instead of vanishing', async () => {
    const { agent } = await setup({});
    const row = await resolvedTicket(database, agent.tenantId, { channel: 'email', subject: 'Refund' });
    const issued = await issueSurveysForResolved(database, new Date(), { tenantId: agent.tenantId, invite: true });
    expect(issued).toHaveLength(1);
    const [delivery] = await database.db
      .select()
      .from(schema.outboundDelivery)
      .where(eq(schema.outboundDelivery.ticketId, row.id));
    // No inbound message and no patient means no address.
    expect(delivery).toMatchObject({ id: issued[0]!.deliveryId, status: 'queued', recipient: null });
  });
});
