// Shared set-up for connector tests: the real sandbox EHR, the test database, one `source` row per test.
import { randomBytes } from 'node:crypto';
import { and, asc, eq } from 'drizzle-orm';
import type { ConnectorDeps } from '../../packages/connectors/src/index';
import { encryptSecret, type SourceSecrets } from '../../packages/connectors/src/index';
import type { Database } from '../../packages/core/src/db/database';
import { fhirResource, source, syncCheckpoint, syncRun } from '../../packages/core/src/db/schema/index';

export const secretKey = randomBytes(32).toString('hex');

/** No real waiting in tests: Retry-After and backoff delays are recorded, not slept (keeps the suite fast). */
export function fastSleep(log: number[] = []) {
  return async (ms: number, signal?: AbortSignal) => {
    log.push(ms);
    if (signal?.aborted) throw signal.reason;
    await new Promise((r) => setImmediate(r));
  };
}

export function deps(database: Database, extra: Partial<ConnectorDeps> = {}): ConnectorDeps {
  return { database, secretKey, sleep: fastSleep(), retry: { baseMs: 1, capMs: 5 }, ...extra };
}

export interface SourceOptions {
  kind?: string;
  baseUrl: string;
  auth?: Record<string, unknown>;
  secrets?: SourceSecrets;
  resourceTypes?: string[];
  syncMode?: string;
  settings?: Record<string, unknown>;
  concurrency?: number;
}

export async function insertSource(database: Database, tenantId: string, o: SourceOptions): Promise<string> {
  const [row] = await database.db
    .insert(source)
    .values({
      tenantId,
      name: 'Sandbox EHR',
      kind: o.kind ?? 'sandbox',
      baseUrl: o.baseUrl,
      auth: o.auth ?? { mode: 'none' },
      resourceTypes: o.resourceTypes ?? [],
      syncMode: o.syncMode ?? 'incremental',
      concurrency: o.concurrency ?? 2,
      settings: { maxRetries: 4, timeoutMs: 5_000, ...(o.settings ?? {}) },
    })
    .returning({ id: source.id });
  const id = row!.id;
  if (o.secrets) {
    await database.db
      .update(source)
      .set({ secret: encryptSecret(JSON.stringify(o.secrets), secretKey, id) })
      .where(eq(source.id, id));
  }
  return id;
}

/** The cache of one source as comparable rows (without fetch times). */
export async function cacheState(database: Database, tenantId: string, sourceId: string) {
  const rows = await database.db
    .select()
    .from(fhirResource)
    .where(and(eq(fhirResource.tenantId, tenantId), eq(fhirResource.sourceId, sourceId)))
    .orderBy(asc(fhirResource.resourceType), asc(fhirResource.resourceId));
  return rows.map((r) => ({
    key: `${r.resourceType}/${r.resourceId}`,
    versionId: r.versionId,
    lastUpdated: r.lastUpdated,
    patientId: r.patientId,
    contentHash: r.contentHash,
    deleted: r.deleted,
  }));
}

export async function countsByType(
  database: Database,
  tenantId: string,
  sourceId: string,
): Promise<Record<string, number>> {
  const rows = await cacheState(database, tenantId, sourceId);
  const out: Record<string, number> = {};
  for (const r of rows) {
    if (r.deleted) continue;
    const type = r.key.split('/')[0]!;
    out[type] = (out[type] ?? 0) + 1;
  }
  return out;
}

export async function runsOf(database: Database, sourceId: string) {
  return database.db.select().from(syncRun).where(eq(syncRun.sourceId, sourceId)).orderBy(asc(syncRun.startedAt));
}

export async function checkpointsOf(database: Database, sourceId: string) {
  return database.db.select().from(syncCheckpoint).where(eq(syncCheckpoint.sourceId, sourceId));
}

export function pick(counts: Record<string, number>, types: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of types) if (counts[t]) out[t] = counts[t];
  return out;
}
