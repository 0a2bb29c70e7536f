// Desk metrics against a hand-computed fixture set (definitions in docs/metrics.md).
import { randomUUID } from 'node:crypto';
import { type Database, schema } from '@fhirdesk/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, createTestUser, type TestApp } from '../support/app';
import { createTestTenant, openTestDatabase } from '../support/db';

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

const at = (hhmm: string, day = '2026-11-10') => new Date(`${day}T${hhmm}:00Z`);

async function fixture(tenantId: string) {
  let number = 1000;
  const make = async (
    v: Partial<typeof schema.ticket.$inferInsert> & Pick<typeof schema.ticket.$inferInsert, 'channel' | 'category'>,
  ) => {
    const [row] = await database.db
      .insert(schema.ticket)
      .values({ tenantId, number: ++number, subject: 's', createdAt: at('10:00'), updatedAt: at('10:00'), ...v })
      .returning();
    return row!;
  };
  const event = (
    ticketId: string,
    type: typeof schema.ticketEvent.$inferInsert.type,
    extra: Partial<typeof schema.ticketEvent.$inferInsert> = {},
  ) =>
    database.db
      .insert(schema.ticketEvent)
      .values({ tenantId, ticketId, type, actorKind: 'user', createdAt: at('10:05'), ...extra });
  const outbound = (ticketId: string) =>
    event(ticketId, 'message', { direction: 'outbound', channel: 'email', body: 'hi' });

  // T1: email/billing, answered after 10 min, resolved after 1 h with one reply: first-contact resolution.
  const t1 = await make({
    channel: 'email',
    category: 'billing',
    status: 'resolved',
    firstResponseAt: at('10:10'),
    resolvedAt: at('11:00'),
  });
  await outbound(t1.id);
  await event(t1.id, 'status-changed', { data: { from: 'open', to: 'resolved' } });
  // T2: sms/billing, answered after 30 min, resolved after 2 h with two replies.
  const t2 = await make({
    channel: 'sms',
    category: 'billing',
    status: 'resolved',
    firstResponseAt: at('10:30'),
    resolvedAt: at('12:00'),
  });
  await outbound(t2.id);
  await outbound(t2.id);
  await event(t2.id, 'status-changed', { data: { from: 'open', to: 'resolved' } });
  // T3: email/prescription, answered after 1 h, resolved, reopened, resolved again after 4 h.
  const t3 = await make({
    channel: 'email',
    category: 'prescription',
    status: 'resolved',
    firstResponseAt: at('11:00'),
    resolvedAt: at('14:00'),
  });
  await outbound(t3.id);
  await event(t3.id, 'status-changed', { data: { from: 'open', to: 'resolved' } });
  await event(t3.id, 'status-changed', { data: { from: 'resolved', to: 'open', reopened: true } });
  await event(t3.id, 'status-changed', { data: { from: 'open', to: 'resolved' } });
  // T4: chat/complaint in another queue, still open and unanswered.
  const t4 = await make({ channel: 'chat', category: 'complaint', queue: 'complaints', status: 'open' });
  // T5: created before the period: excluded everywhere.
  await make({ channel: 'phone', category: 'billing', status: 'open', createdAt: at('10:00', '2026-10-15') });

  for (const x of [t1, t2]) {
    await database.db.insert(schema.ticketSla).values({
      ticketId: x.id,
      tenantId,
      firstResponseDueAt: at('12:00'),
      resolutionDueAt: at('18:00'),
      ticketVersion: 1,
      computedAt: at('10:00'),
    });
  }
  await database.db.insert(schema.slaNotice).values({
    ticketId: t2.id,
    tenantId,
    clock: 'first-response',
    kind: 'breached',
    dueAt: at('10:20'),
    raisedAt: at('10:20'),
  });

  for (const x of [t1, t2, t4]) {
    await database.db.insert(schema.ticketTriage).values({
      ticketId: x.id,
      tenantId,
      category: x.category,
      queue: 'general',
      priority: 'normal',
      createdAt: at('10:00'),
      correctedAt: x.id === t2.id ? at('10:30') : null,
    });
  }
  // T4's queue was changed by an agent through the ordinary ticket update: also a correction.
  await event(t4.id, 'field-changed', { data: { changes: { queue: { from: 'general', to: 'complaints' } } } });

  await database.db.insert(schema.escalation).values([
    {
      tenantId,
      ticketId: t3.id,
      status: 'written-back',
      priority: 'urgent',
      taskId: 'x',
      createdAt: at('10:00'),
      updatedAt: at('10:00'),
    },
    { tenantId, ticketId: t4.id, status: 'queued', priority: 'urgent', createdAt: at('10:00'), updatedAt: at('10:00') },
  ]);
  const answer = (ticketId: string, rating: number, nps: number) => ({
    id: randomUUID(),
    tenantId,
    ticketId,
    channel: 'email' as const,
    resolutionAt: at('11:00'),
    issuedAt: at('11:00'),
    expiresAt: at('11:00', '2026-11-30'),
    usedAt: at('12:00'),
    rating,
    nps,
  });
  await database.db.insert(schema.survey).values([answer(t1.id, 5, 10), answer(t2.id, 3, 6), answer(t3.id, 4, 8)]);
}

