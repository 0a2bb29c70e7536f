// Coverage → card for the agent view: payer, plan, group, member/subscriber, relationship, period, order.
// Coverages contained in EOBs (Synthea, CARIN BB payers) are shown, de-duplicated, when a source has no
// top-level Coverage (R4 references.html#contained; see fhir/contained.ts).
import type { CodeableConcept, Coverage, ExplanationOfBenefit } from 'fhir/r4';
import { containedCoverages } from '../fhir/contained';
import { keyOfReference, keyString } from './local-reference';

const COVERAGE_CLASS = 'http://terminology.hl7.org/CodeSystem/coverage-class';
const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';

export type CoverageOrigin = 'resource' | 'eob-contained';

export interface CoverageClassValue {
  value: string;
  name: string | null;
}

export interface CoverageCard {
  /** Coverage.id for a top-level Coverage; null for one contained in EOBs. */
  id: string | null;
  origin: CoverageOrigin;
  status: string | null;
  /** True when status is active and the period (if any) includes today; null when unknowable (contained). */
  current: boolean | null;
  type: string | null;
  payer: { name: string | null; reference: string | null };
  plan: CoverageClassValue | null;
  group: CoverageClassValue | null;
  memberId: string | null;
  subscriberId: string | null;
  relationship: string | null;
  period: { start: string | null; end: string | null } | null;
  order: number | null;
  /** For contained coverages: the EOBs that carried it and the service dates they span. */
  seenOn: { eobCount: number; first: string | null; last: string | null } | null;
}

/** Display names of cached Organizations (and other payors) by `Type/id`. */
export type NameLookup = (key: string) => string | undefined;

export function conceptText(concept: CodeableConcept | undefined): string | null {
  if (!concept) return null;
  const coding = concept.coding?.find((c) => c.display) ?? concept.coding?.[0];
  // FIN-37: display, then text, then the bare code — never drop the code.
  return coding?.display ?? concept.text ?? coding?.code ?? null;
}

function classValue(coverage: Coverage, code: 'plan' | 'group'): CoverageClassValue | null {
  const hit = (coverage.class ?? []).find((c) =>
    (c.type.coding ?? []).some((k) => k.code === code && (!k.system || k.system === COVERAGE_CLASS)),
  );
  return hit ? { value: hit.value, name: hit.name ?? null } : null;
}

function memberIdOf(coverage: Coverage): string | null {
  const ids = (coverage.identifier ?? []).filter((i) => i.value);
  const member = ids.find((i) =>
    (i.type?.coding ?? []).some((c) => c.code === 'MB' && (!c.system || c.system === V2_0203)),
  );
  return member?.value ?? ids[0]?.value ?? coverage.subscriberId ?? null;
}

function payerOf(coverage: Coverage, names: NameLookup): CoverageCard['payer'] {
  const payor = coverage.payor?.[0];
  if (!payor) return { name: null, reference: null };
  const key = keyOfReference(payor);
  const reference = key ? keyString(key) : null;
  return { name: payor.display ?? (reference ? names(reference) : undefined) ?? null, reference };
}

function isCurrent(coverage: Coverage, today: string): boolean {
  if (coverage.status !== 'active') return false;
  const start = coverage.period?.start?.slice(0, 10);
  const end = coverage.period?.end?.slice(0, 10);
  return (!start || start <= today) && (!end || end >= today);
}

export interface CoverageCardOptions {
  names?: NameLookup;
  /** `YYYY-MM-DD` used to decide `current`. */
  today: string;
}

export function toCoverageCard(coverage: Coverage, options: CoverageCardOptions): CoverageCard {
  return {
    id: coverage.id ?? null,
    origin: 'resource',
    status: coverage.status ?? null,
    current: isCurrent(coverage, options.today),
    type: conceptText(coverage.type),
    payer: payerOf(coverage, options.names ?? (() => undefined)),
    plan: classValue(coverage, 'plan'),
    group: classValue(coverage, 'group'),
    memberId: memberIdOf(coverage),
    subscriberId: coverage.subscriberId ?? null,
    relationship: conceptText(coverage.relationship),
    period: coverage.period ? { start: coverage.period.start ?? null, end: coverage.period.end ?? null } : null,
    order: typeof coverage.order === 'number' ? coverage.order : null,
    seenOn: null,
  };
}

/** What makes two contained coverages "the same plan" for the agent: everything but ids and beneficiary refs. */
function sameness(card: CoverageCard): string {
  return JSON.stringify([
    card.type,
    card.payer.name,
    card.payer.reference,
    card.plan?.value,
    card.group?.value,
    card.memberId,
    card.subscriberId,
    card.relationship,
    card.status,
  ]);
}

function serviceDate(eob: ExplanationOfBenefit): string | null {
  return eob.billablePeriod?.start ?? eob.created ?? null;
}

/** Coverages contained in EOBs, one card per distinct plan, with the EOB dates it was seen on. */
export function coverageCardsFromEobs(
  eobs: readonly ExplanationOfBenefit[],
  options: CoverageCardOptions,
): CoverageCard[] {
  const cards = new Map<string, CoverageCard & { seenOn: NonNullable<CoverageCard['seenOn']> }>();
  for (const eob of eobs) {
    const date = serviceDate(eob);
    for (const { coverage } of containedCoverages(eob)) {
      const card = { ...toCoverageCard(coverage, options), id: null, origin: 'eob-contained' as const, current: null };
      const key = sameness(card);
      const existing = cards.get(key);
      if (!existing) {
        cards.set(key, { ...card, seenOn: { eobCount: 1, first: date, last: date } });
        continue;
      }
      existing.seenOn.eobCount += 1;
      if (date && (!existing.seenOn.first || date < existing.seenOn.first)) existing.seenOn.first = date;
      if (date && (!existing.seenOn.last || date > existing.seenOn.last)) existing.seenOn.last = date;
    }
  }
  // Most recently used plan first: that is the one a caller most likely asks about.
  return [...cards.values()].sort((a, b) => (b.seenOn.last ?? '').localeCompare(a.seenOn.last ?? ''));
}

/** Orders top-level cards: current first, then by `order`, then newest period. */
export function sortCoverageCards(cards: CoverageCard[]): CoverageCard[] {
  return [...cards].sort(
    (a, b) =>
      Number(b.current === true) - Number(a.current === true) ||
      (a.order ?? Number.MAX_SAFE_INTEGER) - (b.order ?? Number.MAX_SAFE_INTEGER) ||
      (b.period?.start ?? '').localeCompare(a.period?.start ?? ''),
  );
}
