// Acknowledging the red-flag safety script (issue #6): recorded once per agent on the timeline and
// audited (HIPAA-06); refused for a ticket without a red flag; another tenant's ticket is a 404 (HIPAA-01).
import { type Database, InboundService, schema } from '@fhirdesk/core';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, createTenantWithAgent, createTestUser, jsonRequest, type TestApp } from '../support/app';
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

async function inbound(tenantId: string, id: string, body: string) {
  return new InboundService({ database }).receive(
    { keyId: 'k', tenantId, name: 'gw', channels: ['sms'] },
    { channel: 'sms', providerMessageId: id, from: { phone: '+15551230000' }, body },
  );
}

describe('POST /api/v1/escalations/acknowledgements', () => {
  it('records the acknowledgement once per agent with the script language, and audits it', async () => {
    const agent = await createTenantWithAgent(database, t.keys, ['agent']);
    const flagged = await inbound(agent.tenantId, 'rf-1', 'Tengo dolor de pecho muy fuerte desde hace una hora');
    const ack = () =>
      t.app.request(
        '/api/v1/escalations/acknowledgements',
        jsonRequest(agent.token, 'POST', { ticketId: flagged.ticketId }),
      );
    const first = await ack();
    expect(first.status).toBe(201);
    expect((await ack()).status).toBe(200);
    const events = await database.db
      .select()
      .from(schema.ticketEvent)
      .where(
        and(
          eq(schema.ticketEvent.ticketId, flagged.ticketId),
          eq(schema.ticketEvent.type, 'safety-prompt-acknowledged'),
        ),
      );
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ actorId: agent.id, data: { language: 'es' } });
    const audits = await database.db
      .select()
      .from(schema.auditEvent)
      .where(
        and(
          eq(schema.auditEvent.tenantId, agent.tenantId),
          eq(schema.auditEvent.action, 'ticket.safety-prompt.acknowledge'),
        ),
      );
    expect(audits).toHaveLength(1);
  });

  it('refuses a ticket without a red flag (409), a bad body (400), another tenant (404) and billing staff (403)', async () => {
    const agent = await createTenantWithAgent(database, t.keys, ['agent']);
    const calm = await inbound(agent.tenantId, 'calm-1', 'When is my next bill due?');
    const post = (token: string, body: unknown) =>
      t.app.request('/api/v1/escalations/acknowledgements', jsonRequest(token, 'POST', body));
    expect((await post(agent.token, { ticketId: calm.ticketId })).status).toBe(409);
    expect((await post(agent.token, { ticketId: 'nope' })).status).toBe(400);
    const billing = await createTestUser(database, t.keys, agent.tenantId, ['billing']);
    const other = await createTenantWithAgent(database, t.keys, ['agent']);
    const flagged = await inbound(agent.tenantId, 'rf-2', 'I have chest pain right now');
    expect((await post(other.token, { ticketId: flagged.ticketId })).status).toBe(404);
    // Billing staff do not handle clinical escalations (HIPAA-01 deny by default).
    expect((await post(billing.token, { ticketId: flagged.ticketId })).status).toBe(403);
  });
});
