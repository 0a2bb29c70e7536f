// Races: ticket numbers under concurrent creates, and optimistic concurrency on updates.
import type { Database } from '@fhirdesk/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, createTenantWithAgent, jsonRequest, newTicket, type TestApp } from '../support/app';
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
