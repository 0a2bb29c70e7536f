// Caller verification (issue #6; HIPAA-09 person authentication, HIPAA-07 minimum necessary, HIPAA-06 and
// AUD-05 audited without values): phone/SMS/email/chat tickets hide their patient and links until the caller
// is verified against the cached Patient or a proxy the EHR lists; attempts are audited, errors name fields only.
import { type Database, schema } from '@fhirdesk/core';
import { and, eq } from 'drizzle-orm';
import type { Patient, RelatedPerson } from 'fhir/r4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheResources } from '../agent-view/cache-fixtures';
import { buildTestApp, createTenantWithAgent, jsonRequest, type TestApp, type TestUser } from '../support/app';
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

function cache(tenantId: string, sourceId: string, resource: (Patient | RelatedPerson) & { id: string }) {
  const patientId = resource.resourceType === 'Patient' ? resource.id : 'p1';
  return cacheResources(database, tenantId, sourceId, [{ resource, patientId }], new Date());
}

async function setup() {
  const agent = await createTenantWithAgent(database, t.keys, ['agent']);
  const source = await addSource(database, agent.tenantId);
  await cache(agent.tenantId, source, {
    resourceType: 'Patient',
    id: 'p1',
    birthDate: '1961-04-12',
    identifier: [{ system: 'urn:member', value: 'MBR-778812' }],
    address: [{ line: ['1 Elm St'], city: 'Springfield', postalCode: '01103-2201' }],
    telecom: [{ system: 'phone', value: '(555) 201-7777' }],
    contact: [{ name: { family: 'Diaz' }, telecom: [{ system: 'phone', value: '+1 555 201 3333' }] }],
  });
  await cache(agent.tenantId, source, {
    resourceType: 'RelatedPerson',
    id: 'rp1',
    patient: { reference: 'Patient/p1' },
    telecom: [{ system: 'phone', value: '555-201-4444' }],
    address: [{ postalCode: '01105' }],
  });
  await cache(agent.tenantId, source, {
    resourceType: 'RelatedPerson',
    id: 'rp-other',
    patient: { reference: 'Patient/p2' },
    telecom: [{ system: 'phone', value: '555-201-5555' }],
  });
  return agent;
}

