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

/** The caller of `ticket` verified by identifiers against its patient, as the verification API records it. */
async function recordVerifiedCaller(tenantId: string, ticket: { id: string; patientRef: string | null }, by: string) {
  await database.db.insert(schema.ticketVerification).values({
    tenantId,
    ticketId: ticket.id,
    outcome: 'verified',
    method: 'identifiers',
    party: 'patient',
    patientRef: ticket.patientRef!,
    matched: ['birthDate', 'postalCode'],
    mismatched: [],
    verifiedBy: by,
    createdAt: new Date(),
  });
}

async function ticketOn(tenantId: string, sourceId: string, number = 1001) {
  const [user] = await database.db
    .insert(schema.appUser)
    .values({ tenantId, displayName: 'Agent', roles: ['agent'], fhirUser: 'Practitioner/agent-1' })
    .returning();
  const [row] = await database.db
    .insert(schema.ticket)
    .values({
      tenantId,
      number,
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
    await recordVerifiedCaller(agent.tenantId, ticket, agent.id);
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

  it('addresses the Task to the team asked for: performerType codes, and the owner from the request or the source config', async () => {
    const t = buildTestApp(database);
    const agent = await createTenantWithAgent(database, t.keys, ['agent']);
    const sourceId = await addSource(database, agent.tenantId, ehr.fhirBaseUrl);
    await database.db
      .update(schema.source)
      .set({
        settings: {
          escalation: {
            owners: { pharmacist: 'PractitionerRole/pharmacy-desk', nurse: 'not a reference' },
            owner: 'Organization/clinical-triage',
          },
        },
      })
      .where(eq(schema.source.id, sourceId));
    let next = 2000;
    const escalate = async (extra: Record<string, unknown>) => {
      const { ticket } = await ticketOn(agent.tenantId, sourceId, next++);
      // The caller is verified, so the response carries the EHR ids this test reads back (HIPAA-07).
      await recordVerifiedCaller(agent.tenantId, ticket, agent.id);
      const res = await t.app.request(
        '/api/v1/escalations',
        jsonRequest(agent.token, 'POST', {
          ticketId: ticket.id,
          reason: 'Possible medication reaction',
          message: 'Rash since the new prescription.',
          ...extra,
        }),
      );
      expect(res.status).toBe(201);
      const body = (await res.json()) as { escalation: { taskId: string; communicationId: string } };
      const task = (await ehr.readResource('Task', body.escalation.taskId)) as import('fhir/r4').Task;
      const comm = (await ehr.readResource(
        'Communication',
        body.escalation.communicationId,
      )) as import('fhir/r4').Communication;
      return { task, comm, ticketId: ticket.id };
    };

    // Pharmacist: the source names the pharmacy desk for pharmacists.
    const pharmacy = await escalate({ performerType: 'pharmacist' });
    expect(pharmacy.task.performerType).toEqual([
      {
        coding: [
          { system: 'http://snomed.info/sct', code: '46255001', display: 'Pharmacist' },
          {
            system: 'http://terminology.hl7.org/CodeSystem/practitioner-role',
            code: 'pharmacist',
            display: 'Pharmacist',
          },
        ],
        text: 'Pharmacist',
      },
    ]);
    expect(pharmacy.task.owner).toEqual({ reference: 'PractitionerRole/pharmacy-desk' });
    expect(pharmacy.comm.recipient).toEqual([{ reference: 'PractitionerRole/pharmacy-desk' }]);
    const events = await database.db
      .select({ type: schema.ticketEvent.type, data: schema.ticketEvent.data })
      .from(schema.ticketEvent)
      .where(eq(schema.ticketEvent.ticketId, pharmacy.ticketId));
    expect(events.find((e) => e.type === 'escalated-to-ehr')?.data).toMatchObject({
      performerType: 'pharmacist',
      owner: 'PractitionerRole/pharmacy-desk',
    });

    // Nurse: the per-type entry is invalid (ignored), so the source's default owner applies.
    const nurse = await escalate({ performerType: 'nurse' });
    expect(nurse.task.performerType?.[0]?.coding?.map((c) => c.code)).toEqual(['224535009', 'nurse']);
    expect(nurse.task.owner).toEqual({ reference: 'Organization/clinical-triage' });

    // Care manager with an owner in the request: the request wins.
    const care = await escalate({ performerType: 'care-manager', owner: 'CareTeam/care-mgmt-1' });
    expect(care.task.performerType?.[0]?.coding).toEqual([
      { system: 'http://snomed.info/sct', code: '184154008', display: 'Care manager' },
    ]);
    expect(care.task.owner).toEqual({ reference: 'CareTeam/care-mgmt-1' });

    // Nothing known: no owner is invented; performerType alone routes it.
    await database.db.update(schema.source).set({ settings: {} }).where(eq(schema.source.id, sourceId));
    const unrouted = await escalate({ performerType: 'nurse' });
    expect(unrouted.task.owner).toBeUndefined();
    expect(unrouted.task.performerType?.[0]?.text).toBe('Nurse');

    const bad = await t.app.request(
      '/api/v1/escalations',
      jsonRequest(agent.token, 'POST', {
        ticketId: pharmacy.ticketId,
        reason: 'r',
        message: 'm',
        performerType: 'surgeon',
      }),
    );
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { errors: { field: string }[] }).errors.map((e) => e.field)).toContain(
      'performerType',
    );
    await t.sealer.flush();
  });
});
