// Writes a page of resources into `fhir_resource` with ONE merge statement, INSERT … ON CONFLICT DO UPDATE …
// WHERE newer (issue #3): an older versionId/lastUpdated never overwrites a newer one (INC-01), identical
// content is a no-op, and deletions reported by the source are marks, not row removals (BS-09).
// On postgres.js the page travels by COPY into a session-local staging table and is merged by one
// INSERT … SELECT (building 500-row INSERTs cost ~22% of engine CPU); on PGlite, multi-row INSERTs. Either way
// `fhir_resource` only ever sees ordinary INSERT/UPDATE statements, so its triggers fire as usual.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { canonicalResourceJson, type Executor, hashCanonicalJson, patientOf, schema } from '@fhirdesk/core';
import { and, eq, inArray, type SQL, sql } from 'drizzle-orm';

const { fhirResource } = schema;

export interface CacheItem {
  resource: Record<string, unknown> & { resourceType: string; id: string };
}

export interface PageWriteResult {
  inserted: number;
  updated: number;
  unchanged: number;
  /** Distinct patient ids touched, for the per-patient audit row (AUD-07). */
  patientIds: string[];
}

function instant(value: unknown): Date | null {
  if (typeof value !== 'string') return null;
  const t = Date.parse(value);
  return Number.isNaN(t) ? null : new Date(t);
}

function meta(resource: Record<string, unknown>): { versionId: string | null; lastUpdated: string | null } {
  const m = (resource.meta ?? {}) as { versionId?: unknown; lastUpdated?: unknown };
  return {
    versionId: typeof m.versionId === 'string' ? m.versionId : null,
    lastUpdated: typeof m.lastUpdated === 'string' ? m.lastUpdated : null,
  };
}

/** Newer of two copies of one resource: lastUpdated first, then a numeric versionId. */
function newer(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const ma = meta(a);
  const mb = meta(b);
  const ta = instant(ma.lastUpdated)?.getTime() ?? 0;
  const tb = instant(mb.lastUpdated)?.getTime() ?? 0;
  if (ta !== tb) return ta > tb ? a : b;
  const va = Number(ma.versionId);
  const vb = Number(mb.versionId);
  if (Number.isFinite(va) && Number.isFinite(vb) && va !== vb) return va > vb ? a : b;
  return b;
}

const CHUNK = 1000;

/** Newer wins; same content is a no-op; a deleted row comes back only with a version after the deletion. */
function newerWins(): SQL {
  return sql`(
          CASE WHEN ${fhirResource.deleted}
            THEN excluded.last_updated_at IS NOT NULL
              AND (${fhirResource.deletedAt} IS NULL OR excluded.last_updated_at > ${fhirResource.deletedAt})
            ELSE ${fhirResource.contentHash} <> excluded.content_hash
          END
          AND (
            ${fhirResource.lastUpdatedAt} IS NULL OR excluded.last_updated_at IS NULL
            OR excluded.last_updated_at > ${fhirResource.lastUpdatedAt}
            OR (excluded.last_updated_at = ${fhirResource.lastUpdatedAt} AND NOT (
              excluded.version_id ~ '^[0-9]{1,18}$' AND ${fhirResource.versionId} ~ '^[0-9]{1,18}$'
              AND excluded.version_id::bigint < ${fhirResource.versionId}::bigint))
          )
        )`;
}

/** The part of a postgres.js transaction (`TransactionSql`) the COPY path uses. */
interface CopyClient {
  unsafe(query: string): PromiseLike<unknown> & { writable(): Promise<NodeJS.WritableStream> };
  savepoint: unknown;
}

/**
 * The postgres.js connection of a drizzle transaction, or undefined (PGlite, or no transaction: a pool would
 * COPY on one connection and merge on another, and the session-local staging table would not be shared).
 */
