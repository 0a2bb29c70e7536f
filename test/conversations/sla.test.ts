// SLA sweep: due times in business time, pauses while pending-*, notices exactly once even with
// two workers sweeping at the same moment (issue #6).
import {
  type Database,
  InboundService,
  runSlaSweep,
  type SlaNotification,
  schema,
  signWebhookPayload,
  TicketService,
  verifyWebhookSignature,
  webhookSlaNotifier,
} from '@fhirdesk/core';
import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTenant, openTestDatabase } from '../support/db';

let database: Database;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => {
  await database.close();
});

// Monday 23 Nov 2026, 09:00 UTC; the default calendar is Mon–Fri 08:00–18:00 UTC and a normal
// ticket's first response is due after 240 business minutes, i.e. 13:00, at risk from 12:00.
const created = new Date('2026-11-23T09:00:00Z');

async function inboundTicket(tenantId: string, id: string) {
  const inbound = new InboundService({ database, clock: { now: () => created } });
  const integration = { keyId: id, tenantId, name: 'gw', channels: ['email' as const] };
  return inbound.receive(integration, {
    channel: 'email',
    providerMessageId: id,
    from: { email: `${id}@example.org` },
    subject: 'Portal login',
    body: 'I cannot log in to the portal',
  });
}

const notifier = (sink: SlaNotification[]) => ({
  notify: async (n: SlaNotification) => {
    sink.push(n);
  },
});

describe('SLA sweep', () => {
  it('stores the first-response due time in business time when an inbound ticket opens', async () => {
    const tenantId = await createTestTenant(database);
    const res = await inboundTicket(tenantId, 'due-1');
    const [sla] = await database.db.select().from(schema.ticketSla).where(eq(schema.ticketSla.ticketId, res.ticketId));
    expect(sla?.firstResponseDueAt?.toISOString()).toBe('2026-11-23T13:00:00.000Z');
  });

  it('raises at-risk and breached exactly once each even when two sweeps run concurrently', async () => {
    const tenantId = await createTestTenant(database);
    const res = await inboundTicket(tenantId, 'once-1');
    const sink: SlaNotification[] = [];
    const at = (iso: string) =>
      Promise.all([
        runSlaSweep(database, new Date(iso), { tenantId, notifier: notifier(sink) }),
        runSlaSweep(database, new Date(iso), { tenantId, notifier: notifier(sink) }),
      ]);
    await at('2026-11-23T11:00:00Z');
    expect(sink).toHaveLength(0);
    await at('2026-11-23T12:30:00Z');
    await at('2026-11-23T12:45:00Z');
    await at('2026-11-23T13:30:00Z');
    await at('2026-11-23T13:30:00Z');
    const events = await database.db
      .select()
      .from(schema.ticketEvent)
      .where(eq(schema.ticketEvent.ticketId, res.ticketId));
    const notices = events.filter((e) => e.type === 'sla-at-risk' || e.type === 'sla-breached');
    expect(notices.map((e) => `${e.type}:${(e.data as { clock: string }).clock}`).sort()).toEqual([
      'sla-at-risk:first-response',
      'sla-breached:first-response',
    ]);
    expect(sink.map((n) => `${n.kind}:${n.clock}`).sort()).toEqual([
      'at-risk:first-response',
      'breached:first-response',
    ]);
  });

  it('raises nothing while the ticket waits on the patient: the clock is paused', async () => {
    const tenantId = await createTestTenant(database);
    const [user] = await database.db
      .insert(schema.appUser)
      .values({ tenantId, displayName: 'A', roles: ['agent'] })
      .returning();
    const res = await inboundTicket(tenantId, 'pause-1');
    const actor = { tenantId, userId: user!.id, kind: 'user' as const, roles: ['agent' as const] };
    const tickets = new TicketService({ database, clock: { now: () => new Date('2026-11-23T10:00:00Z') } });
    await tickets.transition(actor, res.ticketId, 'open');
    await tickets.transition(actor, res.ticketId, 'pending-patient');
    const sink: SlaNotification[] = [];
    await runSlaSweep(database, new Date('2026-11-23T14:00:00Z'), { tenantId, notifier: notifier(sink) });
    expect(sink).toHaveLength(0);
    const [sla] = await database.db
      .select()
      .from(schema.ticketSla)
      .where(inArray(schema.ticketSla.ticketId, [res.ticketId]));
    expect(sla?.paused).toBe(true);
  });

  it('posts a signed, PHI-free notice through the webhook notifier', async () => {
    const secret = 'notifier-secret';
    const seen: { body: string; signature: string | null }[] = [];
    const fakeFetch = (async (_url: string | URL | Request, init?: RequestInit) => {
      seen.push({ body: String(init?.body), signature: new Headers(init?.headers).get('x-fhirdesk-signature') });
      return new Response(null, { status: 204 });
    }) as typeof fetch;
    const notifier = webhookSlaNotifier({
      url: 'https://hooks.example/sla',
      sign: (raw, ts) => signWebhookPayload(raw, secret, ts),
      fetch: fakeFetch,
    });
    await notifier.notify({
      tenantId: 't',
      ticketId: 'x',
      ticketNumber: 1001,
      clock: 'resolution',
      kind: 'breached',
      dueAt: 'd',
      raisedAt: 'r',
    });
    expect(verifyWebhookSignature({ rawBody: seen[0]!.body, header: seen[0]!.signature, secrets: [secret] }).ok).toBe(
      true,
    );
    expect(JSON.parse(seen[0]!.body)).toMatchObject({ type: 'sla.breached', ticketNumber: 1001 });
  });
});
