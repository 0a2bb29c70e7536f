// Hostile and malformed input: each gets its documented 4xx and leaves the database unchanged.
import { type Database, schema } from '@fhirdesk/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildTestApp,
  createTenantWithAgent,
  jsonRequest,
  newTicket,
  type TestApp,
  type TestUser,
} from '../support/app';
import { openTestDatabase } from '../support/db';
import { tenantRowCounts } from '../support/snapshot';

let database: Database;
let t: TestApp;
let agent: TestUser;
let ticketId: string;

beforeAll(async () => {
  database = await openTestDatabase();
  t = buildTestApp(database);
  agent = await createTenantWithAgent(database, t.keys);
  const res = await t.app.request('/api/v1/tickets', jsonRequest(agent.token, 'POST', newTicket()));
  ticketId = ((await res.json()) as { id: string }).id;
  await t.sealer.flush();
});
afterAll(async () => {
  await t.sealer.flush();
  await database.close();
});

/** Sends the request and asserts status, problem+json shape and that nothing was written. */
async function expectRejected(path: string, init: RequestInit, status: number, type: string) {
  const before = await tenantRowCounts(database, agent.tenantId);
  const res = await t.app.request(path, init);
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  const body = (await res.json()) as { type: string; detail: string; errors?: { field: string; message: string }[] };
  expect(body.type).toBe(`https://fhirdesk.dev/problems/${type}`);
  expect(JSON.stringify(body)).not.toMatch(/at .*\.ts:\d+|select |insert into|stack/i);
  expect(await tenantRowCounts(database, agent.tenantId)).toEqual(before);
  return body;
}

