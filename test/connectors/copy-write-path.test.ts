// The two write paths of the cache writer (issue #3 bench): COPY + merge on postgres.js and multi-row INSERT
// on PGlite must leave the same cache and report the same counts, hostile strings included (INC-01, BS-09).
import { and, asc, eq, sql } from 'drizzle-orm';
import type { Resource } from 'fhir/r4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CacheItem,
  copyField,
  markDeleted,
  upsertResources,
  upsertResourcesVia,
  type WritePath,
} from '../../packages/connectors/src/sync/cache-writer';
import type { Database } from '../../packages/core/src/db/database';
import { fhirResource } from '../../packages/core/src/db/schema/index';
import { loadHl7Examples, loadSyntheaBundles } from '../fixtures/fhir-r4-fixtures';
import { createTestTenant, openTestDatabase } from '../support/db';
import { insertSource } from './support';

let database: Database;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => {
  await database?.close();
});

type Scope = { tenantId: string; sourceId: string };
const onPostgres = Boolean(process.env.DATABASE_URL);

async function newScope(): Promise<Scope> {
  const tenantId = await createTestTenant(database);
  const sourceId = await insertSource(database, tenantId, { baseUrl: 'http://127.0.0.1:9/fhir' });
  return { tenantId, sourceId };
}

/** Strings COPY text format must escape (or that look like its markers), inside JSON and in plain columns. */
const HOSTILE = [
  'back\\slash',
  'tab\there',
  'new\nline',
  'carriage\rreturn',
  '\\.',
  '\\N',
  '\\\\N',
  'end\\',
  '"quoted" \'single\'',
  'ünïcødé ✓ 𝄞 😀',
  '\u2028\u2029',
  '\x01\x1f\x7f',
];

function hostileResources(): Resource[] {
  return HOSTILE.map((text, i) => ({
    resourceType: 'Patient',
    id: `hostile-${i}`,
    // Plain text columns get the strings too: versionId as published, a lastUpdated that is not an instant.
    meta: { versionId: text, lastUpdated: i % 2 === 0 ? text : '2026-11-01T00:00:00.000Z' },
    name: [{ text, family: text, given: [text, `${text}${text}`] }],
    extension: [{ url: 'http://example.org/hostile', valueString: text }],
  })) as Resource[];
}

function fixtureResources(): Resource[] {
  const out: Resource[] = loadHl7Examples().map((f) => f.resource);
  for (const { bundle } of loadSyntheaBundles().slice(0, 3)) {
    for (const e of bundle.entry ?? []) if (e.resource) out.push(e.resource);
  }
  return [...out, ...hostileResources()].filter((r) => typeof r.id === 'string');
}

const items = (resources: Resource[]): CacheItem[] => resources.map((r) => ({ resource: r as CacheItem['resource'] }));

function bumped(resource: Resource, minutes: number, extra: Record<string, unknown> = {}): Resource {
  const base = Date.parse(resource.meta?.lastUpdated ?? '') || Date.parse('2026-11-01T00:00:00.000Z');
  return {
    ...resource,
    ...extra,
    meta: { ...resource.meta, lastUpdated: new Date(base + minutes * 60_000).toISOString() },
  } as Resource;
}

async function cache(scope: Scope) {
  const rows = await database.db
    .select()
    .from(fhirResource)
    .where(and(eq(fhirResource.tenantId, scope.tenantId), eq(fhirResource.sourceId, scope.sourceId)))
    .orderBy(asc(fhirResource.resourceType), asc(fhirResource.resourceId));
  return rows.map(({ tenantId: _t, sourceId: _s, ...rest }) => rest);
}

/** The same sequence of pages through one path: first load, repeat, newer + older + duplicate copies, deletions. */
async function replay(path: WritePath, scope: Scope) {
  const resources = fixtureResources();
  const at = (n: number) => new Date(Date.parse('2026-11-20T00:00:00.000Z') + n * 1000);
  const write = (page: Resource[], n: number) =>
    database.db.transaction((tx) => upsertResourcesVia(path, tx, scope, items(page), at(n)));
  const results = [];
  results.push(await write(resources, 1));
  results.push(await write(resources, 2));
  const changed = resources.filter((_, i) => i % 3 === 0).map((r) => bumped(r, 5, { text: undefined }));
  const older = resources.filter((_, i) => i % 3 === 1).map((r) => bumped(r, -5, { language: 'x-old' }));
  const twice = resources.filter((_, i) => i % 7 === 2).flatMap((r) => [bumped(r, 9), bumped(r, 8)]);
  results.push(await write([...changed, ...older, ...twice], 3));
  const gone = resources.filter((_, i) => i % 5 === 4);
  const deleted = await database.db.transaction((tx) =>
    markDeleted(
      tx,
      scope,
      gone.map((r) => ({ resourceType: r.resourceType, resourceId: r.id! })),
      new Date('2030-01-01T00:00:00.000Z'),
    ),
  );
  // Revival needs a version after the deletion; half come back.
  const back = gone.filter((_, i) => i % 2 === 0).map((r) => ({ ...r, meta: { lastUpdated: '2030-06-01T00:00:00Z' } }));
  results.push(await write([...back, ...gone.filter((_, i) => i % 2 === 1)], 4));
  return { results, deleted, rows: await cache(scope) };
}

