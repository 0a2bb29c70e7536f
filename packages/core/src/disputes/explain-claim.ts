// Plain-language, deterministic explanation of an adjudication that an agent can read aloud, and the
// minimum-necessary agent projection (DESIGN "responses carry only what the role needs").
import { formatMoney, type Money } from '../fhir/adjudication/money';
import type { Adjustment, ClaimFinancialSummary } from '../fhir/adjudication/summary';

export type ExplanationAudience = 'patient' | 'billing';

export interface ExplainOptions {
  audience: ExplanationAudience;
  /** Locale for money formatting; en-US by default. The sentences themselves are English. */
  locale?: string;
}

export interface ClaimExplanation {
  sentences: string[];
  /** Shown prominently when the amounts do not add up or cannot be checked; never omitted. */
  warning?: string;
}

function reasonText(adj: Adjustment, audience: ExplanationAudience): string | undefined {
  if (audience === 'patient') {
    return adj.carc?.plain ?? adj.rarc.find((r) => r.plain)?.plain ?? adj.carc?.display ?? adj.otherReasons[0]?.display;
  }
  const codes = [
    adj.group?.code && adj.carc ? `${adj.group.code}-${adj.carc.code}` : adj.carc?.code,
    ...adj.rarc.map((r) => r.code),
  ]
    .filter(Boolean)
    .join(', ');
  const text = adj.carc?.display ?? adj.rarc[0]?.display ?? adj.otherReasons[0]?.display;
  return codes ? `${codes}: ${text ?? 'no description'}` : text;
}

function uniqueReasons(
  summary: ClaimFinancialSummary,
  audience: ExplanationAudience,
  filter: (a: Adjustment) => boolean,
): string[] {
  const out: string[] = [];
  for (const adj of summary.adjustments.filter(filter)) {
    const text = reasonText(adj, audience);
    if (text && !out.includes(text)) out.push(text);
  }
  return out;
}

function isPatientShare(adj: Adjustment): boolean {
  return adj.group?.code === 'PR';
}

function sentenceCase(text: string): string {
  const trimmed = text.trim().replace(/\.$/, '');
  return `${trimmed.charAt(0).toUpperCase()}${trimmed.slice(1)}.`;
}

/**
 * Short sentences about one claim: what was billed, what the plan paid, what the patient owes and why,
 * and the reasons in plain words. The same summary always gives the same text.
 */
export function explainClaim(summary: ClaimFinancialSummary, options: ExplainOptions): ClaimExplanation {
  const fmt = (m: Money) => formatMoney(m, options.locale);
  const { amounts } = summary;
  const your = options.audience === 'patient' ? 'your' : "the patient's";
  const sentences: string[] = [];

  if (summary.outcome === 'error') {
    sentences.push('The plan could not process this claim.');
  } else if (summary.outcome === 'queued') {
    sentences.push('The plan has not finished processing this claim yet.');
  } else if (summary.denied) {
    sentences.push('The plan denied this claim.');
  } else if (summary.outcome === 'partial' || summary.paymentStatus === 'partiallypaid') {
    sentences.push('The plan paid only part of this claim.');
  }
  if (amounts.billed) sentences.push(`The provider billed ${fmt(amounts.billed)}.`);
  if (amounts.paid) {
    sentences.push(amounts.paid.minor === 0 ? 'The plan paid nothing.' : `The plan paid ${fmt(amounts.paid)}.`);
  }
  if (options.audience === 'billing' && amounts.allowed)
    sentences.push(`The allowed amount was ${fmt(amounts.allowed)}.`);

  const owed = amounts.patientResponsibility;
  const owe = options.audience === 'patient' ? 'You owe' : 'The patient owes';
  if (owed && owed.minor > 0) {
    const parts: string[] = [];
    if (amounts.deductible?.minor) parts.push(`${fmt(amounts.deductible)} toward ${your} deductible`);
    if (amounts.copay?.minor) parts.push(`${fmt(amounts.copay)} copay`);
    if (amounts.coinsurance?.minor) parts.push(`${fmt(amounts.coinsurance)} coinsurance`);
    sentences.push(
      parts.length > 0 ? `${owe} ${fmt(owed)}: ${parts.join(', ')}.` : `${owe} ${fmt(owed)} under the plan.`,
    );
  } else if (owed) {
    sentences.push(`${owe} nothing for this claim according to the plan.`);
  }

  const written = uniqueReasons(summary, options.audience, (a) => !isPatientShare(a));
  for (const reason of written)
    sentences.push(sentenceCase(options.audience === 'patient' ? reason : `Reason ${reason}`));
  for (const r of summary.rejectReasons) {
    sentences.push(sentenceCase(`The pharmacy claim was rejected: ${r.reason.display}`));
  }
  for (const e of summary.errors) {
    const where = e.itemSequence !== undefined ? ` on line ${e.itemSequence}` : '';
    sentences.push(sentenceCase(`The plan reported an error${where}: ${e.code.display}`));
  }
  if (summary.disposition) sentences.push(sentenceCase(`The plan's note says: ${summary.disposition}`));
  for (const note of summary.processNotes) sentences.push(sentenceCase(`Note from the plan: ${note.text}`));
  if (
    options.audience === 'patient' &&
    summary.adjustments.some((a) => a.group?.code === 'CO' && (a.amount?.minor ?? 0) > 0)
  ) {
    sentences.push('The provider agreed with the plan to write off the rest, so you should not be billed for it.');
  }

  const explanation: ClaimExplanation = { sentences };
  const rec = summary.reconciliation;
  if (rec.status === 'unbalanced' && rec.difference) {
    explanation.warning = `Warning: these amounts do not add up; ${fmt(rec.difference)} is not accounted for. Check with billing before quoting a figure.`;
  } else if (rec.status === 'insufficient-data') {
    explanation.warning =
      'Warning: the plan did not send enough detail to check that these amounts add up. Check with billing before quoting a figure.';
  }
  return explanation;
}

/** What an agent sees: status, what the patient owes, plain reasons. No allowed amounts or contract terms. */
export interface AgentClaimView {
  status: 'paid' | 'partially-paid' | 'denied' | 'error' | 'pending' | 'unknown';
  patientResponsibility?: Money;
  currency: string;
  reasons: string[];
  processNotes: string[];
  /** True when the amounts could not be confirmed to add up (the agent should not quote a figure). */
  amountsUnverified: boolean;
}

function viewStatus(summary: ClaimFinancialSummary): AgentClaimView['status'] {
  if (summary.outcome === 'error') return 'error';
  if (summary.outcome === 'queued') return 'pending';
  if (summary.denied) return 'denied';
  // FIN-21: an outcome of partial is never shown as paid.
  if (summary.outcome === 'partial' || summary.paymentStatus === 'partiallypaid') return 'partially-paid';
  if (summary.paymentStatus === 'paid' || summary.outcome === 'complete') return 'paid';
  return 'unknown';
}

export function toAgentView(summary: ClaimFinancialSummary): AgentClaimView {
  const view: AgentClaimView = {
    status: viewStatus(summary),
    currency: summary.currency,
    reasons: uniqueReasons(summary, 'patient', () => true),
    processNotes: summary.processNotes.map((n) => n.text),
    amountsUnverified: summary.reconciliation.status !== 'balanced',
  };
  if (summary.amounts.patientResponsibility) view.patientResponsibility = summary.amounts.patientResponsibility;
  return view;
}

/** The billing role sees the whole summary (allowed, adjustments with amounts, reconciliation). */
export function toBillingView(summary: ClaimFinancialSummary): ClaimFinancialSummary {
  return summary;
}
