// /api/v1/disputes and /api/v1/claims/{type}/{id}/summary: CRUD, stage moves and timeline, work queue,
// CSV export, and minimum necessary by role (HIPAA-07, VIEW-03, FIN-11, FIN-21, AUD-04).
import { type Database, schema } from '@fhirdesk/core';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildTestApp,
  createTenantWithAgent,
  createTestUser,
  jsonRequest,
  type TestApp,
  type TestUser,
} from '../support/app';
import { openTestDatabase } from '../support/db';
import { cache, claimContext, createEhrSource, deniedEob } from './support';

let database: Database;
let t: TestApp;
beforeAll(async () => {
  database = await openTestDatabase();
  t = buildTestApp(database);
});
afterAll(async () => {
  await t.sealer.flush?.();
  await database.close();
});

interface Desk {
  billing: TestUser;
  agent: TestUser;
  supervisor: TestUser;
  sourceId: string;
}

async function desk(): Promise<Desk> {
  const billing = await createTenantWithAgent(database, t.keys, ['billing']);
  const agent = await createTestUser(database, t.keys, billing.tenantId, ['agent']);
  const supervisor = await createTestUser(database, t.keys, billing.tenantId, ['supervisor']);
  const sourceId = await createEhrSource(database, billing.tenantId);
  await cache(database, billing.tenantId, sourceId, [...claimContext(), deniedEob('50')]);
  return { billing, agent, supervisor, sourceId };
}

