// GET /api/v1/patients/{id}/context: field mapping from the cache, refresh when stale, stale fallback when
// the EHR is down, tenant isolation, per-role shaping (DESIGN §4, VIEW-01..04, HIPAA-01/06/07, AUD-02).
import {
  AuditSealer,
  type Database,
  type PatientContext,
  type PatientContextForRole,
  patientOf,
  type RefreshPatient,
  type Role,
  schema,
  summarizeAdjudication,
} from '@fhirdesk/core';
import { and, eq, sql } from 'drizzle-orm';
import type { Claim, ClaimResponse, Coverage, ExplanationOfBenefit, Organization, Patient, Resource } from 'fhir/r4';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createApp } from '../../packages/server/src/app';
import { TokenKeys } from '../../packages/server/src/auth/tokens';
import { createLogger } from '../../packages/server/src/http/logger';
import { createTestUser, jsonRequest, LogCapture, TEST_SECRET, type TestUser } from '../support/app';
import { createTestTenant, openTestDatabase } from '../support/db';
import { cacheResources, createSource, hl7, setFetchedAt, syntheaAsStored } from './cache-fixtures';

let database: Database;
let app: ReturnType<typeof createApp>;
let keys: TokenKeys;
let sealer: AuditSealer;
let tenantId: string;
let sourceId: string;
let agent: TestUser;
let billing: TestUser;
const refresher = vi.fn<RefreshPatient>();

// HL7 examples name different patients; a copy edited in code puts them all on Patient/pat1.
const pat1 = hl7<Patient>('Patient-pat1.json');
const coverage = { ...hl7<Coverage>('Coverage-9876B1.json'), beneficiary: { reference: 'Patient/pat1' } };
const claim = { ...hl7<Claim>('Claim-100150.json'), patient: { reference: 'Patient/pat1' } };
const eobs = [
  hl7<ExplanationOfBenefit>('ExplanationOfBenefit-EB3500.json'),
  hl7<ExplanationOfBenefit>('ExplanationOfBenefit-EB3501.json'),
];
const claimResponses = ['ClaimResponse-R3500.json', 'ClaimResponse-R3502.json'].map((f) => ({
  ...hl7<ClaimResponse>(f),
  patient: { reference: 'Patient/pat1' },
}));
const organizations = ['Organization-1.json', 'Organization-2.json', 'Organization-3.json'].map((f) =>
  hl7<Organization>(f),
);
const synthea = syntheaAsStored(0);

beforeAll(async () => {
  database = await openTestDatabase();
  keys = new TokenKeys(TEST_SECRET);
  sealer = new AuditSealer(database, { delayMs: 5 });
  app = createApp({
    database,
    keys,
    sealer,
    logger: createLogger('info', new LogCapture()),
    smart: { refreshPatient: (...args) => refresher(...args), contextMaxAgeMs: 10 * 60_000, refreshTimeoutMs: 2_000 },
  });
  tenantId = await createTestTenant(database);
  sourceId = await createSource(database, tenantId, 'https://ehr.example.test/fhir');
  agent = await createTestUser(database, keys, tenantId, ['agent']);
  billing = await createTestUser(database, keys, tenantId, ['billing']);
  const now = new Date();
  await cacheResources(
    database,
    tenantId,
    sourceId,
    [pat1, coverage, claim, ...eobs, ...claimResponses, ...organizations, ...synthea.resources].map(
      (resource: Resource) => ({
        resource,
        patientId: patientOf(resource) ?? null,
      }),
    ),
    now,
  );
});
afterAll(async () => {
  await sealer.flush();
  await database.close();
});
beforeEach(() => {
  refresher.mockReset();
  refresher.mockResolvedValue(undefined);
});

type BillingBody = PatientContext & { view: 'billing' };
type AgentBody = Extract<PatientContextForRole, { view: 'agent' }>;

async function view<T = BillingBody>(user: TestUser, patientId: string) {
  const res = await app.request(`/api/v1/patients/${patientId}/context`, jsonRequest(user.token, 'GET'));
  return { status: res.status, body: (await res.json()) as T };
}

