// Logs are structured, carry the request id on every line, and never carry PHI or tokens (HIPAA-11).
import type { Database } from '@fhirdesk/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../packages/server/src/http/logger';
import {
  buildTestApp,
  createTenantWithAgent,
  jsonRequest,
  LogCapture,
  newTicket,
  type TestApp,
  type TestUser,
} from '../support/app';
import { openTestDatabase } from '../support/db';

let database: Database;
let t: TestApp;
let agent: TestUser;

beforeAll(async () => {
  database = await openTestDatabase();
  t = buildTestApp(database);
  agent = await createTenantWithAgent(database, t.keys);
});
afterAll(async () => {
  await t.sealer.flush();
  await database.close();
});

describe('request logging', () => {
  it('logs the route pattern and request id, never bodies, query strings, patient ids or tokens', async () => {
    const phi = 'Maria Gonzalez DOB 1961-04-02 SSN 123-45-6789';
    const res = await t.app.request(
      '/api/v1/tickets',
      jsonRequest(agent.token, 'POST', newTicket({ subject: phi, patient: 'Patient/mrn-8841' }), {
        'x-request-id': 'req-abc-123',
      }),
    );
    expect(res.status).toBe(201);
    expect(res.headers.get('x-request-id')).toBe('req-abc-123');
    await t.app.request('/api/v1/tickets?patient=Patient/mrn-8841&q=Gonzalez', jsonRequest(agent.token, 'GET'));
    const lines = t.logs.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => l.requestId === 'req-abc-123')).toMatchObject({
      route: '/api/v1/tickets',
      method: 'POST',
      status: 201,
    });
    const text = t.logs.text();
    for (const secret of ['Gonzalez', '123-45-6789', 'mrn-8841', agent.token]) expect(text).not.toContain(secret);
    for (const line of lines.filter((l) => l.msg === 'request')) expect(line.requestId).toEqual(expect.any(String));
  });

  it('redacts PHI-bearing fields wherever a caller logs them', () => {
    const capture = new LogCapture();
    const logger = createLogger('info', capture);
    logger.info(
      {
        patient: { name: 'John Smith', birthDate: '1970-01-01' },
        authorization: 'Bearer abc',
        ticket: { subject: 'Smith bill' },
      },
      'x',
    );
    expect(capture.text()).not.toMatch(/John Smith|1970-01-01|Bearer abc|Smith bill/);
    expect(capture.text()).toContain('[redacted]');
  });

  it('answers an unexpected failure with a generic 500 and logs no message text', async () => {
    const broken = buildTestApp({
      ...database,
      db: new Proxy(database.db, {
        get: () => () => {
          throw new Error('relation "ticket" leaked SELECT secret');
        },
      }),
    } as Database);
    const res = await broken.app.request('/api/v1/tickets', jsonRequest(agent.token, 'GET'));
    expect(res.status).toBe(500);
    const body = await res.text();
    expect(body).not.toMatch(/relation|SELECT|secret/);
    expect(broken.logs.text()).not.toMatch(/relation|SELECT|secret/);
    expect(broken.logs.text()).toContain('unhandled error');
  });
});