describe('GET /api/v1/metrics', () => {
  it('computes every figure of the fixture as worked out by hand', async () => {
    const tenantId = await createTestTenant(database);
    await fixture(tenantId);
    const supervisor = await createTestUser(database, t.keys, tenantId, ['supervisor']);
    const res = await t.app.request('/api/v1/metrics?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z', {
      headers: { authorization: `Bearer ${supervisor.token}` },
    });
    expect(res.status).toBe(200);
    const m = (await res.json()) as Record<string, unknown>;
    expect(m).toMatchObject({
      tickets: 4,
      volumeByChannel: { email: 2, sms: 1, chat: 1 },
      volumeByCategory: { billing: 2, prescription: 1, complaint: 1 },
      volumeByQueue: { general: 3, complaints: 1 },
      volumeByAgent: { unassigned: 4 },
      // Resolved: T1, T2, T3; only T1 with one reply and no reopen.
      firstContactResolution: { resolved: 3, firstContact: 1 },
      // 600, 1800, 3600 s: median 1800; p90 = 1800 + 0.8 × 1800 (linear interpolation).
      timeToFirstResponse: { count: 3, medianSeconds: 1800, p90Seconds: 3240 },
      // 3600, 7200, 14400 s: median 7200; p90 = 7200 + 0.8 × 7200.
      timeToResolution: { count: 3, medianSeconds: 7200, p90Seconds: 12960 },
      sla: { tracked: 2, breached: 1, compliance: 0.5 },
      reopen: { resolved: 3, reopened: 1 },
      routing: { triaged: 3, corrected: 2 },
      escalations: { total: 2, writtenBack: 1, queued: 1 },
      csat: { answers: 3, average: 4, satisfied: 2 },
      nps: { answers: 3, promoters: 1, detractors: 1, score: 0 },
    });
    expect((m.firstContactResolution as { rate: number }).rate).toBeCloseTo(1 / 3);
    expect((m.routing as { accuracy: number }).accuracy).toBeCloseTo(1 / 3);
    expect((m.csat as { satisfactionRate: number }).satisfactionRate).toBeCloseTo(2 / 3);
  });

  it('filters by queue and refuses agents', async () => {
    const tenantId = await createTestTenant(database);
    await fixture(tenantId);
    const supervisor = await createTestUser(database, t.keys, tenantId, ['supervisor']);
    const agent = await createTestUser(database, t.keys, tenantId, ['agent']);
    const url = '/api/v1/metrics?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z&queue=complaints';
    const res = await t.app.request(url, { headers: { authorization: `Bearer ${supervisor.token}` } });
    expect(((await res.json()) as { tickets: number }).tickets).toBe(1);
    expect((await t.app.request(url, { headers: { authorization: `Bearer ${agent.token}` } })).status).toBe(403);
  });
});
