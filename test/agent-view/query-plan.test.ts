// The agent view's hot read must be an index scan on fhir_resource_patient_idx, never a table scan
// (STYLE: fast queries name their index; benchmark p99 < 15 ms with 1M cached resources).
import { randomUUID } from 'node:crypto';
import { type Database, patientCacheQuery } from '@fhirdesk/core';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
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
