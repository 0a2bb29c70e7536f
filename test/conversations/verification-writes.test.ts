// Caller verification covers every response, writes as well as reads (issue #6; HIPAA-07 minimum necessary,
// HIPAA-09 person authentication, HIPAA-06 audit controls): for a ticket that arrived by SMS from an
// unverified caller, nothing an agent can call returns the patient's reference, name, birth date, links or
// coverage; once the caller is verified the same calls do, and relinking another patient needs a new check.
import { randomUUID } from 'node:crypto';
import { createIntegrationKey, type Database, schema } from '@fhirdesk/core';
import { and, asc, eq } from 'drizzle-orm';
import type { Coverage, Patient } from 'fhir/r4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheResources } from '../agent-view/cache-fixtures';
import {
  buildTestApp,
  createTenantWithAgent,
  jsonRequest,
  TEST_SECRET_KEY,
  type TestApp,
  type TestUser,
} from '../support/app';
import { openTestDatabase } from '../support/db';
import { addSource } from './support';

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

/** What must not leave the server before verification: references, demographics, coverage. */
const PATIENT_DATA = [
  'Patient/pt-rosa',
  'pt-rosa',
  'Rosa',
  'Delgado',
  '1958-09-30',
  'MBR-5531',
  'Coverage/cov-rosa',
  'cov-rosa',
  'Claim/clm-rosa',
  'clm-rosa',
];

function cache(tenantId: string, sourceId: string, resource: (Patient | Coverage) & { id: string }) {
  return cacheResources(database, tenantId, sourceId, [{ resource, patientId: 'pt-rosa' }], new Date());
}

async function setup() {
  const agent = await createTenantWithAgent(database, t.keys, ['agent']);
  const source = await addSource(database, agent.tenantId);
  await cache(agent.tenantId, source, {
    resourceType: 'Patient',
    id: 'pt-rosa',
    name: [{ given: ['Rosa'], family: 'Delgado' }],
    birthDate: '1958-09-30',
    identifier: [{ system: 'urn:member', value: 'MBR-5531' }],
    address: [{ postalCode: '01104' }],
    telecom: [{ system: 'phone', value: '+1 555 201 8080', use: 'mobile' }],
  });
  await cache(agent.tenantId, source, {
    resourceType: 'Patient',
    id: 'pt-other',
    birthDate: '1990-01-01',
    address: [{ postalCode: '02110' }],
  });
  await cache(agent.tenantId, source, {
    resourceType: 'Coverage',
    id: 'cov-rosa',
    status: 'active',
    beneficiary: { reference: 'Patient/pt-rosa' },
    payor: [{ display: 'Acme Health' }],
  });
  const key = await createIntegrationKey(database, agent.tenantId, { name: 'sms', channels: ['sms'] }, TEST_SECRET_KEY);
  const res = await t.app.request('/inbound/sms', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': key.apiKey! },
    body: JSON.stringify({ messageId: `m-${randomUUID()}`, from: '+15552018080', body: 'Why was I billed twice?' }),
  });
  expect(res.status).toBe(201);
  const inbound = (await res.json()) as { ticketId: string; patient: { reference: string | null } };
  // The contact matched: the ticket IS linked to the patient, only the agent does not see it yet.
  expect(inbound.patient.reference).toBe('Patient/pt-rosa');
  return { agent, ticketId: inbound.ticketId };
}

interface Call {
  name: string;
  status: number;
  text: string;
  json: Record<string, unknown>;
}