const money = (value: number | undefined) =>
  value === undefined ? undefined : (Math.round(value * 100) / 100).toFixed(2);
const total = (r: ExplanationOfBenefit | ClaimResponse, code: string) =>
  r.total?.find((t) => t.category.coding?.some((c) => c.code === code))?.amount?.value;
const itemSum = (r: ExplanationOfBenefit | ClaimResponse, code: string) => {
  const values = (r.item ?? [])
    .flatMap((i) => i.adjudication ?? [])
    .filter((a) => a.category.coding?.some((c) => c.code === code))
    .map((a) => a.amount?.value ?? 0);
  return values.length ? values.reduce((a, b) => a + b, 0) : undefined;
};

describe('patient context: field mapping', () => {
  it('shows the banner, Coverage-9876B1 with payer, plan and group, and every claim, EOB and ClaimResponse of pat1 with its amounts', async () => {
    const { status, body } = await view(billing, 'pat1');
    expect(status).toBe(200);
    expect(body.view).toBe('billing');
    expect(body.patient.banner).toMatchObject({
      id: 'pat1',
      gender: pat1.gender,
      mrn: { value: pat1.identifier![0]!.value, typed: true },
    });
    expect(body.patient.freshness.fetchedAt).toEqual(expect.any(String));

    const [card] = body.coverages.items;
    expect(body.coverages.items).toHaveLength(1);
    const cls = (code: string) => coverage.class!.find((c) => c.type.coding![0]!.code === code)!;
    expect(card).toMatchObject({
      id: coverage.id,
      origin: 'resource',
      payer: { name: organizations.find((o) => `Organization/${o.id}` === coverage.payor![0]!.reference)!.name },
      plan: { value: cls('plan').value, name: cls('plan').name },
      group: { value: cls('group').value, name: cls('group').name },
      memberId: coverage.identifier![0]!.value,
      relationship: coverage.relationship!.coding![0]!.code,
      period: coverage.period,
    });
    expect(body.coverages.fetchedAt.newest).toEqual(expect.any(String));

    const adjudications = body.claims.items.flatMap((r) => r.adjudications);
    const published = [...eobs, ...claimResponses];
    expect(adjudications.map((a) => `${a.resourceType}/${a.id}`).sort()).toEqual(
      published.map((r) => `${r.resourceType}/${r.id}`).sort(),
    );
    for (const r of published) {
      const a = adjudications.find((x) => x.id === r.id)!;
      expect(a.billed?.value).toBe(money(total(r, 'submitted')));
      expect(a.paid?.value).toBe(money(total(r, 'benefit')));
      // Allowed is published only at item level here; when items disagree with the totals (EB3500) the
      // derivation belongs to fhir/adjudication, so the row must carry exactly that module's figure.
      const publishedAllowed = total(r, 'eligible');
      expect(a.allowed?.value).toBe(
        publishedAllowed !== undefined ? money(publishedAllowed) : summarizeAdjudication(r).amounts.allowed?.value,
      );
      expect(a.patientResponsibility?.value).toBe(money(itemSum(r, 'copay')));
    }
    const claimRow = body.claims.items.find((r) => r.key === `Claim/${claim.id}`)!;
    expect(claimRow.claim?.id).toBe(claim.id);
    expect(claimRow.adjudications.map((a) => a.id).sort()).toEqual(['EB3500', 'EB3501', 'R3500']);
    const planLimit = claimResponses[0]!.item![0]!.adjudication!.find((x) => x.reason)!.reason!.coding![0]!;
    const r3500 = adjudications.find((a) => a.id === 'R3500')!;
    expect(r3500.reasons).toContainEqual(expect.objectContaining({ code: planLimit.code, display: planLimit.display }));
  });

  it('hides resources the source deleted: no deleted EOB among the adjudications, no name from a deleted payer', async () => {
    const payer = coverage.payor![0]!.reference!.split('/')[1]!;
    const mark = (deleted: boolean) =>
      database.db
        .update(schema.fhirResource)
        .set({ deleted, deletedAt: deleted ? new Date() : null })
        .where(
          and(
            eq(schema.fhirResource.sourceId, sourceId),
            sql`(${schema.fhirResource.resourceType}, ${schema.fhirResource.resourceId}) IN (('ExplanationOfBenefit', 'EB3501'), ('Organization', ${payer}))`,
          ),
        );
    await mark(true);
    try {
      const { body } = await view(billing, 'pat1');
      const ids = body.claims.items.flatMap((r) => r.adjudications.map((a) => a.id));
      expect(ids).toContain('EB3500');
      expect(ids).not.toContain('EB3501');
      expect(body.coverages.items[0]?.payer?.name ?? null).toBeNull();
    } finally {
      await mark(false);
    }
    expect((await view(billing, 'pat1')).body.coverages.items[0]?.payer?.name).toEqual(expect.any(String));
  });

  it('shows a Synthea patient with EOB-contained coverages marked as such and every Claim with its EOB', async () => {
    const { status, body } = await view(billing, synthea.patientId);
    expect(status).toBe(200);
    const patientEobs = synthea.resources.filter(
      (r): r is ExplanationOfBenefit => r.resourceType === 'ExplanationOfBenefit',
    );
    const patientClaims = synthea.resources.filter((r) => r.resourceType === 'Claim');
    const payers = new Set(
      patientEobs.flatMap((e) =>
        (e.contained ?? []).filter((c): c is Coverage => c.resourceType === 'Coverage').map((c) => c.type?.text),
      ),
    );
    expect(body.coverages.items).toHaveLength(payers.size);
    for (const card of body.coverages.items) expect(card.origin).toBe('eob-contained');
    expect(new Set(body.coverages.items.map((c) => c.type))).toEqual(payers);

    expect(
      body.claims.items
        .filter((r) => r.claim)
        .map((r) => r.claim!.id)
        .sort(),
    ).toEqual(patientClaims.map((c) => c.id).sort());
    for (const eob of patientEobs) {
      const row = body.claims.items.find((r) => r.key === eob.claim!.reference)!;
      const a = row.adjudications.find((x) => x.id === eob.id)!;
      expect(a.billed?.value).toBe(money(total(eob, 'submitted')));
    }
    expect(body.claims.fetchedAt.oldest).toEqual(expect.any(String));
  });

  it("lists the patient's tickets with number, status, priority, age and assignee", async () => {
    const created = await app.request(
      '/api/v1/tickets',
      jsonRequest(agent.token, 'POST', {
        subject: 'EOB question',
        category: 'billing',
        channel: 'phone',
        patient: 'Patient/pat1',
        assigneeId: agent.id,
        priority: 'high',
      }),
    );
    expect(created.status).toBe(201);
    const ticket = (await created.json()) as { id: string; number: string };
    const { body } = await view(agent, 'pat1');
    const item = body.tickets.items.find((t) => t.id === ticket.id)!;
    expect(item).toMatchObject({
      subject: 'EOB question',
      status: 'new',
      priority: 'high',
      assignee: { id: agent.id, displayName: 'Agent' },
    });
    expect(item.number).toMatch(/^T-\d+$/);
    expect(item.ageSeconds).toBeGreaterThanOrEqual(0);
  });

  it('writes exactly one read audit event per request, with the patient reference (AUD-02, HIPAA-06)', async () => {
    const count = async () =>
      Number(
        (
          await database.query<{ n: number }>(
            sql`select count(*)::int as n from audit_event where tenant_id = ${tenantId} and action = 'patient-context.read' and patient_ref = 'Patient/pat1' and outcome = 'success'`,
          )
        )[0]!.n,
      );
    const before = await count();
    await view(agent, 'pat1');
    expect(await count()).toBe(before + 1);
  });
});

