// Inbound channels end to end (issue #6, HIPAA-09): auth, de-duplication, threading, patient matching, triage.
import { createIntegrationKey, type Database, schema, signWebhookPayload } from '@fhirdesk/core';
import { and, asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, createTenantWithAgent, jsonRequest, TEST_SECRET_KEY, type TestApp } from '../support/app';
import { openTestDatabase } from '../support/db';
import { addSource, cachePatient } from './support';

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
  const source = await addSource(database, agent.tenantId);
  return { agent, key, source };
}

const post = (channel: string, apiKey: string, body: unknown) =>
  t.app.request(`/inbound/${channel}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
    body: JSON.stringify(body),
  });

async function eventsOf(ticketId: string) {
  // Timeline order (seq): without ORDER BY PostgreSQL may return rows in any order.
  return database.db
    .select()
    .from(schema.ticketEvent)
    .where(eq(schema.ticketEvent.ticketId, ticketId))
    .orderBy(asc(schema.ticketEvent.seq));
}

describe('inbound messages', () => {
  it('opens a triaged ticket for a new email and returns the same event when the provider retries', async () => {
    const { key } = await setup();
    const msg = {
      messageId: 'm-1',
      from: 'Ana <ana@example.org>',
      to: ['desk@clinic.example'],
      subject: 'Question about my bill',
      text: 'I was charged twice for my visit, please refund.',
    };
    const first = await post('email', key.apiKey!, msg);
    expect(first.status).toBe(201);
    const a = (await first.json()) as { outcome: string; ticketId: string; eventId: string };
    expect(a.outcome).toBe('created');
    const retry = await post('email', key.apiKey!, msg);
    expect(retry.status).toBe(200);
    const b = (await retry.json()) as { outcome: string; ticketId: string; eventId: string };
    expect(b).toMatchObject({ outcome: 'duplicate', ticketId: a.ticketId, eventId: a.eventId });
    const events = await eventsOf(a.ticketId);
    expect(events.filter((e) => e.type === 'message')).toHaveLength(1);
    const triaged = events.find((e) => e.type === 'triaged');
    expect((triaged!.data as { ruleIds: string[] }).ruleIds.length).toBeGreaterThan(0);
  });

  it('creates one ticket and one message when the provider delivers the same message twice at once', async () => {
    const { key } = await setup();
    const msg = { messageId: 'race-1', from: '+15552017777', body: 'Is my claim paid?' };
    const answers = await Promise.all([post('sms', key.apiKey!, msg), post('sms', key.apiKey!, msg)]);
    expect(answers.map((r) => r.status).sort()).toEqual([200, 201]);
    const bodies = (await Promise.all(answers.map((r) => r.json()))) as { ticketId: string; eventId: string }[];
    expect(bodies[0]!.eventId).toBe(bodies[1]!.eventId);
    const messages = (await eventsOf(bodies[0]!.ticketId)).filter((e) => e.type === 'message');
    expect(messages).toHaveLength(1);
  });

  it('threads a reply by reply token, by T-number from the same sender, and by sender within the window', async () => {
    const { key } = await setup();
    const first = (await (
      await post('email', key.apiKey!, {
        messageId: 'e-1',
        from: 'bo@example.org',
        subject: 'Bill question',
        text: 'Why is my bill so high?',
      })
    ).json()) as { ticketId: string; ticketNumber: number; replyToken: string };
    const byToken = (await (
      await post('email', key.apiKey!, {
        messageId: 'e-2',
        from: 'someone-else@example.org',
        to: [`reply+${first.replyToken}@desk.example`],
        subject: 'Re: Bill',
        text: 'more detail',
      })
    ).json()) as { ticketId: string; threadedBy: string };
    expect(byToken).toMatchObject({ ticketId: first.ticketId, threadedBy: 'reply-token' });
    const byNumber = (await (
      await post('email', key.apiKey!, {
        messageId: 'e-3',
        from: 'bo@example.org',
        subject: `Re: [T-${first.ticketNumber}]`,
        text: 'anything new on my refund?',
      })
    ).json()) as { ticketId: string; threadedBy: string };
    expect(byNumber).toMatchObject({ ticketId: first.ticketId, threadedBy: 'ticket-reference' });
    const byWindow = (await (
      await post('email', key.apiKey!, {
        messageId: 'e-4',
        from: 'BO@example.org',
        subject: 'again',
        text: 'My bill still shows the charge',
      })
    ).json()) as { ticketId: string; threadedBy: string };
    expect(byWindow).toMatchObject({ ticketId: first.ticketId, threadedBy: 'sender-window' });
  });

  it('does not thread a stranger who types another ticket number; a new ticket opens instead', async () => {
    const { key } = await setup();
    const first = (await (
      await post('email', key.apiKey!, {
        messageId: 's-1',
        from: 'cy@example.org',
        subject: 'Bill',
        text: 'Why is my bill so high?',
      })
    ).json()) as { ticketId: string; ticketNumber: number };
    const stranger = (await (
      await post('email', key.apiKey!, {
        messageId: 's-2',
        from: 'mallory@example.org',
        subject: `T-${first.ticketNumber}`,
        text: 'Prescription refill please',
      })
    ).json()) as { ticketId: string; outcome: string };
    expect(stranger.outcome).toBe('created');
    expect(stranger.ticketId).not.toBe(first.ticketId);
  });

  it('links the one patient whose telecom matches, and leaves several or no matches unmatched', async () => {
    const { key, agent, source } = await setup();
    await cachePatient(database, agent.tenantId, source, 'p-unique', [{ system: 'phone', value: '(555) 201-3344' }]);
    await cachePatient(database, agent.tenantId, source, 'p-twin-a', [
      { system: 'email', value: 'Family@Example.org' },
    ]);
    await cachePatient(database, agent.tenantId, source, 'p-twin-b', [
      { system: 'email', value: 'family@example.org' },
    ]);
    const unique = (await (
      await post('sms', key.apiKey!, {
        messageId: 'sms-1',
        from: '+1 555 201 3344',
        body: 'refill my prescription please',
      })
    ).json()) as { patient: unknown };
    expect(unique.patient).toEqual({ status: 'matched', reference: 'Patient/p-unique' });
    const ambiguous = (await (
      await post('email', key.apiKey!, {
        messageId: 'amb-1',
        from: 'family@example.org',
        subject: 'hello',
        text: 'question',
      })
    ).json()) as { patient: unknown; ticketId: string };
    expect(ambiguous.patient).toEqual({ status: 'ambiguous', reference: null });
    const none = (await (
      await post('email', key.apiKey!, {
        messageId: 'none-1',
        from: 'nobody@example.org',
        subject: 'hello',
        text: 'question',
      })
    ).json()) as { patient: unknown };
    expect(none.patient).toEqual({ status: 'unmatched', reference: null });
    const visible = (await eventsOf(ambiguous.ticketId)).find((e) => e.type === 'patient-unlinked');
    expect(visible?.data).toMatchObject({ reason: 'several-patients-match', candidates: 2 });

    // An agent resolves the ambiguity by hand.
    const res = await t.app.request(
      `/api/v1/conversations/tickets/${ambiguous.ticketId}/patient`,
      jsonRequest(agent.token, 'PUT', { patient: 'Patient/p-twin-b' }),
    );
    expect(res.status).toBe(200);
    // The caller is not verified yet, so the response withholds whom the agent linked (HIPAA-07).
    expect(await res.json()).toMatchObject({ patientRef: null, verification: 'required' });
    const [linked] = await database.db.select().from(schema.ticket).where(eq(schema.ticket.id, ambiguous.ticketId));
    expect(linked!.patientRef).toBe('Patient/p-twin-b');
  });

  it('routes a red-flag message to the urgent clinical-escalation queue with a safety prompt', async () => {
    const { key } = await setup();
    const res = (await (
      await post('chat', key.apiKey!, {
        messageId: 'c-1',
        conversationId: 'conv-9',
        body: 'I have crushing chest pain and cannot breathe',
      })
    ).json()) as { ticketId: string };
    const [row] = await database.db.select().from(schema.ticket).where(eq(schema.ticket.id, res.ticketId));
    expect(row).toMatchObject({ priority: 'urgent', queue: 'clinical-escalation' });
    const flag = (await eventsOf(res.ticketId)).find((e) => e.type === 'red-flag');
    expect(flag?.body).toMatch(/911/);
  });

  it('records an agent correction of the category or queue triage chose, once per ticket', async () => {
    const { key, agent } = await setup();
    const res = (await (
      await post('email', key.apiKey!, {
        messageId: 'r-1',
        from: 'dee@example.org',
        subject: 'Question',
        text: 'Why is my bill so high?',
      })
    ).json()) as { ticketId: string };
    const correct = (body: unknown) =>
      t.app.request(`/api/v1/conversations/tickets/${res.ticketId}/routing`, jsonRequest(agent.token, 'PUT', body));
    expect((await correct({ queue: 'complaints' })).status).toBe(200);
    expect((await correct({ category: 'complaint' })).status).toBe(200);
    const [triage] = await database.db
      .select()
      .from(schema.ticketTriage)
      .where(eq(schema.ticketTriage.ticketId, res.ticketId));
    expect(triage?.correctedAt).not.toBeNull();
    const corrections = (await eventsOf(res.ticketId)).filter((e) => e.type === 'routing-corrected');
    expect(corrections).toHaveLength(2);
    expect(corrections[0]!.data).toMatchObject({ changes: { queue: { to: 'complaints' } } });
  });

  it('lets an admin create a named integration key that then authenticates, and stores only its hash', async () => {
    const admin = await createTenantWithAgent(database, t.keys, ['admin']);
    const res = await t.app.request(
      '/api/v1/conversations/integration-keys',
      jsonRequest(admin.token, 'POST', { name: 'twilio', channels: ['sms'] }),
    );
    expect(res.status).toBe(201);
    const created = (await res.json()) as { id: string; apiKey: string };
    const [row] = await database.db
      .select()
      .from(schema.integrationKey)
      .where(eq(schema.integrationKey.id, created.id));
    expect(row?.keyHash).not.toContain(created.apiKey);
    expect((await post('sms', created.apiKey, { messageId: 'k-1', from: '+15552015555', body: 'hi' })).status).toBe(
      201,
    );
    expect(
      (
        await t.app.request(
          '/api/v1/conversations/integration-keys',
          jsonRequest(admin.token, 'POST', { name: 'twilio', channels: ['sms'], extra: true }),
        )
      ).status,
    ).toBe(400);
  });

  it('accepts a Twilio-style form-encoded SMS', async () => {
    const { key } = await setup();
    const form = new URLSearchParams({
      MessageSid: 'SM123',
      From: '+15552013399',
      To: '+15550000000',
      Body: 'Need to reschedule',
      NumMedia: '0',
    });
    const res = await t.app.request('/inbound/sms', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-api-key': key.apiKey! },
      body: form.toString(),
    });
    expect(res.status).toBe(201);
  });

  it('rejects unknown fields, a missing credential and a key not allowed on the channel', async () => {
    const { key, agent } = await setup();
    expect(
      (await post('sms', key.apiKey!, { messageId: 'x', from: '+15552013399', body: 'hi', extra: 1 })).status,
    ).toBe(400);
    expect(
      (
        await t.app.request('/inbound/sms', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        })
      ).status,
    ).toBe(401);
    const smsOnly = await createIntegrationKey(
      database,
      agent.tenantId,
      { name: 'sms-only', channels: ['sms'] },
      TEST_SECRET_KEY,
    );
    expect((await post('email', smsOnly.apiKey!, { messageId: 'y', from: 'a@example.org', text: 'x' })).status).toBe(
      403,
    );
  });

  it('verifies the HMAC signature over the raw body, refuses stale timestamps and replays (HIPAA-09)', async () => {
    const { key } = await setup();
    const raw = JSON.stringify({ messageId: 'sig-1', from: '+15552019999', body: 'hello' });
    const send = (signature: string, body = raw) =>
      t.app.request('/inbound/sms', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-fhirdesk-key-id': key.id, 'x-fhirdesk-signature': signature },
        body,
      });
    const now = Math.floor(Date.now() / 1000);
    const good = signWebhookPayload(raw, key.hmacSecret!, now);
    expect((await send(good, raw.replace('hello', 'hellO'))).status).toBe(401);
    expect((await send(signWebhookPayload(raw, key.hmacSecret!, now - 3600))).status).toBe(401);
    expect((await send(good)).status).toBe(201);
    const replay = await send(good);
    expect(replay.status).toBe(401);
    expect(((await replay.json()) as { reason?: string }).reason).toBe('replayed');
    const count = await database.db
      .select()
      .from(schema.inboundMessage)
      .where(and(eq(schema.inboundMessage.providerMessageId, 'sig-1')));
    expect(count).toHaveLength(1);
  });
});
