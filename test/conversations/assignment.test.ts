// Automatic assignment (issue #6): round-robin and least-loaded among a queue's available agents,
// respecting language skills; decisions on the timeline; settings by supervisors only (HIPAA-01,
// HIPAA-06: skill changes are audited).
import { type Database, InboundService, schema } from '@fhirdesk/core';
import { and, asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, createTestUser, jsonRequest, type TestApp, type TestUser } from '../support/app';
import { createTestTenant, openTestDatabase, usingPostgres } from '../support/db';

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

interface Desk {
  tenantId: string;
  supervisor: TestUser;
  agents: TestUser[];
}

/** A tenant with a supervisor and agents named by their position in user-id order (the rotation order). */
async function desk(count: number): Promise<Desk> {
  const tenantId = await createTestTenant(database);
  const supervisor = await createTestUser(database, t.keys, tenantId, ['supervisor'], 'Supervisor');
  const agents: TestUser[] = [];
  for (let i = 0; i < count; i++)
    agents.push(await createTestUser(database, t.keys, tenantId, ['agent'], `Agent ${i}`));
  agents.sort((a, b) => (a.id < b.id ? -1 : 1));
  return { tenantId, supervisor, agents };
}

async function put(token: string, path: string, body: unknown) {
  const res = await t.app.request(`/api/v1/assignment${path}`, jsonRequest(token, 'PUT', body));
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function skills(d: Desk, agent: TestUser, body: Record<string, unknown>) {
  const res = await put(d.supervisor.token, `/agents/${agent.id}`, body);
  expect(res.status).toBe(200);
}

async function createTicket(d: Desk, body: Record<string, unknown> = {}) {
  const res = await t.app.request(
    '/api/v1/tickets',
    jsonRequest(d.supervisor.token, 'POST', {
      subject: 'Question about my bill',
      category: 'billing',
      channel: 'phone',
      queue: 'billing',
      ...body,
    }),
  );
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; assigneeId: string | null };
}

