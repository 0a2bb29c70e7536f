// The agent view's hot read must be an index scan on fhir_resource_patient_idx, never a table scan
// (STYLE: fast queries name their index; benchmark p99 < 15 ms with 1M cached resources).
import { randomUUID } from 'node:crypto';
import { changedPatientsStatement, type Database, patientCacheQuery } from '@fhirdesk/core';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { changedAdjudicationsQuery } from '../../packages/server/src/jobs/sync-job';
import { createTestTenant, openTestDatabase } from '../support/db';

let database: Database;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => {
  await database.close();
});

async function planOf(tenantId: string, sourceId?: string): Promise<string> {
  const plan = await database.db.transaction(async (tx) => {
    // Planner statistics of a tiny test table favour a seq scan; forbidding it shows an index serves the query.
    await tx.execute(sql`set local enable_seqscan = off`);
    return database.query<Record<string, string>>(
      sql`explain ${patientCacheQuery(tx, tenantId, 'pat1', sourceId)}`,
      tx,
    );
  });
  return plan.map((row) => Object.values(row).join(' ')).join('\n');
}

it('reads a patient through fhir_resource_patient_idx, never a table scan', async () => {
  const tenantId = await createTestTenant(database);
  const text = await planOf(tenantId);
  expect(text).toMatch(/fhir_resource_patient_idx/);
  expect(text).not.toMatch(/Seq Scan/);
});

it('still reads through an index when the caller names the source', async () => {
  const tenantId = await createTestTenant(database);
  const text = await planOf(tenantId, randomUUID());
  expect(text).toMatch(/fhir_resource_patient_idx|fhir_resource_pk/);
  expect(text).not.toMatch(/Seq Scan/);
});

// After every sync run two readers ask "what did this run change?" (fetched_at at or after the run's start):
// they must use fhir_resource_fetched_idx / fhir_resource_deleted_idx, not scan the tenant's whole cache.
async function planOfStatement(statement: ReturnType<typeof sql>): Promise<string> {
  const plan = await database.db.transaction(async (tx) => {
    await tx.execute(sql`set local enable_seqscan = off`);
    return database.query<Record<string, string>>(sql`explain ${statement}`, tx);
  });
  return plan.map((row) => Object.values(row).join(' ')).join('\n');
}

/**
 * A source with a cache of 5,000 rows fetched over the days before `lastRun`, a handful of them by the last
 * run. `lastRun` lies in the future: on a shared PostgreSQL test database the other test files' rows were all
 * fetched minutes ago, and ANALYZE would then tell the planner that "fetched since the run started" matches
 * most of the table, which no real cache looks like.
 */
const lastRun = new Date('2100-01-01T00:00:00Z');
async function syncedCache(): Promise<{ tenantId: string; sourceId: string }> {
  const tenantId = await createTestTenant(database);
  const sourceId = randomUUID();
  await database.db.execute(
    sql`insert into source (id, tenant_id, name, kind, base_url) values (${sourceId}, ${tenantId}, 'EHR', 'sandbox', 'http://127.0.0.1:1/fhir')`,
  );
  await database.db.execute(sql`insert into fhir_resource
      (tenant_id, source_id, resource_type, resource_id, patient_id, resource, content_hash, fetched_at, deleted, deleted_at)
    select ${tenantId}, ${sourceId}, (array['Patient','Coverage','Claim','ClaimResponse','ExplanationOfBenefit'])[1 + g % 5],
      'r' || g, 'p' || (g / 5), '{}'::jsonb, md5(g::text), ${lastRun.toISOString()}::timestamptz - (g || ' minutes')::interval,
      g % 500 = 0, case when g % 500 = 0 then ${lastRun.toISOString()}::timestamptz - (g || ' minutes')::interval end
    from generate_series(1, 5000) g`);
  await database.db.execute(sql`analyze fhir_resource`);
  return { tenantId, sourceId };
}

it('finds the patients a sync run changed through the fetched_at and deleted_at indexes', async () => {
  const scope = await syncedCache();
  const text = await planOfStatement(changedPatientsStatement(scope, new Date(lastRun.getTime() - 3 * 60_000)));
  expect(text).toMatch(/fhir_resource_fetched_idx/);
  expect(text).toMatch(/fhir_resource_deleted_idx/);
  expect(text).not.toMatch(/Seq Scan/);
});

it('reads the adjudications a sync run changed (dispute auto-open) through fhir_resource_fetched_idx', async () => {
  const scope = await syncedCache();
  const query = changedAdjudicationsQuery(
    database.db,
    scope,
    new Date(lastRun.getTime() - 3 * 60_000),
    { type: 'ClaimResponse', id: 'x' },
    500,
  ).getSQL();
  const text = await planOfStatement(query);
  expect(text).toMatch(/fhir_resource_fetched_idx/);
  expect(text).not.toMatch(/Seq Scan/);
});
