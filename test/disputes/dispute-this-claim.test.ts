// "Dispute this claim" from the agent view (issue 5): an agent opens the ticket with its dispute record in one
// request (POST /api/v1/disputes, one transaction). Validation is problem+json naming the field; a claim of
// another patient or tenant is refused; a refused request writes nothing (FIN-11, HIPAA-07, AUD-04, HIPAA-01).
import { type Database, schema } from '@fhirdesk/core';
import { and, count, eq } from 'drizzle-orm';
import type { Claim } from 'fhir/r4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildTestApp,
  createTenantWithAgent,
  createTestUser,
  jsonRequest,
  type TestApp,
  type TestUser,
} from '../support/app';
import { openTestDatabase } from '../support/db';
import { cache, claimContext, createEhrSource, deniedEob, hl7 } from './support';

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

/** Claim 100150 as the HL7 example, but for pat1 like its EOB EB3500 (the example names Patient/1). */
function claimOfPat1(): Claim {
  const claim = hl7<Claim>('Claim-100150.json');
  claim.patient = { reference: 'Patient/pat1' };
  return claim;
}

/** Another patient's claim in the same tenant. */
function claimOfOther(): Claim {
  const claim = hl7<Claim>('Claim-100150.json');
  claim.id = 'OTHER-7';
  claim.patient = { reference: 'Patient/other-9' };
  return claim;
}

interface Desk {
  agent: TestUser;
  billing: TestUser;
}

async function desk(): Promise<Desk> {
  const agent = await createTenantWithAgent(database, t.keys, ['agent']);
  const billing = await createTestUser(database, t.keys, agent.tenantId, ['billing']);
  const sourceId = await createEhrSource(database, agent.tenantId);
  await cache(database, agent.tenantId, sourceId, [...claimContext(), claimOfPat1(), claimOfOther(), deniedEob('50')]);
  return { agent, billing };
}

const call = (user: TestUser, method: string, path: string, body?: unknown) =>
  t.app.request(path, jsonRequest(user.token, method, body));

/** Rows a dispute open writes, per tenant: a refused request must leave every count unchanged. */
async function rows(tenantId: string) {
  const n = async (table: typeof schema.ticket | typeof schema.dispute | typeof schema.ticketLink) =>
    (await database.db.select({ n: count() }).from(table).where(eq(table.tenantId, tenantId)))[0]!.n;
  const audits = await database.db
    .select({ n: count() })
    .from(schema.auditEvent)
    .where(eq(schema.auditEvent.tenantId, tenantId));
  return {
    tickets: await n(schema.ticket),
    disputes: await n(schema.dispute),
    links: await n(schema.ticketLink),
    audits: audits[0]!.n,
  };
}

const fromAgentView = {
  claim: 'Claim/100150',
  adjudication: 'ExplanationOfBenefit/EB3500',
  patient: 'Patient/pat1',
  reasonCategory: 'denied',
  subject: 'Claim dispute: professional 2024-03-01',
  channel: 'phone',
};