describe('assignment strategies', () => {
  it('round-robin hands tickets to the queue agents in turn and records the strategy on the timeline', async () => {
    const d = await desk(3);
    for (const a of d.agents) await skills(d, a, { queues: ['billing'], languages: ['en'], available: true });
    expect((await put(d.supervisor.token, '/queues/billing', { strategy: 'round-robin' })).status).toBe(200);

    const picks: (string | null)[] = [];
    for (let i = 0; i < 5; i++) picks.push((await createTicket(d)).assigneeId);
    const [a0, a1, a2] = d.agents.map((a) => a.id);
    expect(picks).toEqual([a0, a1, a2, a0, a1]);

    const ticketId = (await createTicket(d)).id;
    const [event] = await database.db
      .select()
      .from(schema.ticketEvent)
      .where(and(eq(schema.ticketEvent.ticketId, ticketId), eq(schema.ticketEvent.type, 'assigned')));
    expect(event?.data).toMatchObject({ from: null, to: a2, rule: 'auto', strategy: 'round-robin', queue: 'billing' });
  });

  it('least-loaded picks the agent with the fewest open tickets (resolved ones do not count)', async () => {
    const d = await desk(3);
    for (const a of d.agents) await skills(d, a, { queues: ['billing'], available: true });
    const [busy, medium, idle] = d.agents;
    // Load: busy 2 open, medium 1 open + 2 resolved, idle 0 open + 1 closed.
    const give = async (agent: TestUser, status: 'open' | 'resolved' | 'closed') => {
      await database.db.insert(schema.ticket).values({
        tenantId: d.tenantId,
        number: Math.floor(Math.random() * 1e9),
        subject: 'load',
        category: 'billing',
        channel: 'phone',
        status,
        queue: 'billing',
        assigneeId: agent.id,
        createdAt: new Date(),
        updatedAt: new Date(),
      });
    };
    await give(busy!, 'open');
    await give(busy!, 'open');
    await give(medium!, 'open');
    await give(medium!, 'resolved');
    await give(medium!, 'resolved');
    await give(idle!, 'closed');
    await put(d.supervisor.token, '/queues/billing', { strategy: 'least-loaded' });

    const first = await createTicket(d);
    expect(first.assigneeId).toBe(idle!.id); // 0 open
    const second = await createTicket(d);
    // idle and medium now have 1 each; the tie goes to the rotation after idle (wraps to medium).
    expect([medium!.id, idle!.id]).toContain(second.assigneeId);
    const third = await createTicket(d);
    expect(new Set([second.assigneeId, third.assigneeId])).toEqual(new Set([medium!.id, idle!.id]));
    // busy (2 open) got nothing while others had fewer.
    expect([first, second, third].map((x) => x.assigneeId)).not.toContain(busy!.id);
  });

  it('gives a Spanish ticket only to Spanish-speaking agents', async () => {
    const d = await desk(3);
    const [en, es, bilingual] = d.agents;
    await skills(d, en!, { queues: ['billing'], languages: ['en'], available: true });
    await skills(d, es!, { queues: ['billing'], languages: ['es-MX'], available: true });
    await skills(d, bilingual!, { queues: ['billing'], languages: ['en-US', 'es'], available: true });
    await put(d.supervisor.token, '/queues/billing', { strategy: 'round-robin' });
    const picks = new Set<string | null>();
    for (let i = 0; i < 4; i++) picks.add((await createTicket(d, { language: 'es' })).assigneeId);
    expect(picks).toEqual(new Set([es!.id, bilingual!.id]));
  });

  it('leaves a ticket unassigned (with the reason on the timeline) when no available agent speaks its language', async () => {
    const d = await desk(1);
    await skills(d, d.agents[0]!, { queues: ['billing'], languages: ['en'], available: true });
    await put(d.supervisor.token, '/queues/billing', { strategy: 'round-robin' });
    const created = await createTicket(d, { language: 'vi' });
    expect(created.assigneeId).toBeNull();
    const timeline = await t.app.request(
      `/api/v1/tickets/${created.id}/timeline`,
      jsonRequest(d.supervisor.token, 'GET'),
    );
    const items = ((await timeline.json()) as { items: { type: string; data: Record<string, unknown> }[] }).items;
    expect(items.find((e) => e.type === 'assigned')?.data).toMatchObject({
      to: null,
      reason: 'no-agent-speaks-language',
    });

    // With the queue's fallback on, any available agent of the queue takes it.
    await put(d.supervisor.token, '/queues/billing', { strategy: 'round-robin', languageFallback: true });
    expect((await createTicket(d, { language: 'vi' })).assigneeId).toBe(d.agents[0]!.id);
  });

  it('skips unavailable agents, agents of other queues and agents at their open-ticket cap', async () => {
    const d = await desk(4);
    const [away, other, capped, ready] = d.agents;
    await skills(d, away!, { queues: ['billing'], available: false });
    await skills(d, other!, { queues: ['pharmacy'], available: true });
    await skills(d, capped!, { queues: ['billing'], available: true, maxOpen: 0 });
    await skills(d, ready!, { queues: ['billing'], available: true });
    await put(d.supervisor.token, '/queues/billing', { strategy: 'round-robin' });
    for (let i = 0; i < 3; i++) expect((await createTicket(d)).assigneeId).toBe(ready!.id);
  });

  it('lets an agent go off and on shift themselves; off-shift agents get nothing (audited)', async () => {
    const d = await desk(2);
    const [first, second] = d.agents;
    for (const a of d.agents) await skills(d, a, { queues: ['billing'], available: true });
    await put(d.supervisor.token, '/queues/billing', { strategy: 'round-robin' });
    expect((await put(first!.token, '/me/availability', { available: false })).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await createTicket(d)).assigneeId).toBe(second!.id);
    expect((await put(first!.token, '/me/availability', { available: true })).status).toBe(200);
    expect((await createTicket(d)).assigneeId).toBe(first!.id);
    const audits = await database.db
      .select()
      .from(schema.auditEvent)
      .where(and(eq(schema.auditEvent.tenantId, d.tenantId), eq(schema.auditEvent.action, 'user.availability.change')));
    expect(audits).toHaveLength(2);
    // Without a skills row there is nothing to switch.
    expect((await put(d.supervisor.token, '/me/availability', { available: true })).status).toBe(404);
  });

  it('does nothing for a manual queue, a queue without a policy, or a ticket created with an assignee', async () => {
    const d = await desk(2);
    for (const a of d.agents) await skills(d, a, { queues: ['billing', 'general'], available: true });
    await put(d.supervisor.token, '/queues/billing', { strategy: 'manual' });
    expect((await createTicket(d)).assigneeId).toBeNull();
    expect((await createTicket(d, { queue: 'general' })).assigneeId).toBeNull();
    await put(d.supervisor.token, '/queues/billing', { strategy: 'round-robin' });
    expect((await createTicket(d, { assigneeId: d.agents[1]!.id })).assigneeId).toBe(d.agents[1]!.id);
  });

  it('assigns inbound tickets in the queue triage chose, by the detected language', async () => {
    const d = await desk(2);
    const [en, es] = d.agents;
    await skills(d, en!, { queues: ['billing'], languages: ['en'], available: true });
    await skills(d, es!, { queues: ['billing'], languages: ['es'], available: true });
    await put(d.supervisor.token, '/queues/billing', { strategy: 'round-robin' });
    const inbound = new InboundService({ database });
    const integration = { keyId: 'k', tenantId: d.tenantId, name: 'gw', channels: ['email' as const] };
    const res = await inbound.receive(integration, {
      channel: 'email',
      providerMessageId: 'es-1',
      from: { email: 'paciente@example.org' },
      subject: 'Pregunta sobre mi factura',
      body: 'Hola, tengo una pregunta sobre mi factura del hospital. No entiendo el cobro y quiero pagar mi saldo.',
    });
    const [row] = await database.db.select().from(schema.ticket).where(eq(schema.ticket.id, res.ticketId));
    expect(row?.queue).toBe('billing');
    expect(row?.language).toBe('es');
    expect(row?.assigneeId).toBe(es!.id);
  });
});

