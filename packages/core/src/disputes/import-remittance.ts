// X12 835 import into the cache (issue 5, X835-02..07): parse and map everything first (a malformed file
// throws before any write), then store each EOB under the tenant's `x12-835` source, matched to its Claim
// by patient control number, and feed the same denial rules as synced adjudications.

import { and, eq, sql } from 'drizzle-orm';
import type { Claim, ExplanationOfBenefit } from 'fhir/r4';
import { recordAudit } from '../audit/record';
import type { Actor, Clock } from '../context/actor';
import { systemClock } from '../context/actor';
import type { Database, Executor, Tx } from '../db/database';
import { fhirResource, source } from '../db/schema/sources';
import { ValidationError } from '../errors';
import { import835 } from '../x12/import-835';
import { eobMatchesClaimIdentifier, PATIENT_CONTROL_NUMBER_SYSTEM } from '../x12/remittance-to-eob';
import { type AutoOpenResult, processAdjudicationChanges } from './auto-open';
import { relativeRef } from './dispute-service';

export const X12_SOURCE_KIND = 'x12-835';

/** The cache writer (connectors' `upsertResources`), injected because core does not depend on connectors. */
export type ResourceWriter = (
  tx: Executor,
  scope: { tenantId: string; sourceId: string },
  items: ReadonlyArray<{ resource: Record<string, unknown> & { resourceType: string; id: string } }>,
  fetchedAt: Date,
) => Promise<{ inserted: number; updated: number; unchanged: number }>;

export interface ImportRemittanceInput {
  text: string;
  write: ResourceWriter;
  clock?: Clock;
}

export interface ImportedEob {
  id: string;
  /** `Claim/…` when the patient control number matched a cached Claim. */
  claim: string | null;
}

export interface RemittanceImportResult {
  sourceId: string;
  eobs: ImportedEob[];
  inserted: number;
  updated: number;
  unchanged: number;
  disputes: AutoOpenResult;
}

/** The tenant's `x12-835` source, created on first import (an advisory lock keeps it single). */
export async function ensureRemittanceSource(tx: Tx, tenantId: string, now: Date): Promise<string> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`x12-source:${tenantId}`}, 0))`);
  const [found] = await tx
    .select({ id: source.id })
    .from(source)
    .where(and(eq(source.tenantId, tenantId), eq(source.kind, X12_SOURCE_KIND)))
    .limit(1);
  if (found) return found.id;
  const [created] = await tx
    .insert(source)
    .values({
      tenantId,
      name: 'X12 835 remittances',
      kind: X12_SOURCE_KIND,
      resourceTypes: ['ExplanationOfBenefit'],
      syncMode: 'import',
      createdAt: now,
      updatedAt: now,
    })
    .returning({ id: source.id });
  return created!.id;
}

/** The cached Claim whose identifier holds the 835 patient control number (CLP01), if exactly one does. */
async function matchClaim(
  tx: Executor,
  tenantId: string,
  eob: ExplanationOfBenefit,
): Promise<{ id: string; resource: Claim } | undefined> {
  const pcn = eob.identifier?.find((i) => i.system === PATIENT_CONTROL_NUMBER_SYSTEM)?.value;
  if (!pcn) return undefined;
  const rows = await tx
    .select({ id: fhirResource.resourceId, resource: fhirResource.resource })
    .from(fhirResource)
    .where(
      and(
        eq(fhirResource.tenantId, tenantId),
        eq(fhirResource.resourceType, 'Claim'),
        eq(fhirResource.deleted, false),
        sql`${fhirResource.resource}->'identifier' @> ${JSON.stringify([{ value: pcn }])}::jsonb`,
      ),
    )
    .limit(2);
  const matches = rows.filter((r) => eobMatchesClaimIdentifier(eob, r.resource as unknown as Claim));
  // Two Claims with one control number is ambiguous: leave the EOB unmatched rather than guess.
  return matches.length === 1 ? { id: matches[0]!.id, resource: matches[0]!.resource as unknown as Claim } : undefined;
}

/**
 * Imports one 835 file for a tenant in one transaction. Deterministic EOB ids plus the writer's content hash
 * make a second import of the same file change nothing. Unbalanced remits are rejected, never "fixed" (X835-06).
 */
export async function importRemittance(
  database: Database,
  actor: Actor,
  input: ImportRemittanceInput,
): Promise<RemittanceImportResult> {
  const mapped = import835(input.text);
  if (mapped.problems.length > 0) {
    throw new ValidationError(
      'X12 file rejected: the remittance does not balance',
      // Segment, position and line only; `difference` is an amount from the file and stays out (X835-07).
      mapped.problems.map((p) => ({
        field: `${p.segment}@${p.position}`,
        message: `${p.code}: ${p.message} (line ${p.line})`,
      })),
    );
  }
  const now = new Date(Math.floor((input.clock ?? systemClock).now().getTime()));
  return database.db.transaction(async (tx) => {
    const sourceId = await ensureRemittanceSource(tx, actor.tenantId, now);
    const eobs: ExplanationOfBenefit[] = [];
    const imported: ImportedEob[] = [];
    for (const eob of mapped.eobs) {
      const claim = await matchClaim(tx, actor.tenantId, eob);
      const linked: ExplanationOfBenefit = { ...eob };
      if (claim) {
        linked.claim = { reference: `Claim/${claim.id}` };
        const patient = relativeRef(claim.resource.patient, ['Patient']);
        if (patient) linked.patient = { reference: patient };
      }
      eobs.push(linked);
      imported.push({ id: eob.id!, claim: claim ? `Claim/${claim.id}` : null });
    }
    const written = await input.write(
      tx,
      { tenantId: actor.tenantId, sourceId },
      eobs.map((resource) => ({
        resource: resource as unknown as Record<string, unknown> & { resourceType: string; id: string },
      })),
      now,
    );
    const disputes = await processAdjudicationChanges(tx, {
      tenantId: actor.tenantId,
      sourceId,
      resources: eobs,
      clock: { now: () => now },
    });
    const patients = [
      ...new Set(eobs.map((e) => relativeRef(e.patient, ['Patient'])).filter((p): p is string => Boolean(p))),
    ];
    await recordAudit(
      tx,
      actor,
      [
        {
          action: 'remittance.import',
          fhirAction: 'C',
          entityType: 'Source',
          entityId: sourceId,
          detail: {
            eobs: eobs.length,
            inserted: written.inserted,
            updated: written.updated,
            unchanged: written.unchanged,
          },
        },
        ...patients.map((p) => ({
          action: 'remittance.import',
          fhirAction: 'C' as const,
          entityType: 'ExplanationOfBenefit',
          patientRef: p,
        })),
      ],
      now,
    );
    return { sourceId, eobs: imported, ...written, disputes };
  });
}