describe('dispute this claim (agent)', () => {
  it('opens the ticket with its dispute record in one request, the amount withheld derived from the EOB', async () => {
    const d = await desk();
    const res = await call(d.agent, 'POST', '/api/v1/disputes', fromAgentView);
    expect(res.status, await res.clone().text()).toBe(201);
    const created = (await res.json()) as { ticketId: string; view: string };
    // The agent gets the patient-facing shape back, never payer details or amounts (HIPAA-07).
    expect(created.view).toBe('agent');
    expect(res.headers.get('location')).toBe(`/api/v1/disputes/${created.ticketId}`);

    const ticket = (await (await call(d.agent, 'GET', `/api/v1/tickets/${created.ticketId}`)).json()) as {
      category: string;
      channel: string;
    };
    expect(ticket.category).toBe('claim-dispute');
    expect(ticket.channel).toBe('phone');
    // A phone ticket read through an API token is restricted until the caller is verified (issue #6), so the
    // links are checked where they are stored.
    const stored = await database.db
      .select({ type: schema.ticketLink.resourceType, id: schema.ticketLink.resourceId, role: schema.ticketLink.role })
      .from(schema.ticketLink)
      .where(eq(schema.ticketLink.ticketId, created.ticketId));
    const links = stored.map((l) => ({ reference: `${l.type}/${l.id}`, role: l.role }));
    expect(links).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ reference: 'Claim/100150', role: 'disputed-claim' }),
        expect.objectContaining({ reference: 'ExplanationOfBenefit/EB3500', role: 'adjudication' }),
      ]),
    );
    // Billing sees it in the work queue with the denied amount (billed 135.57 − paid 0) the agent never saw.
    const queue = (await (await call(d.billing, 'GET', '/api/v1/disputes')).json()) as {
      items: { ticketId: string; disputedAmount: { value: string; currency: string } | null; reasonCategory: string }[];
    };
    const row = queue.items.find((i) => i.ticketId === created.ticketId);
    expect(row).toMatchObject({ reasonCategory: 'denied', disputedAmount: { value: '135.57', currency: 'USD' } });
    const audits = await database.db
      .select({ action: schema.auditEvent.action, actorId: schema.auditEvent.actorId })
      .from(schema.auditEvent)
      .where(and(eq(schema.auditEvent.entityId, created.ticketId), eq(schema.auditEvent.action, 'dispute.create')));
    expect(audits).toEqual([{ action: 'dispute.create', actorId: d.agent.id }]);
  });

  it('keeps the amount and reason the agent edited', async () => {
    const d = await desk();
    const res = await call(d.agent, 'POST', '/api/v1/disputes', {
      ...fromAgentView,
      reasonCategory: 'patient-responsibility-question',
      disputedAmount: '20.00',
      currency: 'USD',
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const { ticketId } = (await res.json()) as { ticketId: string };
    const [row] = await database.db.select().from(schema.dispute).where(eq(schema.dispute.ticketId, ticketId));
    expect(row).toMatchObject({
      reasonCategory: 'patient-responsibility-question',
      disputedAmountMinor: 2000,
      currency: 'USD',
      claimRef: 'Claim/100150',
      adjudicationRef: 'ExplanationOfBenefit/EB3500',
      origin: 'manual',
    });
  });

  it('refuses bad requests with problem+json naming the field and writes nothing', async () => {
    const d = await desk();
    const before = await rows(d.agent.tenantId);
    const cases: { body: Record<string, unknown>; status: number; field?: string; code?: string }[] = [
      // No claim at all (FIN-11 lets billing name a payer claim number; an agent disputes a row they saw).
      { body: { reasonCategory: 'denied', patient: 'Patient/pat1' }, status: 400, field: 'claim' },
      { body: { ...fromAgentView, claim: undefined, adjudication: undefined }, status: 400, field: 'claim' },
      { body: { ...fromAgentView, claim: 'Patient/pat1' }, status: 400, field: 'claim' },
      { body: { ...fromAgentView, reasonCategory: 'angry' }, status: 400, field: 'reasonCategory' },
      { body: { ...fromAgentView, disputedAmount: '-5' }, status: 400, field: 'disputedAmount' },
      { body: { ...fromAgentView, disputedAmount: '1.999', currency: 'USD' }, status: 400, field: 'disputedAmount' },
      // Another patient's claim in this tenant: 422, not a dispute filed on the wrong chart.
      { body: { ...fromAgentView, claim: 'Claim/OTHER-7', adjudication: undefined }, status: 422 },
      // The EOB of one claim filed against another.
      { body: { ...fromAgentView, claim: 'Claim/OTHER-7', patient: 'Patient/other-9' }, status: 422 },
      // A claim that is not in this tenant's cache (another tenant's, or made up): 404.
      { body: { ...fromAgentView, claim: 'Claim/NOT-HERE', adjudication: undefined }, status: 404 },
      // The payer side is billing's (minimum necessary).
      { body: { ...fromAgentView, payerName: 'Acme Health' }, status: 403 },
      { body: { ...fromAgentView, assigneeId: d.billing.id }, status: 403 },
    ];
    for (const c of cases) {
      const res = await call(d.agent, 'POST', '/api/v1/disputes', c.body);
      const text = await res.text();
      expect(res.status, `${JSON.stringify(c.body)} → ${text}`).toBe(c.status);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      if (c.field) expect(text).toContain(c.field);
      // No PHI echoed back: the patient reference never appears in a problem.
      expect(text).not.toContain('pat1');
    }
    expect(await rows(d.agent.tenantId)).toEqual(before);
  });

  it("refuses another tenant's claim with 404 and writes nothing there or here", async () => {
    const d = await desk();
    const other = await desk();
    const otherClaim = hl7<Claim>('Claim-100150.json');
    otherClaim.id = 'THEIRS-1';
    otherClaim.patient = { reference: 'Patient/pat1' };
    const otherSource = await createEhrSource(database, other.agent.tenantId);
    await cache(database, other.agent.tenantId, otherSource, [otherClaim]);
    const before = [await rows(d.agent.tenantId), await rows(other.agent.tenantId)];
    const res = await call(d.agent, 'POST', '/api/v1/disputes', {
      ...fromAgentView,
      claim: 'Claim/THEIRS-1',
      adjudication: undefined,
    });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect([await rows(d.agent.tenantId), await rows(other.agent.tenantId)]).toEqual(before);
  });

  it('refuses a second dispute of the same claim and reason with 409 naming the existing ticket', async () => {
    const d = await desk();
    const first = await call(d.agent, 'POST', '/api/v1/disputes', fromAgentView);
    expect(first.status).toBe(201);
    const { ticketId } = (await first.json()) as { ticketId: string };
    const before = await rows(d.agent.tenantId);
    const again = await call(d.agent, 'POST', '/api/v1/disputes', fromAgentView);
    expect(again.status).toBe(409);
    expect(await again.text()).toContain(ticketId);
    expect(await rows(d.agent.tenantId)).toEqual(before);
  });
});