describe('re-assignment when the queue changes', () => {
  const assignedEvents = async (ticketId: string) =>
    (
      await database.db
        .select({ data: schema.ticketEvent.data })
        .from(schema.ticketEvent)
        .where(and(eq(schema.ticketEvent.ticketId, ticketId), eq(schema.ticketEvent.type, 'assigned')))
        .orderBy(asc(schema.ticketEvent.seq))
    ).map((e) => e.data);
  const assigneeOf = async (ticketId: string) =>
    (await database.db.select().from(schema.ticket).where(eq(schema.ticket.id, ticketId)))[0]!.assigneeId;
  const patch = async (d: Desk, ticketId: string, body: Record<string, unknown>) => {
    const current = (await database.db.select().from(schema.ticket).where(eq(schema.ticket.id, ticketId)))[0]!;
    const res = await t.app.request(
      `/api/v1/tickets/${ticketId}`,
      jsonRequest(d.supervisor.token, 'PATCH', body, { 'if-match': `W/"${current.version}"` }),
    );
    expect(res.status).toBe(200);
    return (await res.json()) as { assigneeId: string | null; queue: string };
  };

  it("an agent edit moving a ticket to a queue its assignee does not serve runs that queue's strategy, by language", async () => {
    const d = await desk(3);
    const [billingAgent, englishPharmacist, spanishPharmacist] = d.agents;
    await skills(d, billingAgent!, { queues: ['billing'], languages: ['en', 'es'], available: true });
    await skills(d, englishPharmacist!, { queues: ['pharmacy'], languages: ['en'], available: true });
    await skills(d, spanishPharmacist!, { queues: ['pharmacy'], languages: ['es'], available: true });
    await put(d.supervisor.token, '/queues/billing', { strategy: 'round-robin' });
    await put(d.supervisor.token, '/queues/pharmacy', { strategy: 'least-loaded' });

    const ticket = await createTicket(d, { language: 'es-MX' });
    expect(ticket.assigneeId).toBe(billingAgent!.id);
    const moved = await patch(d, ticket.id, { queue: 'pharmacy', category: 'prescription' });
    expect(moved).toMatchObject({ queue: 'pharmacy', assigneeId: spanishPharmacist!.id });
    expect(await assigneeOf(ticket.id)).toBe(spanishPharmacist!.id);
    expect((await assignedEvents(ticket.id)).at(-1)).toMatchObject({
      from: billingAgent!.id,
      to: spanishPharmacist!.id,
      rule: 'auto',
      strategy: 'least-loaded',
      queue: 'pharmacy',
      cause: 'queue-changed',
      previousQueue: 'billing',
      languageMatched: true,
    });
    const audits = await database.db
      .select({ detail: schema.auditEvent.detail })
      .from(schema.auditEvent)
      .where(and(eq(schema.auditEvent.entityId, ticket.id), eq(schema.auditEvent.action, 'ticket.assign')));
    expect(audits.map((a) => a.detail)).toContainEqual(
      expect.objectContaining({ assigneeId: spanishPharmacist!.id, strategy: 'least-loaded' }),
    );
  });

  it('keeps an assignee who serves the new queue, and unassigns (saying why) when nobody in it fits', async () => {
    const d = await desk(2);
    const [both, billingOnly] = d.agents;
    await skills(d, both!, { queues: ['billing', 'claims'], languages: ['en'], available: true });
    await skills(d, billingOnly!, { queues: ['billing'], languages: ['en'], available: true });
    await put(d.supervisor.token, '/queues/billing', { strategy: 'round-robin' });
    await put(d.supervisor.token, '/queues/claims', { strategy: 'round-robin' });
    await put(d.supervisor.token, '/queues/pharmacy', { strategy: 'round-robin' });

    const first = await createTicket(d, { language: 'en' });
    expect(first.assigneeId).toBe(both!.id);
    const before = (await assignedEvents(first.id)).length;
    expect((await patch(d, first.id, { queue: 'claims' })).assigneeId).toBe(both!.id);
    expect(await assignedEvents(first.id)).toHaveLength(before);

    // The routing correction API (agents fixing triage) takes the same path; pharmacy has nobody.
    const second = await createTicket(d, { language: 'en' });
    expect(second.assigneeId).toBe(billingOnly!.id);
    const res = await t.app.request(
      `/api/v1/conversations/tickets/${second.id}/routing`,
      jsonRequest(d.supervisor.token, 'PUT', { queue: 'pharmacy' }),
    );
    expect(res.status).toBe(200);
    expect(await assigneeOf(second.id)).toBeNull();
    expect((await assignedEvents(second.id)).at(-1)).toMatchObject({
      from: billingOnly!.id,
      to: null,
      queue: 'pharmacy',
      reason: 'no-agent-speaks-language',
      cause: 'queue-changed',
      previousQueue: 'billing',
    });

    // A queue without a policy leaves the assignment as it is.
    const third = await createTicket(d, { language: 'en' });
    const kept = third.assigneeId;
    expect((await patch(d, third.id, { queue: 'no-policy-queue' })).assigneeId).toBe(kept);
  });
});