async function call(user: TestUser, name: string, path: string, method: string, body?: unknown, headers = {}) {
  const res = await t.app.request(path, jsonRequest(user.token, method, body, headers));
  const text = await res.text();
  return { name, status: res.status, text, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** Every agent-callable endpoint that returns ticket data, in an order that leaves a rich timeline. */
async function everyEndpoint(agent: TestUser, id: string, round: string): Promise<Call[]> {
  const calls: Call[] = [];
  const run = async (name: string, path: string, method: string, body?: unknown, headers = {}) => {
    const c = await call(agent, name, path, method, body, headers);
    calls.push(c);
    return c;
  };
  const got = await run('get', `/api/v1/tickets/${id}`, 'GET');
  await run('list', '/api/v1/tickets', 'GET');
  const patched = await run(
    'patch',
    `/api/v1/tickets/${id}`,
    'PATCH',
    { priority: round === 'before' ? 'high' : 'urgent' },
    { 'if-match': `W/"${got.json.version}"` },
  );
  await run(
    'patch-patient',
    `/api/v1/tickets/${id}`,
    'PATCH',
    { patient: 'Patient/pt-rosa' },
    {
      'if-match': `W/"${patched.json.version}"`,
    },
  );
  if (round === 'before') await run('status', `/api/v1/tickets/${id}/status`, 'POST', { status: 'open' });
  await run('assign', `/api/v1/tickets/${id}/assignment`, 'POST', { assigneeId: agent.id });
  await run('reply', `/api/v1/tickets/${id}/messages`, 'POST', {
    channel: 'sms',
    direction: 'outbound',
    body: 'We are looking into it.',
  });
  await run('note', `/api/v1/tickets/${id}/notes`, 'POST', { body: 'Checked the statement.' });
  const linked = await run('link', `/api/v1/tickets/${id}/links`, 'POST', {
    reference: 'Coverage/cov-rosa',
    role: `coverage-${round}`,
  });
  await run('link-claim', `/api/v1/tickets/${id}/links`, 'POST', {
    reference: 'Claim/clm-rosa',
    role: `claim-${round}`,
  });
  await run('unlink', `/api/v1/tickets/${id}/links/${linked.json.id}`, 'DELETE');
  await run('set-patient', `/api/v1/conversations/tickets/${id}/patient`, 'PUT', { patient: 'Patient/pt-rosa' });
  await run('routing', `/api/v1/conversations/tickets/${id}/routing`, 'PUT', { queue: `billing-${round}` });
  await run('escalate', '/api/v1/escalations', 'POST', {
    ticketId: id,
    reason: 'Dizziness after new medication',
    message: 'Caller reports dizziness.',
  });
  await run('timeline', `/api/v1/tickets/${id}/timeline`, 'GET');
  for (const c of calls) expect(c.status, `${c.name} answered ${c.status}: ${c.text}`).toBeLessThan(300);
  return calls;
}

async function verify(agent: TestUser, id: string, stated: Record<string, string>) {
  return t.app.request(
    `/api/v1/tickets/${id}/verification`,
    jsonRequest(agent.token, 'POST', { party: 'patient', stated }),
  );
}

describe('caller verification on every response', () => {
  it('withholds the patient from every read and write until the caller is verified, then shows it', async () => {
    const { agent, ticketId } = await setup();

    const before = await everyEndpoint(agent, ticketId, 'before');
    for (const c of before) {
      for (const phi of PATIENT_DATA) expect(c.text, `${c.name} leaked ${phi}`).not.toContain(phi);
    }
    const byName = (calls: Call[], name: string) => calls.find((c) => c.name === name)!.json;
    for (const name of ['get', 'patch', 'patch-patient', 'status', 'assign']) {
      expect(byName(before, name), name).toMatchObject({ patient: null, links: [], verification: 'required' });
    }
    expect(byName(before, 'set-patient')).toMatchObject({ patientRef: null, verification: 'required' });
    expect(byName(before, 'link')).toMatchObject({
      reference: null,
      resourceType: 'Coverage',
      withheld: expect.any(String),
    });
    const timeline = byName(before, 'timeline').items as { type: string; data: Record<string, unknown> }[];
    // The agent still sees what happened, just not to whom.
    expect(timeline.find((e) => e.type === 'patient-linked')?.data).toMatchObject({ by: 'contact-match' });
    expect(timeline.find((e) => e.type === 'linked')?.data).toMatchObject({ resourceType: 'Coverage' });
    expect(timeline.find((e) => e.type === 'message')).toMatchObject({ body: 'Why was I billed twice?' });

    // The ticket really is linked: the restriction is in what is shown, not in what is stored.
    const [row] = await database.db.select().from(schema.ticket).where(eq(schema.ticket.id, ticketId));
    expect(row!.patientRef).toBe('Patient/pt-rosa');

    expect((await verify(agent, ticketId, { birthDate: '1958-09-30', postalCode: '01104' })).status).toBe(201);

    const after = await everyEndpoint(agent, ticketId, 'after');
    for (const name of ['get', 'patch', 'patch-patient', 'assign']) {
      expect(byName(after, name), name).toMatchObject({ patient: 'Patient/pt-rosa', verification: 'verified' });
    }
    expect((byName(after, 'get').links as { reference: string }[]).map((l) => l.reference)).toEqual(['Claim/clm-rosa']);
    expect(byName(after, 'set-patient')).toMatchObject({ patientRef: 'Patient/pt-rosa', verification: 'verified' });
    expect(byName(after, 'link')).toMatchObject({ reference: 'Coverage/cov-rosa' });
    const shown = JSON.stringify(byName(after, 'timeline'));
    expect(shown).toContain('Patient/pt-rosa');
    expect(shown).toContain('Coverage/cov-rosa');

    // HIPAA-06: the verification (status and method) and each read's verification state are audited.
    const audits = await database.db
      .select()
      .from(schema.auditEvent)
      .where(eq(schema.auditEvent.tenantId, agent.tenantId))
      .orderBy(asc(schema.auditEvent.seq));
    expect(audits.find((a) => a.action === 'ticket.verification')).toMatchObject({
      outcome: 'success',
      patientRef: 'Patient/pt-rosa',
      detail: expect.objectContaining({ status: 'verified', method: 'identifiers', party: 'patient' }),
    });
    const reads = audits.filter((a) => a.action === 'ticket.read').map((a) => a.detail.verification);
    expect(reads).toEqual(['required', 'verified']);
  });

  it('needs a new verification when the ticket is relinked to another patient', async () => {
    const { agent, ticketId } = await setup();
    expect((await verify(agent, ticketId, { birthDate: '1958-09-30', postalCode: '01104' })).status).toBe(201);
    const relinked = await call(agent, 'relink', `/api/v1/conversations/tickets/${ticketId}/patient`, 'PUT', {
      patient: 'Patient/pt-other',
    });
    expect(relinked.json).toMatchObject({ patientRef: null, verification: 'required' });
    const got = await call(agent, 'get', `/api/v1/tickets/${ticketId}`, 'GET');
    expect(got.json).toMatchObject({ patient: null, verification: 'required' });
    expect((await verify(agent, ticketId, { birthDate: '1990-01-01', postalCode: '02110' })).status).toBe(201);
    expect((await call(agent, 'get', `/api/v1/tickets/${ticketId}`, 'GET')).json).toMatchObject({
      patient: 'Patient/pt-other',
      verification: 'verified',
    });
  });

  it('audits a SMART-session verification with its method', async () => {
    const agent = await createTenantWithAgent(database, t.keys, ['agent']);
    const source = await addSource(database, agent.tenantId);
    await cache(agent.tenantId, source, { resourceType: 'Patient', id: 'pt-rosa' });
    const launched = await t.keys.issue(
      { tenantId: agent.tenantId, userId: agent.id, roles: agent.roles, kind: 'user', patient: 'pt-rosa' },
      600,
    );
    const res = await t.app.request(
      '/api/v1/tickets',
      jsonRequest(launched, 'POST', {
        subject: 'Call',
        category: 'billing',
        channel: 'phone',
        patient: 'Patient/pt-rosa',
      }),
    );
    expect(await res.json()).toMatchObject({ patient: 'Patient/pt-rosa', verification: 'verified' });
    const [audit] = await database.db
      .select()
      .from(schema.auditEvent)
      .where(and(eq(schema.auditEvent.tenantId, agent.tenantId), eq(schema.auditEvent.action, 'ticket.verification')));
    expect(audit).toMatchObject({
      outcome: 'success',
      detail: { status: 'verified', method: 'ehr-session', party: 'patient' },
    });
  });
});