describe('cache writer: COPY path and INSERT path', () => {
  it('escapes COPY text fields and refuses NUL', () => {
    expect(copyField(null)).toBe('\\N');
    expect(copyField('\\N')).toBe('\\\\N');
    expect(copyField('a\\b\tc\nd\re')).toBe('a\\\\b\\tc\\nd\\re');
    expect(copyField('\\.')).toBe('\\\\.');
    expect(copyField('plain ✓')).toBe('plain ✓');
    expect(() => copyField('nul\0here')).toThrow(/NUL/);
  });

  it.runIf(onPostgres)(
    'give identical cache state and counts for the fixtures and hostile strings (PostgreSQL)',
    async () => {
      const [viaCopy, viaInsert] = [await newScope(), await newScope()];
      const copy = await replay('copy', viaCopy);
      const insert = await replay('insert', viaInsert);
      expect(copy.results).toEqual(insert.results);
      expect(copy.deleted).toBe(insert.deleted);
      expect(copy.rows).toEqual(insert.rows);
      // The replay exercised every outcome.
      const sum = (k: 'inserted' | 'updated' | 'unchanged') => copy.results.reduce((a, r) => a + r[k], 0);
      expect([sum('inserted'), sum('updated'), sum('unchanged'), copy.deleted].every((n) => n > 0)).toBe(true);
      // Inside a postgres.js transaction the default path is COPY; hostile strings come back byte for byte,
      // in JSON and in plain columns.
      const auto = await newScope();
      await database.db.transaction((tx) => upsertResources(tx, auto, items(hostileResources()), new Date()));
      const stored = await cache(auto);
      for (const h of hostileResources()) {
        const r = stored.find((x) => x.resourceId === h.id)!;
        expect(r.resource).toEqual(JSON.parse(JSON.stringify(h)));
        expect(r.versionId).toBe(h.meta!.versionId);
        expect(r.lastUpdated).toBe(h.meta!.lastUpdated);
      }
    },
  );

  it.runIf(onPostgres)(
    'two COPY writes in one transaction each merge only their own rows; resources stored compressed by lz4 where available',
    async () => {
      const scope = await newScope();
      const resources = fixtureResources();
      const [first, second] = [resources.slice(0, 20), resources.slice(20, 50)];
      // Same meta, other content: the later copy wins. Left in the staging table, the first write's rows would
      // be merged again by the third write and overwrite it back.
      const edited = first.map((r) => ({ ...r, language: 'x-edited' }) as Resource);
      const results = await database.db.transaction(async (tx) => [
        await upsertResourcesVia('copy', tx, scope, items(first), new Date()),
        await upsertResourcesVia('copy', tx, scope, items(edited), new Date()),
        await upsertResourcesVia('copy', tx, scope, items(second), new Date()),
      ]);
      expect(results.map((r) => [r.inserted, r.updated, r.unchanged])).toEqual([
        [first.length, 0, 0],
        [0, first.length, 0],
        [second.length, 0, 0],
      ]);
      const stored = await cache(scope);
      expect(stored.filter((r) => (r.resource as { language?: string }).language === 'x-edited').length).toBe(
        first.length,
      );
      expect((await cache(scope)).length).toBe(first.length + second.length);
      // The staging table compresses with lz4 and the merge keeps that compression (migration 0008 makes it
      // the column's method too); values too small to compress stay uncompressed.
      const [lz4] = await database.query<{ available: boolean }>(
        sql`select 'lz4' = any (enumvals) as available from pg_settings where name = 'default_toast_compression'`,
      );
      const methods = await database.query<{ method: string | null }>(
        sql`select distinct pg_column_compression(resource) as method from fhir_resource
            where tenant_id = ${scope.tenantId} and source_id = ${scope.sourceId}`,
      );
      const compressed = methods.map((m) => m.method).filter((m) => m !== null);
      expect(compressed).toEqual([lz4?.available ? 'lz4' : 'pglz']);
    },
  );

  it.runIf(!onPostgres)('on PGlite writes by INSERT and refuses the COPY path by name', async () => {
    const scope = await newScope();
    const result = await database.db.transaction((tx) =>
      upsertResources(tx, scope, items(hostileResources()), new Date()),
    );
    expect(result.inserted).toBe(HOSTILE.length);
    await expect(
      database.db.transaction((tx) => upsertResourcesVia('copy', tx, scope, items(hostileResources()), new Date())),
    ).rejects.toThrow(/postgres\.js transaction/);
  });
});
