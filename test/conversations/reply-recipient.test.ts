// Replies on a ticket with no inbound message (issue #6; HIPAA-06 audited, HIPAA-11 never logged, HIPAA-07):
// the reply goes to the linked patient's own contact point from the cached Patient (email → telecom email;
// SMS → sms/phone, mobile preferred; rank and period respected). Which one was used is recorded on the
// delivery and audited by position, not value; with none, the agent gets a precise 422 and nothing is written.
import { randomUUID } from 'node:crypto';
import { type Database, DeliveryService, schema } from '@fhirdesk/core';
import { and, eq } from 'drizzle-orm';
import type { ContactPoint, Patient } from 'fhir/r4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tenantTransports } from '../../packages/server/src/outbound/tenant-transports';
import { cacheResources } from '../agent-view/cache-fixtures';
import {
  buildTestApp,
  createTenantWithAgent,
  jsonRequest,
  TEST_SECRET_KEY,
  type TestApp,
  type TestUser,
} from '../support/app';
import { openTestDatabase } from '../support/db';
import { startSmtp } from './smtp';
import { addSource } from './support';

let database: Database;
let t: TestApp;
const ADDRESSES = ['rosa.home@example.org', 'rosa.work@example.org', 'rosa.old@example.org', '+15552017788'];

beforeAll(async () => {
  database = await openTestDatabase();
  t = buildTestApp(database);
});
afterAll(async () => {
  await t.sealer.flush();
  // HIPAA-11: the contact point used is audited, never logged.
  for (const address of ADDRESSES) expect(t.logs.text()).not.toContain(address);
  await database.close();
});

const TELECOM: ContactPoint[] = [
  { system: 'phone', value: '(555) 201-7700', use: 'home', rank: 1 },
  { system: 'email', value: 'rosa.old@example.org', rank: 1, period: { end: '2020-01-01' } },
  { system: 'email', value: 'rosa.work@example.org', use: 'work', rank: 3 },
  { system: 'email', value: 'Rosa.Home@Example.org', use: 'home', rank: 2 },
  { system: 'phone', value: '555 201 7799', use: 'mobile', period: { start: '2999-01-01' } },
  { system: 'phone', value: '+1 (555) 201-7788', use: 'mobile', rank: 4 },
];

async function setup(telecom: ContactPoint[] = TELECOM) {
  const agent = await createTenantWithAgent(database, t.keys, ['agent']);
  const source = await addSource(database, agent.tenantId);
  const resource: Patient = { resourceType: 'Patient', id: 'pt-rosa', telecom };
  await cacheResources(database, agent.tenantId, source, [{ resource, patientId: 'pt-rosa' }], new Date());
  return agent;
}

