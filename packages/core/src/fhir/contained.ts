// Coverage published inside an EOB (`insurance.coverage = #coverage`, common in CARIN BB and Synthea-style
// payers) has no id of its own on the server, so the agent view reads it from the EOB (C4BB; R4 references.html#contained).
import type { Coverage, ExplanationOfBenefit } from 'fhir/r4';

export interface ContainedCoverage {
  /** Local id inside the EOB (`coverage` for `#coverage`). */
  localId: string;
  /** Whether `insurance[].focal` marks it as the coverage the EOB was adjudicated under. */
  focal: boolean;
  coverage: Coverage;
}

/** Coverages contained in an EOB and referenced from `insurance[].coverage` as `#id`, in insurance order. */
export function containedCoverages(eob: ExplanationOfBenefit): ContainedCoverage[] {
  const contained = new Map<string, Coverage>();
  for (const r of eob.contained ?? []) {
    if (r.resourceType === 'Coverage' && typeof r.id === 'string') contained.set(r.id, r as Coverage);
  }
  const out: ContainedCoverage[] = [];
  const seen = new Set<string>();
  for (const insurance of eob.insurance ?? []) {
    const ref = insurance.coverage?.reference;
    if (!ref?.startsWith('#')) continue;
    const localId = ref.slice(1);
    const coverage = contained.get(localId);
    if (!coverage || seen.has(localId)) continue;
    seen.add(localId);
    out.push({ localId, focal: insurance.focal === true, coverage });
  }
  return out;
}
