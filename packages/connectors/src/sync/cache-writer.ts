// Writes a page of resources into `fhir_resource` with ONE multi-row INSERT … ON CONFLICT DO UPDATE … WHERE
// newer (issue #3): an older versionId/lastUpdated never overwrites a newer one (INC-01), identical content
// is a no-op, and deletions reported by the source are marks, not row removals (BS-09).
import { contentHash, type Executor, patientOf, schema } from '@fhirdesk/core';
import { and, eq, inArray, sql } from 'drizzle-orm';

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

export async function upsertResources(
  tx: Executor,
  scope: { tenantId: string; sourceId: string },
  items: readonly CacheItem[],
  fetchedAt: Date,
): Promise<PageWriteResult> {
  // One key may appear twice in a page (or a Bulk batch); ON CONFLICT cannot touch a row twice per statement.
  const byKey = new Map<string, Record<string, unknown> & { resourceType: string; id: string }>();
  for (const { resource } of items) {
    const key = `${resource.resourceType}/${resource.id}`;
    const prev = byKey.get(key);
    byKey.set(key, prev ? (newer(prev, resource) as typeof resource) : resource);
  }
  const rows = [...byKey.values()].map((resource) => {
    const m = meta(resource);
    return {
      tenantId: scope.tenantId,
      sourceId: scope.sourceId,
      resourceType: resource.resourceType,
      resourceId: resource.id,
      versionId: m.versionId,
      lastUpdated: m.lastUpdated,
      lastUpdatedAt: instant(m.lastUpdated),
      patientId: patientOf(resource) ?? null,
      resource,
      contentHash: contentHash(resource),
      fetchedAt,
      deleted: false,
      deletedAt: null,
    };
  });
  const result: PageWriteResult = { inserted: 0, updated: 0, unchanged: 0, patientIds: [] };
  const patients = new Set<string>();
  for (const r of rows) if (r.patientId) patients.add(r.patientId);
  result.patientIds = [...patients].sort();

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
        // Newer wins; same content is a no-op; a deleted row comes back only with a version after the deletion.
        setWhere: sql`(
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
        )`,
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
