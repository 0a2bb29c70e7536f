// The agent view's stored projection (issue #4): the text PostgreSQL assembles equals the view the live
// builder assembles in Node, for every fixture patient and both role shapes (HIPAA-07); it follows the cache
// when a resource appears, changes or is deleted, is built lazily when missing, and after a sync (VIEW-04).
import { randomUUID } from 'node:crypto';
import {
  type Actor,
  AuditSealer,
  type Database,
  PatientContextService,
  patientOf,
  patientViewFastQuery,
  patientViewFastStatement,
  type Role,
  rebuildPatientView,
  schema,
  shapeForRoles,
} from '@fhirdesk/core';
import { and, eq, sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { ExplanationOfBenefit, Resource } from 'fhir/r4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../packages/server/src/app';
import { TokenKeys } from '../../packages/server/src/auth/tokens';
import { createLogger } from '../../packages/server/src/http/logger';
import { runSyncJob } from '../../packages/server/src/jobs/sync-job';
import { deps, insertSource } from '../connectors/support';
import { loadHl7Examples } from '../fixtures/fhir-r4-fixtures';
import { type SandboxEhr, startSandboxEhr } from '../sandbox-ehr/index';
import { createTestUser, jsonRequest, LogCapture, TEST_SECRET } from '../support/app';
import { createTestTenant, openTestDatabase } from '../support/db';
import { cacheResources, createSource, hl7, syntheaAsStored } from './cache-fixtures';

let database: Database;
const NOW = new Date('2026-11-23T12:00:00.000Z');
const clock = { now: () => NOW };

beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => {
  await database.close();
});

const projectionOf = async (tenantId: string, patientId: string) =>
  (
    await database.db
      .select()
      .from(schema.patientViewProjection)
      .where(
        and(eq(schema.patientViewProjection.tenantId, tenantId), eq(schema.patientViewProjection.patientId, patientId)),
      )
  )[0];