function copyClient(tx: Executor): CopyClient | undefined {
  const client = (tx as unknown as { session?: { client?: unknown } }).session?.client;
  if (typeof client !== 'function') return undefined;
  const candidate = client as unknown as Partial<CopyClient>;
  return typeof candidate.savepoint === 'function' && typeof candidate.unsafe === 'function'
    ? (candidate as CopyClient)
    : undefined;
}

const STAGE = 'fhirdesk_resource_stage';
const STAGE_COLUMNS =
  'resource_type, resource_id, version_id, last_updated, last_updated_at, patient_id, resource, content_hash';

/**
 * Makes the session-local staging table exist and be empty, in one round trip. It is emptied at every commit
 * (ON COMMIT DELETE ROWS, cheaper than deleting the rows in the merge); the DELETE only matters when one
 * transaction writes twice, and costs nothing on the empty table otherwise.
 * The staged jsonb is compressed with lz4 where the server has it: COPY then compresses each resource once,
 * and the merge carries the compressed value into `fhir_resource` as it is (pglz cost PostgreSQL about
 * 70 ms per 1,000 resources, half its share of a sync; see docs/benchmarks.md). Without lz4 the staged value
 * stays uncompressed (EXTERNAL), so it is still compressed once, at the merge, with the column's method.
 */
const PREPARE_STAGE = `DO $stage$ BEGIN
  IF to_regclass('pg_temp.${STAGE}') IS NULL THEN
    CREATE TEMP TABLE ${STAGE} (resource_type text NOT NULL, resource_id text NOT NULL, version_id text,
      last_updated text, last_updated_at timestamptz, patient_id text, resource jsonb NOT NULL,
      content_hash text NOT NULL) ON COMMIT DELETE ROWS;
    IF EXISTS (SELECT FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
      ALTER TABLE ${STAGE} ALTER COLUMN resource SET COMPRESSION lz4;
    ELSE
      ALTER TABLE ${STAGE} ALTER COLUMN resource SET STORAGE EXTERNAL;
    END IF;
  ELSE
    DELETE FROM ${STAGE};
  END IF;
END $stage$`;

const COPY_SPECIAL = /[\\\t\n\r]/;

/**
 * One field in COPY text format: `\N` is NULL; backslash, tab, newline and carriage return are escaped, so a
 * data line can never be the `\.` end marker. NUL cannot be carried by COPY (nor stored in text/jsonb).
 */