async function ticketFor(user: TestUser, channel = 'phone') {
  const res = await t.app.request(
    '/api/v1/tickets',
    jsonRequest(user.token, 'POST', {
      subject: 'Question about my bill',
      category: 'billing',
      channel,
      patient: 'Patient/p1',
      links: [{ reference: 'Claim/c1', role: 'disputed-claim' }],
    }),
  );
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

const read = async (user: TestUser, id: string) =>
  (await (await t.app.request(`/api/v1/tickets/${id}`, jsonRequest(user.token, 'GET'))).json()) as {
    patient: string | null;
    links: unknown[];
    verification: string;
  };

const verify = (user: TestUser, id: string, body: unknown) =>
  t.app.request(`/api/v1/tickets/${id}/verification`, jsonRequest(user.token, 'POST', body));

async function auditsOf(tenantId: string) {
  return database.db
    .select()
    .from(schema.auditEvent)
    .where(and(eq(schema.auditEvent.tenantId, tenantId), eq(schema.auditEvent.action, 'ticket.verification')));
}

describe('caller verification', () => {
  it('shows a restricted phone ticket until the patient is verified by two identifiers', async () => {
    const agent = await setup();
    const id = await ticketFor(agent);
    expect(await read(agent, id)).toMatchObject({ verification: 'required', patient: null, links: [] });
    const listed = (await (await t.app.request('/api/v1/tickets', jsonRequest(agent.token, 'GET'))).json()) as {
      items: { id: string; patient: string | null; verification: string }[];
    };
    expect(listed.items.find((i) => i.id === id)).toMatchObject({ patient: null, verification: 'required' });

    const res = await verify(agent, id, {
      party: 'patient',
      stated: { birthDate: '1961-04-12', postalCode: '01103' },
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({
      outcome: 'verified',
      matched: ['birthDate', 'postalCode'],
      mismatched: [],
    });
    const after = await read(agent, id);
    expect(after).toMatchObject({ verification: 'verified', patient: 'Patient/p1' });
    expect(after.links).toHaveLength(1);
    const audits = await auditsOf(agent.tenantId);
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({ outcome: 'success', patientRef: 'Patient/p1', entityId: id });
    expect(JSON.stringify(audits[0]!.detail)).not.toContain('1961');
  });

  it('verifies a proxy listed as RelatedPerson and one listed in Patient.contact', async () => {
    const agent = await setup();
    const id = await ticketFor(agent, 'sms');
    const related = await verify(agent, id, {
      party: 'proxy',
      proxy: 'RelatedPerson/rp1',
      stated: { birthDate: '1961-04-12', phone: '(555) 201-4444' },
    });
    expect(related.status).toBe(201);
    expect(await related.json()).toMatchObject({ outcome: 'verified', party: 'proxy', proxy: 'RelatedPerson/rp1' });
    const id2 = await ticketFor(agent, 'chat');
    const contact = await verify(agent, id2, {
      party: 'proxy',
      proxy: 'Patient/p1#contact[0]',
      stated: { memberId: 'mbr-778812', phone: '5552013333' },
    });
    expect(contact.status).toBe(201);
    expect((await read(agent, id2)).verification).toBe('verified');
  });

  it('refuses a proxy the EHR does not list for this patient, and records the attempt', async () => {
    const agent = await setup();
    const id = await ticketFor(agent);
    const res = await verify(agent, id, {
      party: 'proxy',
      proxy: 'RelatedPerson/rp-other',
      stated: { birthDate: '1961-04-12', phone: '555-201-5555' },
    });
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ type: expect.stringContaining('proxy-not-listed') });
    expect((await read(agent, id)).verification).toBe('required');
    const audits = await auditsOf(agent.tenantId);
    expect(audits.map((a) => a.outcome)).toEqual(['failure']);
  });

  it('refuses too few identifiers and a mismatch, naming fields but never the stated values', async () => {
    const agent = await setup();
    const id = await ticketFor(agent);
    const few = await verify(agent, id, { party: 'patient', stated: { birthDate: '1961-04-12' } });
    expect(few.status).toBe(422);
    const wrong = await verify(agent, id, {
      party: 'patient',
      stated: { birthDate: '1961-04-12', postalCode: '99999', memberId: 'MBR-778812' },
    });
    expect(wrong.status).toBe(422);
    const text = await wrong.text();
    expect(text).toContain('postalCode');
    expect(text).not.toContain('99999');
    expect(text).not.toContain('1961');
    expect((await read(agent, id)).verification).toBe('required');
    const rows = await database.db
      .select()
      .from(schema.ticketVerification)
      .where(eq(schema.ticketVerification.ticketId, id));
    expect(rows.map((r) => r.outcome)).toEqual(['failed', 'failed']);
    expect(rows[1]!.mismatched).toEqual(['postalCode']);
  });

  it('exempts portal tickets and tickets created in a SMART session for the launch patient', async () => {
    const agent = await setup();
    const portal = await ticketFor(agent, 'portal');
    expect(await read(agent, portal)).toMatchObject({ verification: 'not-required', patient: 'Patient/p1' });
    const launched = {
      ...agent,
      token: await t.keys.issue(
        { tenantId: agent.tenantId, userId: agent.id, roles: agent.roles, kind: 'user', patient: 'p1' },
        600,
      ),
    };
    const phone = await ticketFor(launched);
    expect(await read(agent, phone)).toMatchObject({ verification: 'verified', patient: 'Patient/p1' });
  });

  it('keeps tenants apart: another tenant cannot verify or see the ticket', async () => {
    const agent = await setup();
    const other = await setup();
    const id = await ticketFor(agent);
    const res = await verify(other, id, { party: 'patient', stated: { birthDate: '1961-04-12', postalCode: '01103' } });
    expect(res.status).toBe(404);
    expect((await auditsOf(agent.tenantId)).length).toBe(0);
  });
});