/** Every fixture (HL7 examples and three Synthea patients) cached under one source, as a sync would. */
async function cachedTenant() {
  const tenantId = await createTestTenant(database);
  const sourceId = await createSource(database, tenantId, 'https://ehr.example.test/fhir');
  const resources: Resource[] = [
    ...loadHl7Examples().map((f) => f.resource),
    ...[0, 1, 2].flatMap((i) => syntheaAsStored(i).resources),
  ];
  const seen = new Set<string>();
  const unique = resources.filter((r) => {
    const key = `${r.resourceType}/${r.id}`;
    if (!r.id || seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  await cacheResources(
    database,
    tenantId,
    sourceId,
    unique.map((resource) => ({ resource, patientId: patientOf(resource) ?? null })),
    new Date(NOW.getTime() - 60_000),
  );
  const patients = unique.filter((r) => r.resourceType === 'Patient').map((r) => r.id!);
  return { tenantId, sourceId, patients };
}

describe('agent view projection', () => {
  it('assembles, for every fixture patient and both roles, exactly the view the live builder assembles', async () => {
    const { tenantId, patients } = await cachedTenant();
    const [agentUser, assignee] = [randomUUID(), randomUUID()];
    await database.db.insert(schema.appUser).values([
      { id: agentUser, tenantId, displayName: 'Viewer', roles: ['agent', 'billing'] },
      { id: assignee, tenantId, displayName: 'Dana Payer-Calls', roles: ['billing'] },
    ]);
    // Tickets with and without an assignee, so the ticket part (SQL-built) is compared too.
    for (const [i, patientId] of patients.entries()) {
      await database.db.insert(schema.ticket).values({
        tenantId,
        number: 1000 + i,
        subject: `Question ${i}`,
        category: 'billing',
        channel: 'phone',
        status: 'open',
        priority: 'normal',
        queue: 'billing',
        assigneeId: i % 2 === 0 ? assignee : null,
        patientRef: `Patient/${patientId}`,
        createdBy: agentUser,
        createdAt: new Date(NOW.getTime() - (i + 1) * 3_600_123),
        updatedAt: NOW,
      });
    }
    const service = new PatientContextService({ database, clock });
    expect(patients.length).toBeGreaterThanOrEqual(5);
    for (const roles of [['agent'], ['billing']] satisfies Role[][]) {
      const actor: Actor = { tenantId, userId: agentUser, kind: 'user', roles };
      for (const patientId of patients) {
        const reference = JSON.parse(JSON.stringify(shapeForRoles(await service.get(actor, patientId), roles)));
        const text = await service.getJson(actor, patientId);
        expect(JSON.parse(text), `${roles[0]} view of ${patientId}`).toEqual(reference);
      }
    }
    const withAssignee = JSON.parse(
      await service.getJson({ tenantId, userId: agentUser, kind: 'user', roles: ['agent'] }, patients[0]!),
    );
    expect(withAssignee.tickets.items[0].assignee).toEqual({ id: assignee, displayName: 'Dana Payer-Calls' });
  });

  it('builds a missing projection on read, writes the audit row in the same statement, and reuses it', async () => {
    const { tenantId, sourceId } = await cachedTenant();
    const service = new PatientContextService({ database, clock });
    const actor: Actor = { tenantId, userId: randomUUID(), kind: 'user', roles: ['agent'] };
    expect(await projectionOf(tenantId, 'pat1')).toBeUndefined();
    const first = JSON.parse(await service.getJson(actor, 'pat1'));
    const built = await projectionOf(tenantId, 'pat1');
    expect(built).toMatchObject({ sourceId, builtFor: '2026-11-23' });
    expect(JSON.parse(built!.claimsAgentJson)).toEqual(first.claims);
    const second = JSON.parse(await service.getJson(actor, 'pat1'));
    expect(second).toEqual(first);
    // Not rebuilt: the stored row is the one built by the first read.
    expect((await projectionOf(tenantId, 'pat1'))!.builtAt).toEqual(built!.builtAt);
    const audits = await database.db
      .select()
      .from(schema.auditEvent)
      .where(and(eq(schema.auditEvent.tenantId, tenantId), eq(schema.auditEvent.action, 'patient-context.read')));
    expect(audits).toHaveLength(2);
    expect(audits[0]).toMatchObject({ entityId: 'pat1', patientRef: 'Patient/pat1', outcome: 'success' });
    expect(audits[0]!.detail).toMatchObject({
      fhirAction: 'R',
      sourceId,
      refreshed: false,
      stale: false,
      counts: { coverages: first.coverages.items.length, claims: first.claims.items.length, tickets: 0 },
    });
  });

  it('shows a new EOB and drops a deleted one on the next read (the watermark follows the cache)', async () => {
    const { tenantId, sourceId } = await cachedTenant();
    const service = new PatientContextService({ database, clock });
    const actor: Actor = { tenantId, userId: randomUUID(), kind: 'user', roles: ['billing'] };
    const before = JSON.parse(await service.getJson(actor, 'pat1'));
    const eobKeys = (body: { claims: { items: { adjudications: { id: string }[] }[] } }) =>
      body.claims.items.flatMap((row) => row.adjudications.map((a) => a.id));
    expect(eobKeys(before)).toContain('EB3500');

    const added: ExplanationOfBenefit = {
      ...hl7<ExplanationOfBenefit>('ExplanationOfBenefit-EB3500.json'),
      id: 'EB-NEW-1',
    };
    await cacheResources(database, tenantId, sourceId, [{ resource: added, patientId: 'pat1' }], NOW);
    const after = JSON.parse(await service.getJson(actor, 'pat1'));
    expect(eobKeys(after)).toContain('EB-NEW-1');

    await database.db
      .update(schema.fhirResource)
      .set({ deleted: true, deletedAt: NOW })
      .where(and(eq(schema.fhirResource.tenantId, tenantId), eq(schema.fhirResource.resourceId, 'EB3500')));
    const deleted = JSON.parse(await service.getJson(actor, 'pat1'));
    expect(eobKeys(deleted)).not.toContain('EB3500');
    expect(eobKeys(deleted)).toContain('EB-NEW-1');
    // The live builder agrees after both changes.
    expect(deleted).toEqual(JSON.parse(JSON.stringify(shapeForRoles(await service.get(actor, 'pat1'), ['billing']))));
  });

  it('removes the projection when the Patient row is gone, and the view answers 404', async () => {
    const { tenantId, sourceId } = await cachedTenant();
    expect(await rebuildPatientView(database, tenantId, sourceId, 'pat1', { clock })).toBe(true);
    await database.db
      .update(schema.fhirResource)
      .set({ deleted: true, deletedAt: NOW })
      .where(and(eq(schema.fhirResource.tenantId, tenantId), eq(schema.fhirResource.patientId, 'pat1')));
    expect(await rebuildPatientView(database, tenantId, sourceId, 'pat1', { clock })).toBe(false);
    expect(await projectionOf(tenantId, 'pat1')).toBeUndefined();
    const service = new PatientContextService({ database, clock });
    await expect(
      service.getJson({ tenantId, userId: randomUUID(), kind: 'user', roles: ['agent'] }, 'pat1'),
    ).rejects.toThrow(/not found/i);
  });

  it('the fast read rendered once per shape sends the same text and values as the statement built per view', () => {
    const dialect = new PgDialect();
    const actor: Actor = {
      tenantId: randomUUID(),
      userId: randomUUID(),
      kind: 'user',
      roles: ['agent'],
      requestId: 'r-1',
    };
    for (const view of ['agent', 'billing'] as const) {
      for (const sourceId of [undefined, randomUUID()]) {
        for (const patientId of ['pat1', 'pat-2']) {
          const input = {
            actor,
            patientId,
            sourceId,
            view,
            now: NOW,
            freshAfter: new Date(NOW.getTime() - 600_000),
            ticketLimit: 50,
          };
          const built = dialect.sqlToQuery(patientViewFastStatement(input));
          const cached = patientViewFastQuery(input);
          expect(cached.sql).toBe(built.sql);
          expect(cached.params).toHaveLength(built.params.length);
          // Only the audit row's own id (and its timestamp, when the millisecond turned) differ.
          const differing = cached.params.flatMap((value, i) => (value === built.params[i] ? [] : [String(value)]));
          expect(differing[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
          expect(differing.slice(1).every((v) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(v))).toBe(true);
          expect(differing.length).toBeLessThanOrEqual(2);
          expect(cached.params).toContain(patientId);
          if (sourceId) expect(cached.params).toContain(sourceId);
        }
      }
    }
  });

  it('the watermark check reads fhir_resource_patient_idx, never a table scan', async () => {
    const { tenantId } = await cachedTenant();
    await database.db.execute(sql`analyze fhir_resource`);
    const plan = await database.db.transaction(async (tx) => {
      await tx.execute(sql`set local enable_seqscan = off`);
      return database.query<Record<string, string>>(
        sql`explain select count(*) from ${schema.fhirResource} where tenant_id = ${tenantId} and patient_id = 'pat1'
          and resource_type in ('Patient', 'Coverage', 'Claim', 'ClaimResponse', 'ExplanationOfBenefit') and deleted = false`,
        tx,
      );
    });
    const text = plan.map((row) => Object.values(row).join(' ')).join('\n');
    expect(text).toMatch(/fhir_resource_patient_idx/);
    expect(text).not.toMatch(/Seq Scan/);
  });
});

describe('agent view projection after a sync', () => {
  let ehr: SandboxEhr;
  beforeAll(async () => {
    ehr = await startSandboxEhr({ pageSizeMax: 50 });
  });
  afterAll(async () => {
    await ehr.close();
  });

  it('rebuilds the changed patients after a sync run, so a new EOB is in the stored view before any read', async () => {
    const tenantId = await createTestTenant(database);
    const sourceId = await insertSource(database, tenantId, {
      baseUrl: ehr.fhirBaseUrl,
      resourceTypes: ['Patient', 'Coverage', 'Claim', 'ClaimResponse', 'ExplanationOfBenefit'],
    });
    const first = await runSyncJob(deps(database), { tenantId, sourceId });
    expect(first.summary.status).toBe('succeeded');
    expect(first.views).toBeGreaterThan(0);
    const stored = await projectionOf(tenantId, 'pat1');
    expect(stored).toBeDefined();
    expect(stored!.claimsBillingJson).not.toContain('EB-SYNCED-1');

    const eob: ExplanationOfBenefit = {
      ...hl7<ExplanationOfBenefit>('ExplanationOfBenefit-EB3500.json'),
      id: 'EB-SYNCED-1',
      meta: undefined,
    };
    await ehr.updateResource(eob);
    const second = await runSyncJob(deps(database), { tenantId, sourceId });
    expect(second.summary.inserted).toBeGreaterThanOrEqual(1);
    const rebuilt = await projectionOf(tenantId, 'pat1');
    expect(rebuilt!.claimsBillingJson).toContain('EB-SYNCED-1');
    expect(rebuilt!.claimsAgentJson).toContain('EB-SYNCED-1');

    // And the API serves it (through the HTTP route, as text) without rebuilding again.
    const keys = new TokenKeys(TEST_SECRET);
    const sealer = new AuditSealer(database, { delayMs: 5 });
    const app = createApp({ database, keys, sealer, logger: createLogger('info', new LogCapture()) });
    const user = await createTestUser(database, keys, tenantId, ['agent']);
    const res = await app.request('/api/v1/patients/pat1/context', jsonRequest(user.token, 'GET'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(await res.text()).toContain('EB-SYNCED-1');
    expect((await projectionOf(tenantId, 'pat1'))!.builtAt).toEqual(rebuilt!.builtAt);
    await sealer.flush();
  });
});
