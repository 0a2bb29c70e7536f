// Splitting a searchset page into cacheable resources, dead letters and surfaced outcomes (REST-03/04).
import { resourceShapeProblem } from '@fhirdesk/core';
import type { Bundle, OperationOutcome } from 'fhir/r4';
import type { CacheItem } from './cache-writer';
import type { DeadLetterItem } from './run-context';

export interface SortedEntries {
  items: CacheItem[];
  deadLetters: DeadLetterItem[];
  warnings: string[];
  fetched: number;
}

/** Severity and codes only: diagnostics text may name a patient (AUD-05 spirit, PHI rule). */
export function summariseOutcome(outcome: OperationOutcome, where: string): string {
  const issues = (outcome.issue ?? []).map((i) => `${i.severity}/${i.code}`).join(', ');
  return `OperationOutcome from ${where}: ${issues || 'no issues'}`;
}

export function sortResource(value: unknown, expectedType: string | undefined, out: SortedEntries): void {
  out.fetched++;
  const problem = resourceShapeProblem(value, expectedType);
  if (problem) {
    const r = (value && typeof value === 'object' ? value : {}) as { resourceType?: unknown; id?: unknown };
    out.deadLetters.push({
      reason: problem,
      resourceType: typeof r.resourceType === 'string' ? r.resourceType : expectedType,
      resourceId: typeof r.id === 'string' ? r.id : undefined,
      payload: value,
    });
    return;
  }
  out.items.push({ resource: value as CacheItem['resource'] });
}

export function sortBundle(bundle: Bundle, expectedType: string | undefined, where: string): SortedEntries {
  const out: SortedEntries = { items: [], deadLetters: [], warnings: [], fetched: 0 };
  for (const entry of bundle.entry ?? []) {
    const mode = entry.search?.mode;
    const resource = entry.resource as unknown;
    const isOutcome = (resource as { resourceType?: unknown } | undefined)?.resourceType === 'OperationOutcome';
    if (mode === 'outcome' || (isOutcome && mode !== 'match')) {
      // REST-04 / ORA-04: surfaced to integration engineers, never stored as data.
      if (isOutcome) out.warnings.push(summariseOutcome(resource as OperationOutcome, where));
      continue;
    }
    // `_include`d resources keep their own type; matches must be of the searched type.
    sortResource(resource, mode === 'include' ? undefined : expectedType, out);
  }
  return out;
}

/** Server time of a page (INC-01): Bundle.meta.lastUpdated, else the Date header; never our clock. */
export function serverTime(bundle: Bundle, headers: Headers): string | null {
  const fromMeta = bundle.meta?.lastUpdated;
  if (fromMeta && !Number.isNaN(Date.parse(fromMeta))) return new Date(Date.parse(fromMeta)).toISOString();
  const date = headers.get('date');
  if (date && !Number.isNaN(Date.parse(date))) return new Date(Date.parse(date)).toISOString();
  return null;
}