describe('patient context: shaping per role (HIPAA-07)', () => {
  it('gives agents status, patient responsibility and plain reasons but no allowed, paid or adjustment amounts', async () => {
    const { body } = await view<AgentBody>(agent, 'pat1');
    expect(body.view).toBe('agent');
    const r3502 = body.claims.items.find((r) => r.key === 'ClaimResponse/R3502')!;
    for (const hidden of ['allowed', 'billed', 'paid', 'contractualAdjustment'])
      expect(r3502).not.toHaveProperty(hidden);
    expect(r3502.patientResponsibility?.value).toBe(money(itemSum(claimResponses[1]!, 'copay')));
    expect(JSON.stringify(body.claims)).not.toContain('payment-adjustment');
    expect(JSON.stringify(body.claims)).not.toContain(
      claimResponses[1]!.payment!.adjustmentReason!.coding![0]!.display!,
    );
  });

  it('gives billing the full adjudication, payment adjustment included', async () => {
    const { body } = await view(billing, 'pat1');
    const r3502 = body.claims.items.find((r) => r.key === 'ClaimResponse/R3502')!;
    expect(r3502.allowed?.value).toBe(money(itemSum(claimResponses[1]!, 'eligible')));
    expect(r3502.reasons).toContainEqual(
      expect.objectContaining({
        kind: 'payment-adjustment',
        code: claimResponses[1]!.payment!.adjustmentReason!.coding![0]!.code,
      }),
    );
  });

  it('refuses roles outside agent, billing, supervisor and admin', async () => {
    const integration = await createTestUser(database, keys, tenantId, ['integration'] as Role[]);
    expect((await view(integration, 'pat1')).status).toBe(403);
  });
});