async function phoneTicket(agent: TestUser, patient: string | null = 'Patient/pt-rosa') {
  const res = await t.app.request(
    '/api/v1/tickets',
    jsonRequest(agent.token, 'POST', { subject: 'Call about a bill', category: 'billing', channel: 'phone', patient }),
  );
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

const reply = (agent: TestUser, id: string, channel: string) =>
  t.app.request(
    `/api/v1/tickets/${id}/messages`,
    jsonRequest(agent.token, 'POST', { channel, direction: 'outbound', body: 'Your refund was issued today.' }),
  );

async function deliveriesOf(ticketId: string) {
  return database.db.select().from(schema.outboundDelivery).where(eq(schema.outboundDelivery.ticketId, ticketId));
}

async function messageAudits(tenantId: string) {
  return database.db
    .select()
    .from(schema.auditEvent)
    .where(and(eq(schema.auditEvent.tenantId, tenantId), eq(schema.auditEvent.action, 'ticket.message')));
}

describe('replies without an inbound message', () => {
  it("emails the patient's current, best-ranked address and audits which contact point it was", async () => {
    const smtp = await startSmtp();
    try {
      const agent = await setup();
      const outbound = {
        email: {
          host: '127.0.0.1',
          port: smtp.port,
          secure: false,
          from: 'Desk <desk@clinic.example>',
          replyDomain: 'desk.example',
          timeoutMs: 2000,
        },
      };
      await database.db
        .update(schema.tenant)
        .set({ settings: { outbound } })
        .where(eq(schema.tenant.id, agent.tenantId));
      const id = await phoneTicket(agent);
      const res = await reply(agent, id, 'email');
      expect(res.status).toBe(201);
      const text = await res.text();
      // The agent sees that the patient's home email was used, never the address itself.
      expect(JSON.parse(text)).toMatchObject({
        data: { delivery: { status: 'queued', to: { source: 'patient-telecom', system: 'email', use: 'home' } } },
      });
      for (const address of ADDRESSES) expect(text.toLowerCase()).not.toContain(address);

      // rank 1 has expired (period.end), so rank 2 wins over rank 3.
      const [delivery] = await deliveriesOf(id);
      expect(delivery).toMatchObject({ recipient: 'rosa.home@example.org', status: 'queued' });
      const [audit] = await messageAudits(agent.tenantId);
      expect(audit!.detail).toMatchObject({
        recipient: { source: 'patient-telecom', contactPoint: 'Patient/pt-rosa#telecom[3]', rank: 2 },
      });
      expect(JSON.stringify(audit!.detail)).not.toContain('@');

      await new DeliveryService({
        database,
        transports: tenantTransports(database, TEST_SECRET_KEY),
        policy: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 5 },
      }).processDue(50);
      expect(smtp.received.map((m) => m.to)).toContainEqual(['rosa.home@example.org']);
      expect((await deliveriesOf(id))[0]).toMatchObject({ status: 'sent' });
    } finally {
      await smtp.close();
    }
  });

  it('texts the current mobile number, not the better-ranked landline or a mobile not yet valid', async () => {
    const agent = await setup();
    const id = await phoneTicket(agent);
    const res = await reply(agent, id, 'sms');
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({
      data: { delivery: { to: { source: 'patient-telecom', system: 'phone', use: 'mobile' } } },
    });
    expect((await deliveriesOf(id))[0]).toMatchObject({ recipient: '+15552017788' });
    const [audit] = await messageAudits(agent.tenantId);
    expect(audit!.detail).toMatchObject({ recipient: { contactPoint: 'Patient/pt-rosa#telecom[5]' } });
  });

  it('still answers the inbound sender first when there is one', async () => {
    const agent = await setup();
    const id = await phoneTicket(agent);
    const [event] = await database.db
      .insert(schema.ticketEvent)
      .values({
        tenantId: agent.tenantId,
        ticketId: id,
        type: 'message',
        actorKind: 'integration',
        channel: 'sms',
        direction: 'inbound',
        body: 'hi',
        createdAt: new Date(),
      })
      .returning();
    await database.db.insert(schema.inboundMessage).values({
      tenantId: agent.tenantId,
      channel: 'sms',
      providerMessageId: `SM-${randomUUID()}`,
      sender: '+15552010000',
      ticketId: id,
      eventId: event!.id,
      outcome: 'threaded',
      receivedAt: new Date(),
    });
    const res = await reply(agent, id, 'sms');
    expect(await res.json()).toMatchObject({ data: { delivery: { to: { source: 'inbound-message' } } } });
    expect((await deliveriesOf(id))[0]).toMatchObject({ recipient: '+15552010000' });
  });

  it('refuses with a precise 422 and writes nothing when no recipient exists', async () => {
    const agent = await setup([{ system: 'phone', value: '555 201 7700', use: 'home' }]);
    const cases: { patient: string | null; channel: string; detail: RegExp }[] = [
      {
        patient: 'Patient/pt-rosa',
        channel: 'email',
        detail: /no inbound email message .* linked patient has no current email contact point/,
      },
      { patient: null, channel: 'sms', detail: /no inbound sms message .* no linked patient/ },
      { patient: 'Patient/pt-rosa', channel: 'chat', detail: /no inbound chat message .* can only answer one/ },
      { patient: 'Patient/not-cached', channel: 'email', detail: /linked patient is not in the cache/ },
    ];
    for (const c of cases) {
      const id = await phoneTicket(agent, c.patient);
      const before = await t.app.request(`/api/v1/tickets/${id}`, jsonRequest(agent.token, 'GET'));
      const version = ((await before.json()) as { version: number }).version;
      const res = await reply(agent, id, c.channel);
      expect(res.status, c.channel).toBe(422);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const problem = (await res.json()) as { type: string; detail: string; channel: string };
      expect(problem.type).toMatch(/\/no-recipient$/);
      expect(problem.detail).toMatch(c.detail);
      expect(problem.channel).toBe(c.channel);
      expect(problem.detail).not.toMatch(/pt-rosa|not-cached|555/);
      // No partial write: no delivery, no message event, no version bump.
      expect(await deliveriesOf(id)).toEqual([]);
      const after = await t.app.request(`/api/v1/tickets/${id}`, jsonRequest(agent.token, 'GET'));
      expect(((await after.json()) as { version: number }).version).toBe(version);
    }
  });
});