const call = (user: TestUser | null, method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
  t.app.request(path, jsonRequest(user?.token ?? null, method, body, headers));

async function openDispute(user: TestUser, body: Record<string, unknown>) {
  const res = await call(user, 'POST', '/api/v1/disputes', body);
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as Record<string, unknown> & { ticketId: string; version: number };
}

describe('claim dispute records', () => {
  it('creates a dispute ticket linked to claim, EOB, coverage and patient with amount, payer and deadline', async () => {
    const d = await desk();
    const created = await openDispute(d.billing, {
      claim: 'Claim/100150',
      adjudication: 'ExplanationOfBenefit/EB3500',
      reasonCategory: 'denied',
      disputedAmount: '135.57',
      payerName: 'Benefits Inc',
    });
    expect(created).toMatchObject({
      view: 'full',
      claim: 'Claim/100150',
      adjudication: 'ExplanationOfBenefit/EB3500',
      patient: 'Patient/pat1',
      disputedAmount: { value: '135.57', minor: 13557, currency: 'USD' },
      stage: 'intake',
      adjudicationDate: '2024-03-01',
      origin: 'manual',
      queue: 'billing',
    });
    expect((created.appealDeadline as { deadline: string }).deadline).toMatch(/^2024-/);
    const ticket = await call(d.billing, 'GET', `/api/v1/tickets/${created.ticketId}`);
    const body = (await ticket.json()) as { category: string; links: { role: string }[] };
    expect(body.category).toBe('claim-dispute');
    expect(body.links.map((l) => l.role).sort()).toEqual(['adjudication', 'coverage', 'disputed-claim', 'patient']);
  });

  it('accepts a manually entered payer claim number when the EHR has no Claim (FIN-11) and rejects a dispute with no claim at all', async () => {
    const d = await desk();
    const created = await openDispute(d.billing, { payerClaimNumber: 'ACME-778', reasonCategory: 'underpaid' });
    expect(created).toMatchObject({ claim: null, adjudication: null, payerClaimNumber: 'ACME-778' });
    const none = await call(d.billing, 'POST', '/api/v1/disputes', { reasonCategory: 'denied' });
    expect(none.status).toBe(400);
  });

  it('computes the appeal deadline from the tenant per-payer policy in tenant.settings', async () => {
    const d = await desk();
    await database.db
      .update(schema.tenant)
      .set({
        settings: {
          appealPresets: {
            payers: {
              P9: { label: 'Payer 9: 30 days', duration: { days: 30 }, from: 'remittance date', citation: 'contract' },
            },
          },
        },
      })
      .where(eq(schema.tenant.id, d.billing.tenantId));
    const created = await openDispute(d.billing, {
      payerClaimNumber: 'P9-1',
      payerId: 'P9',
      reasonCategory: 'denied',
      adjudicationDate: '2024-03-01',
    });
    expect(created.appealDeadline).toMatchObject({
      deadline: '2024-03-31T23:59:59.999Z',
      policy: 'Payer 9: 30 days',
      state: 'missed',
    });
  });

  it('refuses a second dispute for the same claim and reason with 409 naming the existing ticket', async () => {
    const d = await desk();
    const first = await openDispute(d.billing, { claim: 'Claim/100150', reasonCategory: 'denied' });
    const dup = await call(d.billing, 'POST', '/api/v1/disputes', { claim: 'Claim/100150', reasonCategory: 'denied' });
    expect(dup.status).toBe(409);
    expect(await dup.json()).toMatchObject({ ticketId: first.ticketId });
  });

  it('rejects unknown fields, float-ish amounts and bad reason categories', async () => {
    const d = await desk();
    for (const body of [
      { claim: 'Claim/100150', reasonCategory: 'denied', extra: 1 },
      { claim: 'Claim/100150', reasonCategory: 'denied', disputedAmount: 12.5 },
      { claim: 'Claim/100150', reasonCategory: 'denied', disputedAmount: '1.005' },
      { claim: 'Claim/100150', reasonCategory: 'angry' },
    ]) {
      const res = await call(d.billing, 'POST', '/api/v1/disputes', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
  });

  it('updates fields with If-Match, records a dispute-updated event, and answers a stale version with 412', async () => {
    const d = await desk();
    const created = await openDispute(d.billing, { claim: 'Claim/100150', reasonCategory: 'denied' });
    const ok = await call(
      d.billing,
      'PATCH',
      `/api/v1/disputes/${created.ticketId}`,
      { disputedAmount: '42.10' },
      { 'if-match': `W/"${created.version}"` },
    );
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ disputedAmount: { value: '42.10' }, version: created.version + 1 });
    const stale = await call(
      d.billing,
      'PATCH',
      `/api/v1/disputes/${created.ticketId}`,
      { payerId: 'X' },
      { 'if-match': `W/"${created.version}"` },
    );
    expect(stale.status).toBe(412);
    const timeline = await call(d.billing, 'GET', `/api/v1/tickets/${created.ticketId}/timeline`);
    const events = ((await timeline.json()) as { items: { type: string }[] }).items.map((e) => e.type);
    expect(events).toContain('dispute-updated');
  });

  it('moves through the stages, refuses a disallowed move with 409 naming the allowed stages, and records the outcome', async () => {
    const d = await desk();
    const { ticketId } = await openDispute(d.billing, { claim: 'Claim/100150', reasonCategory: 'denied' });
    const bad = await call(d.billing, 'POST', `/api/v1/disputes/${ticketId}/stage`, { to: 'appeal-filed' });
    expect(bad.status).toBe(409);
    expect(await bad.json()).toMatchObject({ allowed: ['investigating', 'decided'] });
    for (const to of ['investigating', 'payer-contacted', 'appeal-filed']) {
      const res = await call(d.billing, 'POST', `/api/v1/disputes/${ticketId}/stage`, { to });
      expect(res.status).toBe(200);
    }
    const contact = await call(d.billing, 'POST', `/api/v1/disputes/${ticketId}/payer-contacts`, {
      channel: 'phone',
      summary: 'Payer agreed to reprocess',
      referenceNumber: 'CALL-123',
    });
    expect(contact.status).toBe(201);
    const decided = await call(d.billing, 'POST', `/api/v1/disputes/${ticketId}/outcome`, {
      outcome: 'overturned',
      recoveredAmount: '100.00',
    });
    expect(decided.status).toBe(200);
    expect(await decided.json()).toMatchObject({
      stage: 'decided',
      outcome: 'overturned',
      recoveredAmount: { value: '100.00' },
    });
    const timeline = await call(d.billing, 'GET', `/api/v1/tickets/${ticketId}/timeline`);
    const items = ((await timeline.json()) as { items: { type: string; data: Record<string, unknown> }[] }).items;
    expect(items.filter((e) => e.type === 'dispute-stage-changed').map((e) => e.data.to)).toEqual([
      'investigating',
      'payer-contacted',
      'appeal-filed',
      'decided',
    ]);
    expect(items.find((e) => e.type === 'payer-contact')?.data).toMatchObject({
      channel: 'phone',
      referenceNumber: 'CALL-123',
    });
    // Minimum necessary (HIPAA-07): an agent reading the same timeline sees that a payer contact happened,
    // not the payer reference or what was said.
    const agentTimeline = await call(d.agent, 'GET', `/api/v1/tickets/${ticketId}/timeline`);
    const agentItems = (
      (await agentTimeline.json()) as { items: { type: string; body: string | null; data: Record<string, unknown> }[] }
    ).items;
    const redacted = agentItems.find((e) => e.type === 'payer-contact')!;
    expect(JSON.stringify(redacted)).not.toMatch(/CALL-123|reprocess/);
    expect(redacted.body).toBeNull();
    const audit = await database.db.select().from(schema.auditEvent).where(eq(schema.auditEvent.entityId, ticketId));
    expect(audit.map((a) => a.action)).toEqual(
      expect.arrayContaining(['dispute.create', 'dispute.stage', 'dispute.payer-contact']),
    );
  });
});

describe('dispute work queue', () => {
  async function queueDesk() {
    const d = await desk();
    const a = await openDispute(d.billing, {
      payerClaimNumber: 'A',
      reasonCategory: 'denied',
      disputedAmount: '50.00',
      payerId: 'P1',
      adjudicationDate: '2024-01-10',
    });
    const b = await openDispute(d.billing, {
      payerClaimNumber: 'B',
      reasonCategory: 'underpaid',
      disputedAmount: '500.00',
      payerId: 'P2',
      adjudicationDate: '2024-03-10',
    });
    const c = await openDispute(d.billing, {
      payerClaimNumber: '=HYPERLINK("x")',
      reasonCategory: 'denied',
      disputedAmount: '5.00',
      payerId: 'P1',
      adjudicationDate: '2024-02-10',
    });
    return { d, a, b, c };
  }
  const ids = async (res: Response) =>
    ((await res.json()) as { items: { ticketId: string }[] }).items.map((i) => i.ticketId);

  it('sorts by deadline soonest first and by amount largest first, with cursor pages', async () => {
    const { d, a, b, c } = await queueDesk();
    expect(await ids(await call(d.billing, 'GET', '/api/v1/disputes?sort=deadline'))).toEqual([
      a.ticketId,
      c.ticketId,
      b.ticketId,
    ]);
    const page1 = await call(d.billing, 'GET', '/api/v1/disputes?sort=amount&limit=2');
    const p1 = (await page1.json()) as { items: { ticketId: string }[]; nextCursor: string };
    expect(p1.items.map((i) => i.ticketId)).toEqual([b.ticketId, a.ticketId]);
    const page2 = await call(d.billing, 'GET', `/api/v1/disputes?sort=amount&limit=2&cursor=${p1.nextCursor}`);
    expect(await ids(page2)).toEqual([c.ticketId]);
  });

  it('filters by stage, payer, reason, amount range, deadline window and assignee', async () => {
    const { d, a, b, c } = await queueDesk();
    expect((await ids(await call(d.billing, 'GET', '/api/v1/disputes?payer=P1'))).sort()).toEqual(
      [a.ticketId, c.ticketId].sort(),
    );
    expect(await ids(await call(d.billing, 'GET', '/api/v1/disputes?reason=underpaid'))).toEqual([b.ticketId]);
    expect(await ids(await call(d.billing, 'GET', '/api/v1/disputes?amountMin=10&amountMax=100'))).toEqual([
      a.ticketId,
    ]);
    // Deadlines follow the adjudication dates (Jan < Feb < Mar) under one policy: a window around the first.
    const all = (await (await call(d.billing, 'GET', '/api/v1/disputes?sort=deadline')).json()) as {
      items: { ticketId: string; appealDeadline: { deadline: string } }[];
    };
    const firstDeadline = all.items[0]!.appealDeadline.deadline;
    const window = await call(
      d.billing,
      'GET',
      `/api/v1/disputes?deadlineFrom=2000-01-01&deadlineTo=${encodeURIComponent(firstDeadline)}`,
    );
    expect(await ids(window)).toEqual([a.ticketId]);
    await call(d.billing, 'POST', `/api/v1/disputes/${b.ticketId}/stage`, { to: 'investigating' });
    expect(await ids(await call(d.billing, 'GET', '/api/v1/disputes?stage=investigating'))).toEqual([b.ticketId]);
    const assign = await call(d.billing, 'POST', '/api/v1/disputes/assignment', {
      ticketIds: [a.ticketId, c.ticketId],
      assigneeId: d.billing.id,
    });
    expect(assign.status).toBe(200);
    expect((await ids(await call(d.billing, 'GET', `/api/v1/disputes?assignee=${d.billing.id}`))).sort()).toEqual(
      [a.ticketId, c.ticketId].sort(),
    );
  });

  it('bulk assign is all or none when one dispute is unknown', async () => {
    const { d, a } = await queueDesk();
    const res = await call(d.billing, 'POST', '/api/v1/disputes/assignment', {
      ticketIds: [a.ticketId, '00000000-0000-4000-8000-000000000000'],
      assigneeId: d.billing.id,
    });
    expect(res.status).toBe(404);
    const [row] = await database.db.select().from(schema.ticket).where(eq(schema.ticket.id, a.ticketId));
    expect(row!.assigneeId).toBeNull();
  });

  it('exports the queue as CSV with quoting and a formula-injection guard', async () => {
    const { d } = await queueDesk();
    const res = await call(d.supervisor, 'GET', '/api/v1/disputes/export.csv?sort=amount');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (await res.text()).trim().split('\r\n');
    expect(lines[0]).toMatch(/^ticket,ticket_id,stage,reason,claim/);
    expect(lines).toHaveLength(4);
    expect(lines[1]).toContain(',500.00,USD,');
    // `=HYPERLINK("x")` becomes a quoted, apostrophe-prefixed text cell.
    expect(lines.join('\n')).toContain(`"'=HYPERLINK(""x"")"`);
  });
});

describe('minimum necessary by role (HIPAA-07)', () => {
  it('gives an agent status, patient share and plain reasons, never amounts, allowed or payer details', async () => {
    const d = await desk();
    const { ticketId } = await openDispute(d.billing, {
      claim: 'Claim/100150',
      adjudication: 'ExplanationOfBenefit/EB3500',
      reasonCategory: 'denied',
      // Not the billed amount, so the test can tell the disputed amount apart from the patient explanation.
      disputedAmount: '99.99',
      payerId: 'ACME01',
      payerName: 'Acme Health',
      payerClaimNumber: 'ACME000000001',
    });
    const asAgent = await call(d.agent, 'GET', `/api/v1/disputes/${ticketId}`);
    expect(asAgent.status).toBe(200);
    const agentBody = await asAgent.json();
    expect(agentBody).toMatchObject({ view: 'agent', stage: 'intake', reason: expect.any(String) });
    const agentText = JSON.stringify(agentBody);
    for (const hidden of [
      '99.99',
      'disputedAmount',
      'allowed',
      'ACME01',
      'Acme Health',
      'ACME000000001',
      'adjustments',
      'reconciliation',
    ]) {
      expect(agentText).not.toContain(hidden);
    }
    const asBilling = await call(d.billing, 'GET', `/api/v1/disputes/${ticketId}`);
    const billingBody = (await asBilling.json()) as Record<string, unknown>;
    expect(billingBody).toMatchObject({ view: 'full', payerId: 'ACME01', disputedAmount: { value: '99.99' } });
    expect(billingBody.summary).toBeDefined();
  });

  it('keeps agents out of the queue, the export, payer details and every write after opening', async () => {
    const d = await desk();
    const { ticketId } = await openDispute(d.billing, { claim: 'Claim/100150', reasonCategory: 'denied' });
    expect((await call(d.agent, 'GET', '/api/v1/disputes')).status).toBe(403);
    expect((await call(d.agent, 'GET', '/api/v1/disputes/export.csv')).status).toBe(403);
    // Agents may open a dispute (test/disputes/dispute-this-claim.test.ts), but never set the payer side.
    expect(
      (
        await call(d.agent, 'POST', '/api/v1/disputes', {
          claim: 'Claim/100150',
          reasonCategory: 'underpaid',
          payerName: 'Acme Health',
        })
      ).status,
    ).toBe(403);
    expect((await call(d.agent, 'POST', `/api/v1/disputes/${ticketId}/stage`, { to: 'investigating' })).status).toBe(
      403,
    );
    expect((await call(null, 'GET', `/api/v1/disputes/${ticketId}`)).status).toBe(401);
  });

  it('shapes the claim financial summary by role', async () => {
    const d = await desk();
    const agent = await call(d.agent, 'GET', '/api/v1/claims/ExplanationOfBenefit/EB3500/summary');
    expect(agent.status).toBe(200);
    const agentBody = (await agent.json()) as Record<string, unknown>;
    expect(agentBody).toMatchObject({ view: 'agent', agent: { status: 'denied' } });
    expect(agentBody.summary).toBeUndefined();
    expect(JSON.stringify(agentBody)).not.toContain('adjustments');
    const billing = await call(d.billing, 'GET', '/api/v1/claims/ExplanationOfBenefit/EB3500/summary');
    expect(await billing.json()).toMatchObject({ view: 'full', summary: { amounts: { billed: { value: '135.57' } } } });
    expect((await call(d.billing, 'GET', '/api/v1/claims/ExplanationOfBenefit/nope/summary')).status).toBe(404);
  });
});