describe('patient context: freshness', () => {
  it('does not call the EHR while the cache is fresh', async () => {
    const { body } = await view(agent, 'pat1');
    expect(refresher).not.toHaveBeenCalled();
    expect(body.refreshed).toBe(false);
    expect(body.warnings).toEqual([]);
  });

  it('refreshes a stale patient through the injected refresher before answering', async () => {
    await setFetchedAt(database, sourceId, new Date(Date.now() - 60 * 60_000));
    refresher.mockImplementation(async () => setFetchedAt(database, sourceId, new Date()));
    const { status, body } = await view(agent, 'pat1');
    expect(status).toBe(200);
    expect(refresher).toHaveBeenCalledWith(tenantId, sourceId, 'pat1', expect.any(AbortSignal));
    expect(body.refreshed).toBe(true);
    expect(body.warnings).toEqual([]);
    expect(Date.now() - Date.parse(body.patient.freshness.fetchedAt)).toBeLessThan(60_000);
  });

  it('serves the cache with a stale warning when the EHR is down', async () => {
    const asOf = new Date(Date.now() - 60 * 60_000);
    await setFetchedAt(database, sourceId, asOf);
    refresher.mockRejectedValue(new Error('connect ECONNREFUSED'));
    const { status, body } = await view(agent, 'pat1');
    expect(status).toBe(200);
    expect(refresher).toHaveBeenCalledTimes(1);
    expect(body.warnings).toEqual([expect.objectContaining({ code: 'stale', asOf: asOf.toISOString() })]);
    expect(body.patient.banner.id).toBe('pat1');
    await setFetchedAt(database, sourceId, new Date());
  });

  it('says the copy is old when no refresh from the EHR is configured', async () => {
    const asOf = new Date(Date.now() - 60 * 60_000);
    await setFetchedAt(database, sourceId, asOf);
    const cacheOnly = createApp({ database, keys, sealer, logger: createLogger('info', new LogCapture()) });
    const res = await cacheOnly.request('/api/v1/patients/pat1/context', jsonRequest(agent.token, 'GET'));
    expect(res.status).toBe(200);
    const body = (await res.json()) as AgentBody;
    expect(body.warnings).toEqual([expect.objectContaining({ code: 'stale', asOf: asOf.toISOString() })]);
    await setFetchedAt(database, sourceId, new Date());
  });

  it("fetches a patient that is not cached yet from the tenant's only source", async () => {
    const fresh = { ...structuredClone(pat1), id: 'first-visit' };
    refresher.mockImplementation(async () =>
      cacheResources(database, tenantId, sourceId, [{ resource: fresh, patientId: 'first-visit' }], new Date()),
    );
    const { status, body } = await view(agent, 'first-visit');
    expect(status).toBe(200);
    expect(refresher).toHaveBeenCalledWith(tenantId, sourceId, 'first-visit', expect.any(AbortSignal));
    expect(body.refreshed).toBe(true);
    expect(body.patient.banner.id).toBe('first-visit');
  });

  it('answers 502 when the EHR is down and nothing is cached for the patient', async () => {
    refresher.mockRejectedValue(new Error('connect ECONNREFUSED'));
    const res = await app.request('/api/v1/patients/never-seen/context', jsonRequest(agent.token, 'GET'));
    expect(res.status).toBe(502);
    expect(((await res.json()) as { detail: string }).detail).toMatch(/EHR could not be reached/);
  });
});