export function copyField(value: string | null): string {
  if (value === null) return '\\N';
  if (value.includes('\0')) throw new Error('A resource field contains a NUL character, which cannot be stored');
  if (!COPY_SPECIAL.test(value)) return value;
  return value.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

export interface StagedRow {
  resourceType: string;
  resourceId: string;
  versionId: string | null;
  lastUpdated: string | null;
  lastUpdatedAt: Date | null;
  patientId: string | null;
  /** The resource as canonical JSON: the text whose hash is `contentHash`, sent as the jsonb value. */
  canonical: string;
  contentHash: string;
}

async function writeByCopy(
  tx: Executor,
  client: CopyClient,
  scope: { tenantId: string; sourceId: string },
  rows: readonly StagedRow[],
  fetchedAt: Date,
): Promise<{ inserted: number; written: number }> {
  await client.unsafe(PREPARE_STAGE);
  let data = '';
  for (const r of rows) {
    data += `${copyField(r.resourceType)}\t${copyField(r.resourceId)}\t${copyField(r.versionId)}\t${copyField(r.lastUpdated)}\t${copyField(
      r.lastUpdatedAt ? r.lastUpdatedAt.toISOString() : null,
    )}\t${copyField(r.patientId)}\t${copyField(r.canonical)}\t${r.contentHash}\n`;
  }
  const stream = await client.unsafe(`COPY ${STAGE} (${STAGE_COLUMNS}) FROM STDIN`).writable();
  await pipeline(Readable.from([data]), stream);
  // Counts come back as one row: the caller needs how many rows were inserted and updated, not which.
  const returned = await tx.execute<{ inserted: number; written: number }>(sql`
    WITH merged AS (
      INSERT INTO ${fhirResource} (tenant_id, source_id, ${sql.raw(STAGE_COLUMNS)}, fetched_at, deleted, deleted_at)
      SELECT ${scope.tenantId}::uuid, ${scope.sourceId}::uuid, ${sql.raw(STAGE_COLUMNS)},
        ${fetchedAt.toISOString()}::timestamptz, false, NULL
      FROM ${sql.raw(STAGE)}
      ON CONFLICT (tenant_id, source_id, resource_type, resource_id) DO UPDATE SET
        version_id = excluded.version_id, last_updated = excluded.last_updated,
        last_updated_at = excluded.last_updated_at, patient_id = excluded.patient_id, resource = excluded.resource,
        content_hash = excluded.content_hash, fetched_at = excluded.fetched_at, deleted = false, deleted_at = NULL
      WHERE ${newerWins()}
      RETURNING (xmax = 0) AS inserted)
    SELECT (count(*) FILTER (WHERE inserted))::int AS inserted, count(*)::int AS written FROM merged`);
  const [counts] = [...(returned as unknown as Iterable<{ inserted: number; written: number }>)];
  return counts ?? { inserted: 0, written: 0 };
}

export type WritePath = 'copy' | 'insert';

/** Upserts a page (one transaction's worth) of resources: `prepareResources` then `writePrepared`. */
export async function upsertResources(
  tx: Executor,
  scope: { tenantId: string; sourceId: string },
  items: readonly CacheItem[],
  fetchedAt: Date,
): Promise<PageWriteResult> {
  return writePrepared(tx, scope, prepareResources(items), fetchedAt);
}

/** `upsertResources` with the write path named, so tests can hold the two paths to the same results. */
export async function upsertResourcesVia(
  path: WritePath,
  tx: Executor,
  scope: { tenantId: string; sourceId: string },
  items: readonly CacheItem[],
  fetchedAt: Date,
): Promise<PageWriteResult> {
  return writePrepared(tx, scope, prepareResources(items), fetchedAt, path);
}

/** A page reduced to what the merge writes: text only, no parsed resource left. */
export interface PreparedResources {
  rows: readonly StagedRow[];
  /** Distinct patient ids, sorted (AUD-07). */
  patientIds: string[];
}

/**
 * Everything a write needs from the parsed resources, computed before the page's transaction opens. The
 * caller can then drop the parsed page: otherwise it stays reachable across the transaction's round trips,
 * survives young-generation collections and is copied into the old generation (garbage collection was the
 * largest single client cost of a sync; docs/benchmarks.md).
 */
export function prepareResources(items: readonly CacheItem[]): PreparedResources {
  // One key may appear twice in a page (or a Bulk batch); ON CONFLICT cannot touch a row twice per statement.
  const byKey = new Map<string, Record<string, unknown> & { resourceType: string; id: string }>();
  for (const { resource } of items) {
    const key = `${resource.resourceType}/${resource.id}`;
    const prev = byKey.get(key);
    byKey.set(key, prev ? (newer(prev, resource) as typeof resource) : resource);
  }
  const patients = new Set<string>();
  const rows: StagedRow[] = [];
  for (const resource of byKey.values()) {
    const m = meta(resource);
    // The canonical text is hashed and sent as the resource: one serialisation per resource.
    const canonical = canonicalResourceJson(resource);
    const patientId = patientOf(resource) ?? null;
    if (patientId) patients.add(patientId);
    rows.push({
      resourceType: resource.resourceType,
      resourceId: resource.id,
      versionId: m.versionId,
      lastUpdated: m.lastUpdated,
      lastUpdatedAt: instant(m.lastUpdated),
      patientId,
      canonical,
      contentHash: hashCanonicalJson(canonical),
    });
  }
  return { rows, patientIds: [...patients].sort() };
}

/**
 * Upserts prepared resources. Inside a postgres.js transaction the rows go by COPY + merge, elsewhere
 * (PGlite, or outside a transaction) by multi-row INSERTs; results are identical.
 */
export async function writePrepared(
  tx: Executor,
  scope: { tenantId: string; sourceId: string },
  prepared: PreparedResources,
  fetchedAt: Date,
  path: WritePath = copyClient(tx) ? 'copy' : 'insert',
): Promise<PageWriteResult> {
  const staged = prepared.rows;
  const result: PageWriteResult = { inserted: 0, updated: 0, unchanged: 0, patientIds: prepared.patientIds };
  if (staged.length === 0) return result;
  if (path === 'copy') {
    const client = copyClient(tx);
    if (!client) throw new Error('The COPY write path needs a postgres.js transaction');
    const { inserted, written } = await writeByCopy(tx, client, scope, staged, fetchedAt);
    result.inserted = inserted;
    result.updated = written - inserted;
    result.unchanged = staged.length - written;
    return result;
  }
  const rows = staged.map(({ canonical, ...r }) => ({
    ...r,
    tenantId: scope.tenantId,
    sourceId: scope.sourceId,
    resource: sql`${canonical}::jsonb`,
    fetchedAt,
    deleted: false,
    deletedAt: null,
  }));
  for (let i = 0; i < rows.length; i += CHUNK) {
    const chunk = rows.slice(i, i + CHUNK);
    const written = await tx
      .insert(fhirResource)
      .values(chunk)
      .onConflictDoUpdate({
        target: [fhirResource.tenantId, fhirResource.sourceId, fhirResource.resourceType, fhirResource.resourceId],
        set: {
          versionId: sql`excluded.version_id`,
          lastUpdated: sql`excluded.last_updated`,
          lastUpdatedAt: sql`excluded.last_updated_at`,
          patientId: sql`excluded.patient_id`,
          resource: sql`excluded.resource`,
          contentHash: sql`excluded.content_hash`,
          fetchedAt: sql`excluded.fetched_at`,
          deleted: sql`false`,
          deletedAt: sql`null`,
        },
        setWhere: newerWins(),
      })
      .returning({ inserted: sql<boolean>`(xmax = 0)` });
    for (const w of written) {
      if (w.inserted) result.inserted++;
      else result.updated++;
    }
    result.unchanged += chunk.length - written.length;
  }
  return result;
}

export interface DeletionMark {
  resourceType: string;
  resourceId: string;
  /** When the source deleted it (history `response.lastModified`); defaults to the call's `deletedAt`. */
  deletedAt?: Date | undefined;
}

/**
 * Marks resources the source reported as deleted (Bulk `deleted[]`, history DELETE entries). A copy
 * updated after `deletedAt` stays live: the deletion report is older than what we hold.
 */
export async function markDeleted(
  tx: Executor,
  scope: { tenantId: string; sourceId: string },
  marks: readonly DeletionMark[],
  deletedAt: Date,
): Promise<number> {
  let count = 0;
  const groups = new Map<string, { type: string; at: Date; ids: string[] }>();
  for (const m of marks) {
    const at = m.deletedAt ?? deletedAt;
    const key = `${m.resourceType} ${at.toISOString()}`;
    const group = groups.get(key) ?? { type: m.resourceType, at, ids: [] };
    group.ids.push(m.resourceId);
    groups.set(key, group);
  }
  for (const { type, at, ids: all } of groups.values()) {
    for (let i = 0; i < all.length; i += CHUNK) {
      const ids = all.slice(i, i + CHUNK);
      const rows = await tx
        .update(fhirResource)
        .set({ deleted: true, deletedAt: at })
        .where(
          and(
            eq(fhirResource.tenantId, scope.tenantId),
            eq(fhirResource.sourceId, scope.sourceId),
            eq(fhirResource.resourceType, type),
            inArray(fhirResource.resourceId, ids),
            eq(fhirResource.deleted, false),
            sql`(${fhirResource.lastUpdatedAt} IS NULL OR ${fhirResource.lastUpdatedAt} <= ${at.toISOString()}::timestamptz)`,
          ),
        )
        .returning({ id: fhirResource.resourceId });
      count += rows.length;
    }
  }
  return count;
}
