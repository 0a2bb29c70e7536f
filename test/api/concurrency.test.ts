// Races: ticket numbers under concurrent creates, and optimistic concurrency on updates.
import { createIntegrationKey, type Database } from '@fhirdesk/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildTestApp,
  createTenantWithAgent,
  jsonRequest,
  newTicket,
  TEST_SECRET_KEY,
  type TestApp,
} from '../support/app';
import { openTestDatabase } from '../support/db';

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

describe('concurrency', () => {
  it('gives 50 parallel creates in one tenant 50 distinct consecutive numbers', async () => {
    const agent = await createTenantWithAgent(database, t.keys);
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        t.app.request('/api/v1/tickets', jsonRequest(agent.token, 'POST', newTicket({ subject: `Parallel ${i}` }))),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(201));
    const numbers = await Promise.all(
      responses.map(async (r) => Number(((await r.json()) as { number: string }).number.slice(2))),
    );
    expect([...numbers].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => 1001 + i));
  });

  it('numbers interleaved API and inbound creates from one counter: consecutive, no duplicates (issue #6)', async () => {
    // Inbound messages create tickets through the ticket API's own numbering path; run both at once
    // (on PostgreSQL these are concurrent transactions contending for the tenant's counter row).
    const agent = await createTenantWithAgent(database, t.keys);
    const key = await createIntegrationKey(
      database,
      agent.tenantId,
      { name: 'sms-gateway', channels: ['sms'] },
      TEST_SECRET_KEY,
    );
    const api = (i: number) =>
      t.app.request('/api/v1/tickets', jsonRequest(agent.token, 'POST', newTicket({ subject: `API ${i}` })));
    const inbound = (i: number) =>
      t.app.request('/inbound/sms', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': key.apiKey! },
        // A distinct sender per message, so each one opens a ticket instead of threading.
        body: JSON.stringify({
          messageId: `race-${i}`,
          from: `+1555300${String(i).padStart(4, '0')}`,
          body: 'billing question',
        }),
      });
    const responses = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? inbound(i) : api(i))));
    expect(responses.map((r) => r.status)).toEqual(Array(40).fill(201));
    const numbers = await Promise.all(
      responses.map(async (r, i) => {
        const body = (await r.json()) as { number?: string; ticketNumber?: number };
        return i % 2 ? body.ticketNumber! : Number(body.number!.slice(2));
      }),
    );
    expect([...numbers].sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => 1001 + i));
    // And the next create, from either path, continues the sequence.
    const next = (await (await api(99)).json()) as { number: string };
    expect(next.number).toBe('T-1041');
  });

  it('lets exactly one of two updates with the same version win', async () => {
    const agent = await createTenantWithAgent(database, t.keys);
    const created = (await (
      await t.app.request('/api/v1/tickets', jsonRequest(agent.token, 'POST', newTicket()))
    ).json()) as { id: string };
    const patch = (priority: string) =>
      t.app.request(
        `/api/v1/tickets/${created.id}`,
        jsonRequest(agent.token, 'PATCH', { priority }, { 'if-match': 'W/"1"' }),
      );
    const results = await Promise.all([patch('high'), patch('low')]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 412]);
    const winner = (await results.find((r) => r.status === 200)!.json()) as { priority: string; version: number };
    const final = (await (
      await t.app.request(`/api/v1/tickets/${created.id}`, jsonRequest(agent.token, 'GET'))
    ).json()) as { priority: string; version: number };
    expect(final).toMatchObject({ priority: winner.priority, version: 2 });
  });
});
