// Clinical escalation write-back against the sandbox EHR (WB-01, WB-02, WB-03, WB-04).
import { type Database, EscalationService, escalationIdentifierSystem, schema } from '@fhirdesk/core';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SandboxEhr, startSandboxEhr } from '../sandbox-ehr/index';
import { buildTestApp, createTenantWithAgent, jsonRequest } from '../support/app';
import { createTestTenant, openTestDatabase } from '../support/db';
import { addSource } from './support';

let database: Database;
let ehr: SandboxEhr;
beforeAll(async () => {
  database = await openTestDatabase();
  ehr = await startSandboxEhr({ seed: false });
});
afterAll(async () => {
  await ehr.close();
  await database.close();
});

async function ticketOn(tenantId: string, sourceId: string) {
  const [user] = await database.db
    .insert(schema.appUser)
    .values({ tenantId, displayName: 'Agent', roles: ['agent'], fhirUser: 'Practitioner/agent-1' })
    .returning();
  const [row] = await database.db
    .insert(schema.ticket)
    .values({
      tenantId,
      number: 1001,
      subject: 'Reaction to new medication',
      category: 'prescription',
      channel: 'chat',
      status: 'open',
      patientRef: 'Patient/p-1',
      patientSourceId: sourceId,
      createdAt: new Date(),
      updatedAt: new Date(),
    })
    .returning();
  const actor = { tenantId, userId: user!.id, kind: 'user' as const, roles: ['agent' as const] };
  return { ticket: row!, actor };
}

const input = {
  reason: 'Possible medication reaction',
  message: 'Patient reports a rash since starting the new prescription; asks for a nurse call back.',
  priority: 'urgent' as const,
  owner: 'Organization/nurse-triage',
  callback: 'mobile on file',
};

describe('clinical escalation write-back', () => {
  it('creates a requested Task and a Communication on the EHR and records their ids on the timeline', async () => {
    const tenantId = await createTestTenant(database);
    const sourceId = await addSource(database, tenantId, ehr.fhirBaseUrl);
    const { ticket, actor } = await ticketOn(tenantId, sourceId);
    const result = await new EscalationService({ database }).escalate(actor, ticket.id, input);
    expect(result.writtenBack).toBe(true);
    const task = (await ehr.readResource('Task', result.escalation.taskId!)) as import('fhir/r4').Task;
    expect(task).toMatchObject({
      status: 'requested',
      intent: 'order',
      priority: 'urgent',
      for: { reference: 'Patient/p-1' },
      requester: { reference: 'Practitioner/agent-1' },
      owner: { reference: 'Organization/nurse-triage' },
      identifier: [{ system: escalationIdentifierSystem, value: result.escalation.id }],
    });
    const comm = (await ehr.readResource(
      'Communication',
      result.escalation.communicationId!,
    )) as import('fhir/r4').Communication;
    expect(comm.payload?.[0]?.contentString).toBe(input.message);
    const events = await database.db
      .select()
      .from(schema.ticketEvent)
      .where(eq(schema.ticketEvent.ticketId, ticket.id));
    expect(events.find((e) => e.type === 'escalated-to-ehr')?.data).toMatchObject({
      task: `Task/${result.escalation.taskId}`,
      communication: `Communication/${result.escalation.communicationId}`,
    });
  });

  it('queues the escalation and says so when the EHR is unreachable, and a retry later creates exactly one Task', async () => {
    const tenantId = await createTestTenant(database);
    const sourceId = await addSource(database, tenantId, 'http://127.0.0.1:1/fhir/r4');
    const { ticket, actor } = await ticketOn(tenantId, sourceId);
    const service = new EscalationService({ database, timeoutMs: 2000 });
    const queued = await service.escalate(actor, ticket.id, input);
    expect(queued).toMatchObject({ writtenBack: false, escalation: { status: 'queued' } });
    const events = await database.db
      .select()
      .from(schema.ticketEvent)
      .where(eq(schema.ticketEvent.ticketId, ticket.id));
    expect(events.find((e) => e.type === 'escalation-queued')?.body).toMatch(/queued/);

    await database.db.update(schema.source).set({ baseUrl: ehr.fhirBaseUrl }).where(eq(schema.source.id, sourceId));
    const first = await service.retry(actor, queued.escalation.id, input);
    // A worker that crashed after the EHR create but before recording it leaves the row queued:
    // the retry sends the same identifier with If-None-Exist, so no second Task appears (WB-04).
    await database.db
      .update(schema.escalation)
      .set({ status: 'queued' })
      .where(eq(schema.escalation.id, queued.escalation.id));
    const second = await service.retry(actor, queued.escalation.id, input);
    expect(first.writtenBack).toBe(true);
    expect(second.escalation.taskId).toBe(first.escalation.taskId);
    const tasks = await ehr.searchAll('Task', { identifier: `${escalationIdentifierSystem}|${queued.escalation.id}` });
    expect(tasks).toHaveLength(1);
  });

  it('escalates through POST /api/v1/escalations and answers 201 with the Task id', async () => {
    const t = buildTestApp(database);
    const agent = await createTenantWithAgent(database, t.keys, ['agent']);
    const sourceId = await addSource(database, agent.tenantId, ehr.fhirBaseUrl);
    const { ticket } = await ticketOn(agent.tenantId, sourceId);
    // Before caller verification the handoff state shows, but not the EHR ids about the patient (HIPAA-07).
    const unverified = await t.app.request(
      '/api/v1/escalations',
      jsonRequest(agent.token, 'POST', { ticketId: ticket.id, ...input }),
    );
    expect(unverified.status).toBe(201);
    expect(await unverified.json()).toMatchObject({
      writtenBack: true,
      verification: 'required',
      escalation: { status: 'written-back', taskId: null, communicationId: null },
    });
    await database.db.insert(schema.ticketVerification).values({
      tenantId: agent.tenantId,
      ticketId: ticket.id,
      outcome: 'verified',
      method: 'identifiers',
      party: 'patient',
      patientRef: ticket.patientRef!,
      matched: ['birthDate', 'postalCode'],
      mismatched: [],
      verifiedBy: agent.id,
      createdAt: new Date(),
    });
    const res = await t.app.request(
      '/api/v1/escalations',
      jsonRequest(agent.token, 'POST', { ticketId: ticket.id, ...input }),
    );
    expect(res.status).toBe(201);
    const body = (await res.json()) as { escalation: { taskId: string } };
    expect((await ehr.readResource('Task', body.escalation.taskId)).resourceType).toBe('Task');
    const bad = await t.app.request(
      '/api/v1/escalations',
      jsonRequest(agent.token, 'POST', { ticketId: ticket.id, ...input, owner: 'Patient/x' }),
    );
    expect(bad.status).toBe(400);
    await t.sealer.flush();
  });
});
