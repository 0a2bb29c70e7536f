// The sync job: run the connector, then feed what the run changed to the denial rules (issue 5: "when a
// sync brings a new or changed ClaimResponse/EOB … open a claim-dispute ticket") and to the agent view's
// projection (issue 4). Auto-open is
// idempotent (one ticket per claim and reason), so a retried job or an overlapping run opens nothing twice.
import { type ConnectorDeps, runSync, type SyncJob, type SyncSummary } from '@fhirdesk/connectors';
import {
  type AutoOpenResult,
  type Database,
  processAdjudicationChanges,
  rebuildChangedPatientViews,
  schema,
} from '@fhirdesk/core';
import { and, asc, eq, gt, gte, inArray, or } from 'drizzle-orm';

const { fhirResource } = schema;
const ADJUDICATIONS = ['ClaimResponse', 'ExplanationOfBenefit'];

export interface SyncJobResult {
  summary: SyncSummary;
  disputes: { opened: number; existing: number; reversals: number };
  /** Patients whose agent-view projection the run rebuilt (issue #4). */
  views: number;
}

/**
 * One batch of the source's adjudications written at or after `since`, after `after` in (type, id) order.
 * Served by `fhir_resource_fetched_idx` (tenant, source, fetched_at): a run changes few rows of a large cache.
 */
export function changedAdjudicationsQuery(
  db: Database['db'],
  job: Pick<SyncJob, 'tenantId' | 'sourceId'>,
  since: Date,
  after: { type: string; id: string } | null,
  limit: number,
) {
  const where = [
    eq(fhirResource.tenantId, job.tenantId),
    eq(fhirResource.sourceId, job.sourceId),
    inArray(fhirResource.resourceType, ADJUDICATIONS),
    gte(fhirResource.fetchedAt, since),
    eq(fhirResource.deleted, false),
  ];
  if (after) {
    where.push(
      or(
        gt(fhirResource.resourceType, after.type),
        and(eq(fhirResource.resourceType, after.type), gt(fhirResource.resourceId, after.id)),
      )!,
    );
  }
  return db
    .select({ type: fhirResource.resourceType, id: fhirResource.resourceId, resource: fhirResource.resource })
    .from(fhirResource)
    .where(and(...where))
    .orderBy(asc(fhirResource.resourceType), asc(fhirResource.resourceId))
    .limit(limit);
}

/** Adjudications of the source written (inserted or updated) at or after `since`, in batches. */
export async function openDisputesForChanges(
  database: Database,
  job: Pick<SyncJob, 'tenantId' | 'sourceId'>,
  since: Date,
  batchSize = 500,
): Promise<SyncJobResult['disputes']> {
  const totals = { opened: 0, existing: 0, reversals: 0 };
  let after: { type: string; id: string } | null = null;
  for (;;) {
    const rows = await changedAdjudicationsQuery(database.db, job, since, after, batchSize);
    if (rows.length === 0) return totals;
    const result: AutoOpenResult = await processAdjudicationChanges(database, {
      tenantId: job.tenantId,
      sourceId: job.sourceId,
      resources: rows.map((r) => r.resource),
    });
    totals.opened += result.opened.length;
    totals.existing += result.existing.length;
    totals.reversals += result.reversals.length;
    const last = rows[rows.length - 1]!;
    after = { type: last.type, id: last.id };
    if (rows.length < batchSize) return totals;
  }
}

export async function runSyncJob(connectors: ConnectorDeps, job: SyncJob): Promise<SyncJobResult> {
  // Rows the run writes get fetched_at = now at their page; anything at or after this instant changed.
  const since = new Date(Date.now() - 1000);
  const summary = await runSync(connectors, job);
  const disputes =
    summary.inserted + summary.updated > 0
      ? await openDisputesForChanges(connectors.database, job, since)
      : { opened: 0, existing: 0, reversals: 0 };
  // The agent view reads precomputed parts; rebuild the changed patients' now rather than on their first view.
  const views =
    summary.inserted + summary.updated + summary.deleted > 0
      ? await rebuildChangedPatientViews(connectors.database, job, since, { parallel: 2 })
      : 0;
  return { summary, disputes, views };
}