describe('patient context: isolation', () => {
  it("answers 404 for another tenant's patient and for an unknown patient", async () => {
    const otherTenant = await createTestTenant(database, 'Other clinic');
    const outsider = await createTestUser(database, keys, otherTenant, ['agent']);
    const res = await view(outsider, 'pat1');
    expect(res.status).toBe(404);
    expect(JSON.stringify(res.body)).not.toContain(pat1.name![0]!.family!);
    expect((await view(agent, 'no-such-patient')).status).toBe(404);
  });

  it('refuses a SMART session scoped to another patient (SAL-50)', async () => {
    const token = await keys.issue(
      { tenantId, userId: agent.id, roles: ['agent'], kind: 'user', patient: synthea.patientId },
      600,
    );
    const res = await app.request('/api/v1/patients/pat1/context', jsonRequest(token, 'GET'));
    expect(res.status).toBe(403);
    const denied = await database.db
      .select()
      .from(schema.auditEvent)
      .where(
        and(
          eq(schema.auditEvent.tenantId, tenantId),
          eq(schema.auditEvent.outcome, 'denied'),
          eq(schema.auditEvent.patientRef, 'Patient/pat1'),
        ),
      );
    expect(denied.length).toBeGreaterThan(0);
  });
});

describe('patient context: request validation (the hot route validates by hand, answering as zod did)', () => {
  const get = (path: string, token = agent.token) => app.request(path, jsonRequest(token, 'GET'));
  const problemOf = async (res: Response) => {
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    return JSON.stringify(await res.json());
  };

  it('answers 400 problem+json naming the field for a path id that is not a FHIR id', async () => {
    const res = await get(`/api/v1/patients/${'x'.repeat(65)}/context`);
    expect(res.status).toBe(400);
    const text = await problemOf(res);
    expect(text).toContain('must be a FHIR id');
    expect(text).toContain('"id"');
    expect((await get('/api/v1/patients/a%2Cb/context')).status).toBe(400);
  });

  it('answers 400 for a source that is not a UUID or is given twice, and reads from a valid one', async () => {
    const bad = await get('/api/v1/patients/pat1/context?source=not-a-uuid');
    expect(bad.status).toBe(400);
    expect(await problemOf(bad)).toContain('source');
    expect((await get(`/api/v1/patients/pat1/context?source=${sourceId}&source=${sourceId}`)).status).toBe(400);
    const ok = await get(`/api/v1/patients/pat1/context?source=${sourceId}`);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as AgentBody).patient.banner.id).toBe('pat1');
    // Query parameters the route does not know are ignored, as before.
    expect((await get('/api/v1/patients/pat1/context?utm=x')).status).toBe(200);
  });

  it('still needs a bearer token, and an allowed role, before any validation', async () => {
    const res = await app.request('/api/v1/patients/pat1/context');
    expect(res.status).toBe(401);
    const integration = await createTestUser(database, keys, tenantId, ['integration'] as Role[]);
    expect((await get(`/api/v1/patients/${'x'.repeat(65)}/context`, integration.token)).status).toBe(403);
  });

  it('is documented in /openapi.json with its path and query parameters and bearer security', async () => {
    const doc = (await (await app.request('/openapi.json')).json()) as {
      paths: Record<string, { get?: { parameters?: { name: string; in: string }[]; security?: unknown[] } }>;
    };
    const op = doc.paths['/api/v1/patients/{id}/context']?.get;
    expect(op?.parameters?.map((p) => `${p.in}:${p.name}`).sort()).toEqual(['path:id', 'query:source']);
    expect(op?.security).toEqual([{ bearerAuth: [] }]);
  });
});