describe('request bodies', () => {
  it('rejects malformed JSON with 400 malformed-json', async () => {
    await expectRejected(
      '/api/v1/tickets',
      jsonRequest(agent.token, 'POST', '{"subject": "unterminated'),
      400,
      'malformed-json',
    );
  });

  it('rejects wrong types, naming each field', async () => {
    const body = await expectRejected(
      '/api/v1/tickets',
      jsonRequest(agent.token, 'POST', newTicket({ subject: 42, links: 'Claim/1' })),
      400,
      'validation-failed',
    );
    expect(body.errors!.map((e) => e.field).sort()).toEqual(['links', 'subject']);
  });

  it('rejects unknown enum values and unknown fields', async () => {
    const body = await expectRejected(
      '/api/v1/tickets',
      jsonRequest(agent.token, 'POST', newTicket({ category: 'billling', channel: 'fax', hacker: true })),
      400,
      'validation-failed',
    );
    expect(body.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ field: 'category' }),
        expect.objectContaining({ field: 'channel' }),
        { field: 'hacker', message: 'unknown field(s): hacker' },
      ]),
    );
  });

  it('rejects invalid FHIR references in patient and links', async () => {
    const body = await expectRejected(
      '/api/v1/tickets',
      jsonRequest(agent.token, 'POST', newTicket({ patient: 'Patient/has space' })),
      400,
      'validation-failed',
    );
    expect(body.errors![0]).toEqual({
      field: 'patient',
      message: 'id does not match the FHIR id grammar [A-Za-z0-9-.]{1,64}',
    });
    const link = await expectRejected(
      '/api/v1/tickets',
      jsonRequest(agent.token, 'POST', newTicket({ links: [{ reference: 'Observation/1', role: 'x' }] })),
      400,
      'validation-failed',
    );
    expect(link.errors![0]!.field).toBe('links.0');
    await expectRejected(
      `/api/v1/tickets/${ticketId}/links`,
      jsonRequest(agent.token, 'POST', { reference: 'urn:uuid:fc712d1f-5a2e-4407-9c55-a2a2bad623c2', role: 'x' }),
      400,
      'validation-failed',
    );
    await expectRejected(
      `/api/v1/tickets/${ticketId}/links`,
      jsonRequest(agent.token, 'POST', { reference: 'Patient/1', role: 'Not A Role' }),
      400,
      'validation-failed',
    );
  });

  it('rejects a 10 kB subject', async () => {
    const body = await expectRejected(
      '/api/v1/tickets',
      jsonRequest(agent.token, 'POST', newTicket({ subject: 'x'.repeat(10_240) })),
      400,
      'validation-failed',
    );
    expect(body.errors![0]).toEqual({ field: 'subject', message: 'must be at most 500 characters' });
  });

  it('rejects bodies over 1 MiB with 413', async () => {
    await expectRejected(
      '/api/v1/tickets',
      jsonRequest(agent.token, 'POST', newTicket({ description: 'y'.repeat(1024 * 1024 + 10) })),
      413,
      'body-too-large',
    );
  });

  it('rejects non-JSON content types with 415', async () => {
    await expectRejected(
      '/api/v1/tickets',
      {
        method: 'POST',
        headers: { authorization: `Bearer ${agent.token}`, 'content-type': 'text/plain' },
        body: 'subject=hi',
      },
      415,
      'unsupported-media-type',
    );
  });

  it('stores SQL-injection and script strings verbatim and returns them unchanged', async () => {
    const hostile = {
      subject: "Robert'); DROP TABLE ticket;-- <script>alert(1)</script>",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection probe, on purpose
      description: '<img src=x onerror=alert(1)> %s %n \\0 ${7*7} {{7*7}}',
    };
    const res = await t.app.request('/api/v1/tickets', jsonRequest(agent.token, 'POST', newTicket(hostile)));
    expect(res.status).toBe(201);
    const created = (await res.json()) as { id: string; subject: string; description: string };
    const read = (await (
      await t.app.request(`/api/v1/tickets/${created.id}`, jsonRequest(agent.token, 'GET'))
    ).json()) as typeof created;
    expect([read.subject, read.description]).toEqual([hostile.subject, hostile.description]);
    expect(await database.db.$count(schema.ticket)).toBeGreaterThan(0);
    const search = await t.app.request(
      `/api/v1/tickets?q=${encodeURIComponent("'); DROP")}`,
      jsonRequest(agent.token, 'GET'),
    );
    expect(((await search.json()) as { items: unknown[] }).items).toHaveLength(1);
  });

  it('rejects NUL bytes in text, which PostgreSQL cannot store, as validation errors rather than 500s', async () => {
    const res = await t.app.request(
      '/api/v1/tickets',
      jsonRequest(agent.token, 'POST', newTicket({ subject: 'a\u0000b' })),
    );
    expect(res.status).toBe(400);
  });
});

describe('identity', () => {
  it('refuses another tenant’s ticket with 404, for reads and writes alike', async () => {
    const stranger = await createTenantWithAgent(database, t.keys);
    for (const [path, init] of [
      [`/api/v1/tickets/${ticketId}`, jsonRequest(stranger.token, 'GET')],
      [`/api/v1/tickets/${ticketId}/timeline`, jsonRequest(stranger.token, 'GET')],
      [`/api/v1/tickets/${ticketId}`, jsonRequest(stranger.token, 'PATCH', { priority: 'low' }, { 'if-match': '"1"' })],
      [`/api/v1/tickets/${ticketId}/status`, jsonRequest(stranger.token, 'POST', { status: 'open' })],
      [`/api/v1/tickets/${ticketId}/notes`, jsonRequest(stranger.token, 'POST', { body: 'peek' })],
      [`/api/v1/tickets/${ticketId}/links`, jsonRequest(stranger.token, 'POST', { reference: 'Claim/1', role: 'x' })],
    ] as const) {
      await expectRejected(path, init, 404, 'not-found');
    }
    const list = await t.app.request('/api/v1/tickets', jsonRequest(stranger.token, 'GET'));
    expect(((await list.json()) as { items: unknown[] }).items).toEqual([]);
  });
});
