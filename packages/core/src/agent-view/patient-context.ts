// The agent view of one patient as one value (DESIGN §4), assembled from cache rows by a pure function.
import type { Claim, ClaimResponse, Coverage, ExplanationOfBenefit, HumanName, Patient } from 'fhir/r4';
import type { TicketPriority, TicketStatus } from '../db/schema/enums';
import type { CodeTables } from '../fhir/adjudication/code-tables';
import { type CacheFreshness, type ClaimRow, toClaimRows } from './claim-row';
import { type CoverageCard, coverageCardsFromEobs, sortCoverageCards, toCoverageCard } from './coverage-card';
import { type PatientBanner, toPatientBanner } from './patient-banner';

/** Oldest and newest `fetched_at` of the rows behind one part (VIEW-04); null when the part is empty. */
export interface PartFreshness {
  oldest: string | null;
  newest: string | null;
}

export interface ContextWarning {
  /** `stale`: the EHR could not be reached, so the cache as of `asOf` is shown. */
  code: 'stale';
  asOf: string | null;
  message: string;
}

export interface TicketSummary {
  id: string;
  number: string;
  subject: string;
  status: TicketStatus;
  priority: TicketPriority;
  category: string;
  createdAt: string;
  ageSeconds: number;
  assignee: { id: string; displayName: string } | null;
}

export interface PatientContext {
  patient: { id: string; sourceId: string; banner: PatientBanner; freshness: CacheFreshness };
  coverages: { items: (CoverageCard & { freshness: CacheFreshness | null })[]; fetchedAt: PartFreshness };
  claims: { items: ClaimRow[]; fetchedAt: PartFreshness };
  tickets: { items: TicketSummary[]; asOf: string };
  warnings: ContextWarning[];
  /** True when this request refreshed the patient from the EHR before answering. */
  refreshed: boolean;
}

/** One cached resource as the view reads it. */
export interface CachedResource {
  resourceType: string;
  resourceId: string;
  sourceId: string;
  resource: Record<string, unknown>;
  lastUpdated: string | null;
  fetchedAt: Date;
}

export interface AssembleInput {
  patientId: string;
  sourceId: string;
  rows: readonly CachedResource[];
  /** Display names of referenced Organizations / Practitioners, by `Type/id`. */
  names: ReadonlyMap<string, string>;
  tickets: TicketSummary[];
  now: Date;
  warnings?: ContextWarning[];
  refreshed?: boolean;
  tables?: CodeTables;
}

function partFreshness(rows: readonly CachedResource[]): PartFreshness {
  if (rows.length === 0) return { oldest: null, newest: null };
  let oldest = rows[0]!.fetchedAt;
  let newest = oldest;
  for (const r of rows) {
    if (r.fetchedAt < oldest) oldest = r.fetchedAt;
    if (r.fetchedAt > newest) newest = r.fetchedAt;
  }
  return { oldest: oldest.toISOString(), newest: newest.toISOString() };
}

const freshnessOf = (row: CachedResource): CacheFreshness => ({
  lastUpdated: row.lastUpdated,
  fetchedAt: row.fetchedAt.toISOString(),
});

/** Display text of an Organization `name` (string) or a Practitioner `name` (HumanName[]). */
export function nameText(name: unknown): string | undefined {
  if (typeof name === 'string') return name;
  if (Array.isArray(name)) {
    const n = (name as HumanName[]).find((h) => h.use === 'official') ?? (name as HumanName[])[0];
    if (!n) return undefined;
    if (n.text) return n.text;
    const text = [...(n.prefix ?? []), ...(n.given ?? []), n.family ?? ''].filter(Boolean).join(' ');
    return text || undefined;
  }
  return undefined;
}

/** Returns undefined when the cache holds no Patient row for the id (the caller answers 404). */
export function assemblePatientContext(input: AssembleInput): PatientContext | undefined {
  const of = (type: string) => input.rows.filter((r) => r.resourceType === type);
  const patientRow = of('Patient').find((r) => r.resourceId === input.patientId);
  if (!patientRow) return undefined;
  const today = input.now.toISOString().slice(0, 10);
  const names = (key: string) => input.names.get(key);
  const byKey = new Map(input.rows.map((r) => [`${r.resourceType}/${r.resourceId}`, r]));

  const coverageRows = of('Coverage');
  const eobRows = of('ExplanationOfBenefit');
  let coverages: PatientContext['coverages']['items'];
  let coverageFreshnessRows: CachedResource[];
  if (coverageRows.length > 0) {
    coverages = sortCoverageCards(
      coverageRows.map((r) => toCoverageCard(r.resource as unknown as Coverage, { names, today })),
    ).map((card) => {
      const row = card.id ? byKey.get(`Coverage/${card.id}`) : undefined;
      return { ...card, freshness: row ? freshnessOf(row) : null };
    });
    coverageFreshnessRows = coverageRows;
  } else {
    // No top-level Coverage from this source: fall back to the coverages its EOBs carry.
    coverages = coverageCardsFromEobs(
      eobRows.map((r) => r.resource as unknown as ExplanationOfBenefit),
      { names, today },
    ).map((card) => ({ ...card, freshness: null }));
    coverageFreshnessRows = coverages.length > 0 ? eobRows : [];
  }

  const claimRows = [...of('Claim'), ...eobRows, ...of('ClaimResponse')];
  const claims = toClaimRows({
    claims: of('Claim').map((r) => r.resource as unknown as Claim),
    eobs: eobRows.map((r) => r.resource as unknown as ExplanationOfBenefit),
    claimResponses: of('ClaimResponse').map((r) => r.resource as unknown as ClaimResponse),
    names,
    freshness: (key) => {
      const row = byKey.get(key);
      return row ? freshnessOf(row) : undefined;
    },
    tables: input.tables,
  });

  return {
    patient: {
      id: input.patientId,
      sourceId: input.sourceId,
      banner: toPatientBanner(patientRow.resource as unknown as Patient),
      freshness: freshnessOf(patientRow),
    },
    coverages: { items: coverages, fetchedAt: partFreshness(coverageFreshnessRows) },
    claims: { items: claims, fetchedAt: partFreshness(claimRows) },
    tickets: { items: input.tickets, asOf: input.now.toISOString() },
    warnings: input.warnings ?? [],
    refreshed: input.refreshed ?? false,
  };
}
