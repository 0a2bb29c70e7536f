// The cache upsert rules (INC-01, BS-09): newer wins, identical content is a no-op, deletions are marks.
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markDeleted, upsertResources } from '../../packages/connectors/src/sync/cache-writer';
import type { Database } from '../../packages/core/src/db/database';
import { fhirResource } from '../../packages/core/src/db/schema/index';
import { createTestTenant, openTestDatabase } from '../support/db';
import { insertSource } from './support';

let database: Database;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => {
  await database?.close();
});

const claim = (versionId: string, lastUpdated: string, status: string) => ({
  resourceType: 'Claim',
  id: 'c1',
  meta: { versionId, lastUpdated },
  status,
  patient: { reference: 'Patient/p1' },
  total: { value: 508.14400000000006, currency: 'USD' },
});

async function scope() {
  const tenantId = await createTestTenant(database);
  const sourceId = await insertSource(database, tenantId, { baseUrl: 'http://127.0.0.1:9/fhir' });
  return { tenantId, sourceId };
}

async function row(s: { tenantId: string; sourceId: string }) {
  const [r] = await database.db
    .select()
    .from(fhirResource)
    .where(
      and(
        eq(fhirResource.tenantId, s.tenantId),
        eq(fhirResource.sourceId, s.sourceId),
        eq(fhirResource.resourceId, 'c1'),
      ),
    );
  return r!;
}

describe('upsertResources', () => {
  it('inserts, then ignores identical content, updates a newer version and refuses an older one', async () => {
    const s = await scope();
    const at = new Date();
    const v2 = claim('2', '2026-11-02T10:00:00.000Z', 'active');
    expect(await upsertResources(database.db, s, [{ resource: v2 }], at)).toMatchObject({
      inserted: 1,
      patientIds: ['p1'],
    });
    expect(await upsertResources(database.db, s, [{ resource: { ...v2 } }], at)).toMatchObject({
      inserted: 0,
      updated: 0,
      unchanged: 1,
    });
    const v1 = claim('1', '2026-11-01T10:00:00.000Z', 'draft');
    expect(await upsertResources(database.db, s, [{ resource: v1 }], at)).toMatchObject({ updated: 0, unchanged: 1 });
    expect((await row(s)).versionId).toBe('2');
    const v3 = claim('3', '2026-11-03T10:00:00.000Z', 'cancelled');
    expect(await upsertResources(database.db, s, [{ resource: v3 }], at)).toMatchObject({ updated: 1 });
    const stored = await row(s);
    expect(stored.versionId).toBe('3');
    expect(stored.patientId).toBe('p1');
    // Money floats stay as published (jsonb).
    expect((stored.resource as { total: { value: number } }).total.value).toBe(508.14400000000006);
  });

  it('keeps the newest copy when one page carries the same resource twice', async () => {
    const s = await scope();
    const items = [claim('5', '2026-11-05T00:00:00Z', 'active'), claim('4', '2026-11-04T00:00:00Z', 'draft')].map(
      (resource) => ({ resource }),
    );
    expect(await upsertResources(database.db, s, items, new Date())).toMatchObject({ inserted: 1 });
    expect((await row(s)).versionId).toBe('5');
  });

  it('marks deletions without removing rows and revives only with a version newer than the deletion', async () => {
    const s = await scope();
    await upsertResources(database.db, s, [{ resource: claim('1', '2026-11-01T00:00:00Z', 'active') }], new Date());
    // A deletion reported as of before our copy was updated is stale and ignored.
    expect(
      await markDeleted(
        database.db,
        s,
        [{ resourceType: 'Claim', resourceId: 'c1' }],
        new Date('2026-10-01T00:00:00Z'),
      ),
    ).toBe(0);
    expect(
      await markDeleted(
        database.db,
        s,
        [{ resourceType: 'Claim', resourceId: 'c1' }],
        new Date('2026-11-02T00:00:00Z'),
      ),
    ).toBe(1);
    expect((await row(s)).deleted).toBe(true);
    await upsertResources(database.db, s, [{ resource: claim('1', '2026-11-01T00:00:00Z', 'active') }], new Date());
    expect((await row(s)).deleted).toBe(true);
    await upsertResources(database.db, s, [{ resource: claim('2', '2026-11-03T00:00:00Z', 'active') }], new Date());
    const revived = await row(s);
    expect(revived.deleted).toBe(false);
    expect(revived.deletedAt).toBeNull();
  });
});