describe('re-routing by a red-flag follow-up message', () => {
  it('moves a threaded conversation to the clinical-escalation queue, urgent, and assigns it there', async () => {
    const d = await desk(2);
    const [billingAgent, nurseLine] = d.agents;
    await skills(d, billingAgent!, { queues: ['billing'], languages: ['en'], available: true });
    await skills(d, nurseLine!, { queues: ['clinical-escalation'], languages: ['en'], available: true });
    await put(d.supervisor.token, '/queues/billing', { strategy: 'round-robin' });
    await put(d.supervisor.token, '/queues/clinical-escalation', { strategy: 'least-loaded' });
    const inbound = new InboundService({ database });
    const integration = { keyId: 'k', tenantId: d.tenantId, name: 'gw', channels: ['email' as const] };
    const first = await inbound.receive(integration, {
      channel: 'email',
      providerMessageId: 'bill-1',
      from: { email: 'sam@example.org' },
      subject: 'Question about my bill',
      body: 'I have a question about my hospital bill. I do not understand the charge and want to pay my balance.',
    });
    let [row] = await database.db.select().from(schema.ticket).where(eq(schema.ticket.id, first.ticketId));
    expect(row).toMatchObject({ queue: 'billing', assigneeId: billingAgent!.id });

    const followUp = await inbound.receive(integration, {
      channel: 'email',
      providerMessageId: 'bill-2',
      from: { email: 'sam@example.org' },
      subject: `Re: Question about my bill [T-${first.ticketNumber}]`,
      body: 'Also I have had chest pain since this morning and it is getting worse.',
    });
    expect(followUp).toMatchObject({ outcome: 'threaded', ticketId: first.ticketId });
    [row] = await database.db.select().from(schema.ticket).where(eq(schema.ticket.id, first.ticketId));
    expect(row).toMatchObject({ queue: 'clinical-escalation', priority: 'urgent', assigneeId: nurseLine!.id });
    const events = await database.db
      .select({ type: schema.ticketEvent.type, data: schema.ticketEvent.data })
      .from(schema.ticketEvent)
      .where(eq(schema.ticketEvent.ticketId, first.ticketId))
      .orderBy(asc(schema.ticketEvent.seq));
    const types = events.map((e) => e.type);
    expect(types.filter((t) => t === 'red-flag')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'triaged').at(-1)?.data).toMatchObject({
      cause: 'threaded-message',
      queue: 'clinical-escalation',
      priority: 'urgent',
      previous: { queue: 'billing' },
      ruleIds: [expect.stringMatching(/^red-flag:/)],
    });
    expect(events.filter((e) => e.type === 'assigned').at(-1)?.data).toMatchObject({
      from: billingAgent!.id,
      to: nurseLine!.id,
      cause: 'queue-changed',
      previousQueue: 'billing',
    });

    // A further red-flag message on the already-escalated ticket moves nothing again.
    await inbound.receive(integration, {
      channel: 'email',
      providerMessageId: 'bill-3',
      from: { email: 'sam@example.org' },
      subject: `Re: Question about my bill [T-${first.ticketNumber}]`,
      body: 'The chest pain is still there.',
    });
    const after = await database.db
      .select({ type: schema.ticketEvent.type })
      .from(schema.ticketEvent)
      .where(eq(schema.ticketEvent.ticketId, first.ticketId));
    expect(after.filter((e) => e.type === 'assigned')).toHaveLength(types.filter((t) => t === 'assigned').length);
    expect(after.filter((e) => e.type === 'triaged')).toHaveLength(types.filter((t) => t === 'triaged').length);
  });
});

