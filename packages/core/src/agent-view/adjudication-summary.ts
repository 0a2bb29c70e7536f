// ClaimResponse / ExplanationOfBenefit → the headline money and reasons of one agent-view row (VIEW-01..03).
// The arithmetic is fhir/adjudication's summarizeAdjudication (totals or item sums per FIN-35, exact decimals
// per VIEW-03); this adapter only flattens it into rows, adds the payment adjustment reason, and keeps the
// full summary for billing.
import type { Claim, ClaimResponse, CodeableConcept, ExplanationOfBenefit } from 'fhir/r4';
import { type CodeTables, defaultCodeTables } from '../fhir/adjudication/code-tables';
import { type Money, toMicro, toMoney } from '../fhir/adjudication/money';
import { type ClaimFinancialSummary, type CodedValue, summarizeAdjudication } from '../fhir/adjudication/summary';

export type ClaimReasonKind = 'adjustment' | 'denial' | 'note' | 'error' | 'payment-adjustment';

export interface ClaimReason {
  kind: ClaimReasonKind;
  system: string | null;
  code: string | null;
  /** Code-system text: published display, else our table, else CodeableConcept.text, else the code (FIN-37). */
  display: string | null;
  /** Plain-language sentence for agents (our CARC/RARC paraphrase), else the display. */
  plain: string | null;
  /** CAS group code (CO contractual, PR patient responsibility, …) when coded (CS-02). */
  group: string | null;
  amount: Money | null;
  itemSequence: number | null;
}

export type ClaimDecision = 'paid' | 'partially-paid' | 'denied' | 'not-paid' | 'pending' | 'error' | 'unknown';

export interface ClaimAdjudication {
  resourceType: 'ExplanationOfBenefit' | 'ClaimResponse';
  id: string;
  status: string | null;
  use: string | null;
  outcome: string | null;
  disposition: string | null;
  created: string | null;
  decision: ClaimDecision;
  billed: Money | null;
  allowed: Money | null;
  paid: Money | null;
  patientResponsibility: Money | null;
  /** Non-patient adjustments (contractual write-off and other reductions): billing only (HIPAA-07). */
  contractualAdjustment: Money | null;
  payment: { amount: Money | null; date: string | null; adjustment: Money | null; type: string | null } | null;
  reasons: ClaimReason[];
  /** The full summary (lines, adjustments, reconciliation) for billing (VIEW-02). */
  financial: ClaimFinancialSummary;
}

type Adjudicated = ExplanationOfBenefit | ClaimResponse;

function reasonOf(
  kind: ClaimReasonKind,
  coded: CodedValue,
  extra: { group?: string | undefined; amount?: Money | undefined; itemSequence?: number | undefined } = {},
): ClaimReason {
  return {
    kind,
    system: coded.system ?? null,
    code: coded.code || null,
    display: coded.display || null,
    plain: coded.plain ?? (coded.display || null),
    group: extra.group ?? null,
    amount: extra.amount ?? null,
    itemSequence: extra.itemSequence ?? null,
  };
}

function conceptReason(
  kind: ClaimReasonKind,
  concept: CodeableConcept | undefined,
  amount: Money | null,
): ClaimReason | undefined {
  if (!concept) return undefined;
  const coding = concept.coding?.find((c) => c.code) ?? concept.coding?.[0];
  const display = coding?.display ?? concept.text ?? coding?.code ?? null;
  if (!display) return undefined;
  return {
    kind,
    system: coding?.system ?? null,
    code: coding?.code ?? null,
    display,
    plain: display,
    group: null,
    amount,
    itemSequence: null,
  };
}

function reasonsOf(
  summary: ClaimFinancialSummary,
  resource: Adjudicated,
  paymentAdjustment: Money | null,
): ClaimReason[] {
  const out: ClaimReason[] = [];
  for (const adj of summary.adjustments) {
    const codes = [adj.carc, ...adj.rarc, ...adj.otherReasons].filter((c): c is CodedValue => Boolean(c));
    codes.forEach((coded, i) => {
      out.push(
        reasonOf('adjustment', coded, {
          group: adj.group?.code,
          // The amount belongs to the adjustment, shown once (on its first code).
          amount: i === 0 ? adj.amount : undefined,
          itemSequence: adj.itemSequence,
        }),
      );
    });
  }
  for (const reject of summary.rejectReasons)
    out.push(reasonOf('denial', reject.reason, { itemSequence: reject.itemSequence }));
  for (const error of summary.errors) out.push(reasonOf('error', error.code, { itemSequence: error.itemSequence }));
  // FIN-36: payer remarks often exist only as processNote text.
  for (const note of summary.processNotes) {
    out.push({
      kind: 'note',
      system: null,
      code: null,
      display: note.text,
      plain: note.text,
      group: null,
      amount: null,
      itemSequence: null,
    });
  }
  const payment = conceptReason('payment-adjustment', resource.payment?.adjustmentReason, paymentAdjustment);
  if (payment) out.push(payment);
  return out;
}

function decide(summary: ClaimFinancialSummary): ClaimDecision {
  if (summary.outcome === 'queued') return 'pending';
  if (summary.outcome === 'error') return 'error';
  if (summary.denied) return 'denied';
  const paid = summary.amounts.paid;
  if (!paid) return 'unknown';
  // A zero payment without a denial reason is "not paid", not "denied": Synthea-style $0 remits carry no reason.
  if (paid.minor === 0) return 'not-paid';
  if (summary.paymentStatus === 'partiallypaid' || summary.outcome === 'partial') return 'partially-paid';
  return 'paid';
}

const moneyOf = (value: { value?: number; currency?: string } | undefined, currency: string): Money | null =>
  typeof value?.value === 'number' ? toMoney(toMicro(value.value), value.currency ?? currency) : null;

/** Summarises one EOB or ClaimResponse; `claim` supplies what a ClaimResponse does not repeat (billed). */
export function summarizeAdjudicated(
  resource: Adjudicated,
  claim?: Claim,
  tables: CodeTables = defaultCodeTables,
): ClaimAdjudication {
  const summary = summarizeAdjudication(resource, claim, { tables });
  const currency = summary.currency;
  const payment = resource.payment
    ? {
        amount: summary.paymentAmount ?? moneyOf(resource.payment.amount, currency),
        date: resource.payment.date ?? null,
        adjustment: moneyOf(resource.payment.adjustment, currency),
        type: resource.payment.type?.coding?.[0]?.code ?? null,
      }
    : null;
  return {
    resourceType: resource.resourceType,
    id: resource.id ?? '',
    status: resource.status ?? null,
    use: resource.use ?? null,
    outcome: resource.outcome ?? null,
    disposition: resource.disposition ?? null,
    created: resource.created ?? null,
    decision: decide(summary),
    billed: summary.amounts.billed ?? null,
    allowed: summary.amounts.allowed ?? null,
    paid: summary.amounts.paid ?? null,
    patientResponsibility: summary.amounts.patientResponsibility ?? null,
    contractualAdjustment: summary.reconciliation.adjustments ?? null,
    payment,
    reasons: reasonsOf(summary, resource, payment?.adjustment ?? null),
    financial: summary,
  };
}
