// Why a claim is disputed, and the rule that derives it from an adjudication summary so auto-open rules
// can open one ticket per claim and reason (issue 5). CARC → category comes from data/carc.json.
import { type CodeTables, defaultCodeTables } from '../fhir/adjudication/code-tables';
import { moneyToMicro, toMicro, toMoney } from '../fhir/adjudication/money';
import type { Adjustment, ClaimFinancialSummary, DenialSignal } from '../fhir/adjudication/summary';

export const DISPUTE_REASON_CATEGORIES = [
  'denied',
  'underpaid',
  'patient-responsibility-question',
  'coordination-of-benefits',
  'duplicate',
  'eligibility',
] as const;
export type DisputeReasonCategory = (typeof DISPUTE_REASON_CATEGORIES)[number];

export function isDisputeReasonCategory(value: string): value is DisputeReasonCategory {
  return (DISPUTE_REASON_CATEGORIES as readonly string[]).includes(value);
}

export interface DenialClassification {
  category: DisputeReasonCategory;
  /** CARCs behind the classification (non-patient groups), in first-seen order. */
  carcs: string[];
  rarcs: string[];
  signals: DenialSignal[];
  /** True when the whole claim is denied, false when only some lines or amounts are. */
  wholeClaim: boolean;
  /** Stable key for "one ticket per claim and reason": resource id (or payer claim number) + category. */
  dedupeKey: string;
}

/** More specific reasons win over the generic `denied` when several CARCs apply. */
const PRECEDENCE: readonly DisputeReasonCategory[] = ['duplicate', 'eligibility', 'coordination-of-benefits', 'denied'];

function carcCategory(tables: CodeTables, adj: Adjustment): DisputeReasonCategory | undefined {
  if (!adj.carc || adj.group?.code === 'PR') return undefined;
  const category = tables.carc.codes[adj.carc.code]?.disputeCategory;
  return category && isDisputeReasonCategory(category) ? category : undefined;
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

export interface ClassifyDenialOptions {
  tables?: CodeTables;
}

/**
 * Classifies a summary for auto-open rules: a denial (whole claim or lines) with the most specific reason
 * its CARCs give, or `underpaid` when the plan paid less than allowed minus the patient's share. Returns
 * undefined for a claim paid as adjudicated. Unknown CARCs still appear in `carcs` (FIN-37).
 */
export function classifyDenial(
  summary: ClaimFinancialSummary,
  options: ClassifyDenialOptions = {},
): DenialClassification | undefined {
  const tables = options.tables ?? defaultCodeTables;
  const key = summary.id ?? summary.payerClaimNumber ?? 'unidentified';
  const nonPatient = summary.adjustments.filter((a) => a.carc && a.group?.code !== 'PR');
  const rarcs = unique(summary.adjustments.flatMap((a) => a.rarc.map((r) => r.code)));
  const build = (category: DisputeReasonCategory, carcs: string[], wholeClaim: boolean): DenialClassification => ({
    category,
    carcs,
    rarcs,
    signals: summary.denialSignals,
    wholeClaim,
    dedupeKey: `${summary.resourceType}/${key}#${category}`,
  });
  const categories = nonPatient
    .filter((a) => a.amount?.minor !== 0)
    .map((a) => carcCategory(tables, a))
    .filter((c): c is DisputeReasonCategory => c !== undefined);
  const mostSpecific = PRECEDENCE.find((c) => categories.includes(c));

  if (summary.denied) {
    const carcs = unique(nonPatient.map((a) => a.carc?.code as string));
    return build(mostSpecific ?? 'denied', carcs, true);
  }
  if (mostSpecific) {
    const carcs = unique(
      nonPatient.filter((a) => carcCategory(tables, a) !== undefined).map((a) => a.carc?.code as string),
    );
    return build(mostSpecific, carcs, false);
  }
  const { allowed, paid, patientResponsibility } = summary.amounts;
  if (allowed && paid) {
    const expected = toMicro(allowed.value) - (patientResponsibility ? toMicro(patientResponsibility.value) : 0n);
    if (toMicro(paid.value) < expected) {
      return build('underpaid', unique(nonPatient.map((a) => a.carc?.code as string)), false);
    }
  }
  return undefined;
}

/**
 * The disputed amount of a classified denial, in minor units: what the payer should have paid and did not
 * (underpaid: allowed − patient share − paid; whole-claim denial: billed − paid; partial: the non-patient
 * adjustments carrying the reason). Manual disputes opened without an amount get the same figure.
 */
export function classifiedAmountMinor(summary: ClaimFinancialSummary, cls: DenialClassification): number {
  const { billed, allowed, paid, patientResponsibility } = summary.amounts;
  let micro: bigint;
  if (cls.category === 'underpaid' && allowed && paid) {
    micro =
      moneyToMicro(allowed) - (patientResponsibility ? moneyToMicro(patientResponsibility) : 0n) - moneyToMicro(paid);
  } else if (cls.wholeClaim && billed) {
    micro = moneyToMicro(billed) - (paid ? moneyToMicro(paid) : 0n);
  } else {
    micro = summary.adjustments
      .filter((a) => a.group?.code !== 'PR' && a.carc && cls.carcs.includes(a.carc.code) && a.amount)
      .reduce((acc, a) => acc + moneyToMicro(a.amount!), 0n);
  }
  return toMoney(micro < 0n ? 0n : micro, summary.currency).minor;
}
