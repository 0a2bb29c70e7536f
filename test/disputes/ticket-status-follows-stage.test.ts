// The ticket status follows the dispute stage in the same transaction (issue 5): payer-contacted and
// appeal-filed → pending-payer (SLA clock paused), decided → resolved, a closed ticket refuses with 409
// and nothing changes. Mapping: docs/disputes.md. Covers HIPAA-06 (each status step audited).
import { type Database, defaultSlaSettings, refreshTicketSla, schema } from '@fhirdesk/core';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, createTenantWithAgent, jsonRequest, type TestApp, type TestUser } from '../support/app';
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

const call = (user: TestUser, method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
  t.app.request(path, jsonRequest(user.token, method, body, headers));

async function openDispute(): Promise<{ billing: TestUser; ticketId: string }> {
  const billing = await createTenantWithAgent(database, t.keys, ['billing']);
  const sourceId = await createEhrSource(database, billing.tenantId);
  await cache(database, billing.tenantId, sourceId, [...claimContext(), deniedEob('50')]);
  const res = await call(billing, 'POST', '/api/v1/disputes', { claim: 'Claim/100150', reasonCategory: 'denied' });
  expect(res.status, await res.clone().text()).toBe(201);
  return { billing, ticketId: ((await res.json()) as { ticketId: string }).ticketId };
}

async function ticketStatus(user: TestUser, ticketId: string): Promise<string> {
  const res = await call(user, 'GET', `/api/v1/tickets/${ticketId}`);
  return ((await res.json()) as { status: string }).status;
}

async function move(user: TestUser, ticketId: string, body: Record<string, unknown>) {
  return call(user, 'POST', `/api/v1/disputes/${ticketId}/stage`, body);
}

describe('ticket status following the dispute stage', () => {
  it('makes the ticket pending-payer while the payer has it (SLA paused), open when investigating again, resolved when decided', async () => {
    const { billing, ticketId } = await openDispute();
    expect(await ticketStatus(billing, ticketId)).toBe('new');

    expect((await move(billing, ticketId, { to: 'investigating' })).status).toBe(200);
    expect(await ticketStatus(billing, ticketId)).toBe('open');

    const contacted = await move(billing, ticketId, { to: 'payer-contacted' });
    expect(contacted.status).toBe(200);
    expect(await contacted.json()).toMatchObject({ stage: 'payer-contacted', ticketStatus: 'pending-payer' });

    const [row] = await database.db.select().from(schema.ticket).where(eq(schema.ticket.id, ticketId));
    const due = await database.db.transaction((tx) => refreshTicketSla(tx, row!, defaultSlaSettings, new Date()));
    expect(due.paused).toBe(true);

    expect((await move(billing, ticketId, { to: 'appeal-filed' })).status).toBe(200);
    expect(await ticketStatus(billing, ticketId)).toBe('pending-payer');
    expect((await move(billing, ticketId, { to: 'investigating' })).status).toBe(200);
    expect(await ticketStatus(billing, ticketId)).toBe('open');

    const decided = await call(billing, 'POST', `/api/v1/disputes/${ticketId}/outcome`, {
      outcome: 'overturned',
      recoveredAmount: '135.57',
    });
    expect(decided.status).toBe(200);
    expect(await decided.json()).toMatchObject({ stage: 'decided', ticketStatus: 'resolved' });

    // A further appeal reopens the resolved ticket through open, never by an illegal jump.
    expect((await move(billing, ticketId, { to: 'appeal-filed' })).status).toBe(200);
    expect(await ticketStatus(billing, ticketId)).toBe('pending-payer');

    const timeline = await call(billing, 'GET', `/api/v1/tickets/${ticketId}/timeline`);
    const items = ((await timeline.json()) as { items: { type: string; data: { to?: string } }[] }).items;
    expect(items.filter((e) => e.type === 'status-changed').map((e) => e.data.to)).toEqual([
      'open',
      'pending-payer',
      'open',
      'resolved',
      'open',
      'pending-payer',
    ]);
    const audit = await database.db
      .select({ action: schema.auditEvent.action })
      .from(schema.auditEvent)
      .where(and(eq(schema.auditEvent.entityId, ticketId), eq(schema.auditEvent.action, 'ticket.status')));
    expect(audit).toHaveLength(6);
  });

  it('refuses a stage move on a closed ticket with 409 and changes nothing', async () => {
    const { billing, ticketId } = await openDispute();
    await move(billing, ticketId, { to: 'decided', outcome: 'withdrawn' });
    expect(await ticketStatus(billing, ticketId)).toBe('resolved');
    expect((await call(billing, 'POST', `/api/v1/tickets/${ticketId}/status`, { status: 'closed' })).status).toBe(200);
    const before = (await (await call(billing, 'GET', `/api/v1/disputes/${ticketId}`)).json()) as {
      version: number;
      stage: string;
    };

    const refused = await move(billing, ticketId, { to: 'appeal-filed' });
    expect(refused.status).toBe(409);
    const problem = (await refused.json()) as { detail: string; ticketStatus: string };
    expect(problem.detail).toMatch(/closed/);
    expect(problem.ticketStatus).toBe('closed');

    const after = (await (await call(billing, 'GET', `/api/v1/disputes/${ticketId}`)).json()) as {
      version: number;
      stage: string;
    };
    expect(after).toMatchObject({ stage: 'decided', version: before.version });
    expect(await ticketStatus(billing, ticketId)).toBe('closed');
    const timeline = await call(billing, 'GET', `/api/v1/tickets/${ticketId}/timeline`);
    const items = ((await timeline.json()) as { items: { type: string; data: { to?: string } }[] }).items;
    expect(items.filter((e) => e.type === 'dispute-stage-changed').map((e) => e.data.to)).toEqual(['decided']);
  });

  it('leaves an escalated ticket escalated while the payer has it', async () => {
    const { billing, ticketId } = await openDispute();
    expect((await call(billing, 'POST', `/api/v1/tickets/${ticketId}/status`, { status: 'escalated' })).status).toBe(
      200,
    );
    expect((await move(billing, ticketId, { to: 'investigating' })).status).toBe(200);
    expect((await move(billing, ticketId, { to: 'payer-contacted' })).status).toBe(200);
    expect(await ticketStatus(billing, ticketId)).toBe('escalated');
  });
});