describe('assignment settings API', () => {
  it('lets supervisors read and change skills, denies agents, and audits the change', async () => {
    const d = await desk(1);
    const agent = d.agents[0]!;
    const denied = await put(agent.token, `/agents/${agent.id}`, { queues: ['billing'], available: true });
    expect(denied.status).toBe(403);
    const bad = await put(d.supervisor.token, `/agents/${agent.id}`, { queues: ['Billing!'], available: true });
    expect(bad.status).toBe(400);
    const badStrategy = await put(d.supervisor.token, '/queues/billing', { strategy: 'random' });
    expect(badStrategy.status).toBe(400);
    await skills(d, agent, { queues: ['billing'], languages: ['es-MX'], available: true, maxOpen: 5 });
    const list = await t.app.request('/api/v1/assignment/agents', jsonRequest(d.supervisor.token, 'GET'));
    const items = ((await list.json()) as { items: Record<string, unknown>[] }).items;
    expect(items.find((i) => i.userId === agent.id)).toMatchObject({
      queues: ['billing'],
      languages: ['es-MX'],
      available: true,
      maxOpen: 5,
    });
    const audits = await database.db
      .select()
      .from(schema.auditEvent)
      .where(and(eq(schema.auditEvent.tenantId, d.tenantId), eq(schema.auditEvent.action, 'user.skills.change')));
    expect(audits).toHaveLength(1);
    // Another tenant's user is a 404.
    const other = await desk(0);
    expect((await put(other.supervisor.token, `/agents/${agent.id}`, { queues: [], available: false })).status).toBe(
      404,
    );
  });
});

describe.runIf(usingPostgres())('concurrent creates on PostgreSQL', () => {
  it('spreads concurrent round-robin creates evenly: every agent gets the same share', async () => {
    const d = await desk(3);
    for (const a of d.agents) await skills(d, a, { queues: ['billing'], available: true });
    await put(d.supervisor.token, '/queues/billing', { strategy: 'round-robin' });
    const created = await Promise.all(Array.from({ length: 12 }, () => createTicket(d)));
    const counts = new Map<string, number>();
    for (const c of created) counts.set(c.assigneeId!, (counts.get(c.assigneeId!) ?? 0) + 1);
    expect([...counts.values()]).toEqual([4, 4, 4]);
    // And in creation (ticket number) order the picks follow the rotation exactly.
    const rows = await database.db
      .select({ assigneeId: schema.ticket.assigneeId })
      .from(schema.ticket)
      .where(eq(schema.ticket.tenantId, d.tenantId))
      .orderBy(asc(schema.ticket.number));
    const ids = d.agents.map((a) => a.id);
    expect(rows.map((r) => r.assigneeId)).toEqual(Array.from({ length: 12 }, (_, i) => ids[i % 3]));
  });

  it('least-loaded under concurrent creates never overloads one agent', async () => {
    const d = await desk(3);
    for (const a of d.agents) await skills(d, a, { queues: ['billing'], available: true });
    await put(d.supervisor.token, '/queues/billing', { strategy: 'least-loaded' });
    const created = await Promise.all(Array.from({ length: 9 }, () => createTicket(d)));
    const counts = new Map<string, number>();
    for (const c of created) counts.set(c.assigneeId!, (counts.get(c.assigneeId!) ?? 0) + 1);
    expect([...counts.values()]).toEqual([3, 3, 3]);
  });
});
