// 835 claim (CLP loop) → ExplanationOfBenefit, CARIN-BB style (STANDARDS X835-02..06, FIN-31, FIN-33/34,
// CS-01/CS-02). Ids are derived from payer + claim control number so a re-import updates, never duplicates.
import { createHash } from 'node:crypto';
import type {
  CodeableConcept,
  Coding,
  ExplanationOfBenefit,
  ExplanationOfBenefitItemAdjudication as ExplanationOfBenefitAdjudication,
  ExplanationOfBenefitItem,
  ExplanationOfBenefitTotal,
} from 'fhir/r4';
import {
  ADJUDICATION_SYSTEM,
  C4BB_ADJUDICATION_SYSTEM,
  C4BB_DISCRIMINATOR_SYSTEM,
  CARC_SYSTEM,
  GROUP_CODE_SYSTEM,
  RARC_SYSTEM,
} from '../fhir/adjudication/code-tables';
import { toMicro, toMoney } from '../fhir/adjudication/money';
import {
  C4BB_IDENTIFIER_TYPE_SYSTEM,
  C4BB_PAYMENT_STATUS_SYSTEM,
  X12_CLAIM_STATUS_SYSTEM,
} from '../fhir/adjudication/summary';
import type {
  BalanceProblem,
  CasAdjustment,
  ProviderAdjustment,
  Remittance,
  RemittanceClaim,
  ServiceLine,
} from './parse-835';

export const C4BB_EOB_PROFESSIONAL_PROFILE =
  'http://hl7.org/fhir/us/carin-bb/StructureDefinition/C4BB-ExplanationOfBenefit-Professional-NonClinician';
export const C4BB_EOB_INSTITUTIONAL_PROFILE =
  'http://hl7.org/fhir/us/carin-bb/StructureDefinition/C4BB-ExplanationOfBenefit-Outpatient-Institutional';
/** Local system naming a payer's claim numbers; the payer id goes in the path so numbers never collide. */
export const PAYER_CLAIM_SYSTEM_PREFIX = 'urn:fhirdesk:payer-claim:';
/** Provider claim identifiers (CLP01 / 837 CLM01). */
export const PATIENT_CONTROL_NUMBER_SYSTEM = 'urn:fhirdesk:x12:patient-control-number';

const PRODUCT_SYSTEMS: Record<string, string> = {
  HC: 'http://www.ama-assn.org/go/cpt',
  NU: 'https://www.nubc.org/CodeSystem/RevenueCodes',
  N4: 'http://hl7.org/fhir/sid/ndc',
  AD: 'http://www.ada.org/cdt',
};

/** CLP02 statuses as documented publicly (X835-04); the TR3 itself is licensed. */
const CLAIM_STATUS_TEXT: Record<string, string> = {
  '1': 'Processed as primary',
  '2': 'Processed as secondary',
  '3': 'Processed as tertiary',
  '4': 'Denied',
  '19': 'Processed as primary, forwarded to additional payer(s)',
  '20': 'Processed as secondary, forwarded to additional payer(s)',
  '21': 'Processed as tertiary, forwarded to additional payer(s)',
  '22': 'Reversal of previous payment',
  '23': 'Not our claim, forwarded to additional payer(s)',
  '25': 'Predetermination pricing only, no payment',
};

export interface RemittanceToEobOptions {
  /** Overrides the payer id read from the file (N1*PR / REF*2U / TRN03 / ISA06). */
  payerId?: string;
  /** Value for `meta.lastUpdated`; defaults to the remittance production date. */
  lastUpdated?: string;
}

export interface RemittanceEobs {
  eobs: ExplanationOfBenefit[];
  /** PLB adjustments, kept out of patient EOBs and reported for PaymentReconciliation (X835-06). */
  providerAdjustments: ProviderAdjustment[];
  problems: BalanceProblem[];
}

function category(kind: string): CodeableConcept {
  const system = ['submitted', 'copay', 'eligible', 'deductible', 'benefit'].includes(kind)
    ? ADJUDICATION_SYSTEM
    : kind === 'adjustmentreason'
      ? C4BB_DISCRIMINATOR_SYSTEM
      : C4BB_ADJUDICATION_SYSTEM;
  return { coding: [{ system, code: kind }] };
}

function money(value: string, currency: string): { value: number; currency: string } {
  return { value: Number(toMoney(toMicro(value), currency).value), currency };
}

function amountSlice(kind: string, value: string, currency: string): ExplanationOfBenefitAdjudication {
  return { category: category(kind), amount: money(value, currency) };
}

/** One CAS triplet → adjustmentreason with the CARC and the group code as two codings (X835-02, CS-02). */
function casSlice(cas: CasAdjustment, currency: string): ExplanationOfBenefitAdjudication {
  const reason: Coding[] = [
    { system: CARC_SYSTEM, code: cas.reason },
    { system: GROUP_CODE_SYSTEM, code: cas.group },
  ];
  return { category: category('adjustmentreason'), reason: { coding: reason }, amount: money(cas.amount, currency) };
}

function remarkSlice(codes: readonly string[]): ExplanationOfBenefitAdjudication | undefined {
  if (codes.length === 0) return undefined;
  return {
    category: category('adjustmentreason'),
    reason: { coding: codes.map((code) => ({ system: RARC_SYSTEM, code })) },
  };
}

function sumOf(values: readonly string[]): bigint {
  return values.reduce((s, x) => s + toMicro(x), 0n);
}

/** PR-1/2/3 → deductible/coinsurance/copay and the PR sum → memberliability (X835-03). */
function patientShareSlices(
  adjustments: readonly CasAdjustment[],
  currency: string,
): ExplanationOfBenefitAdjudication[] {
  const pr = adjustments.filter((a) => a.group === 'PR');
  const out: ExplanationOfBenefitAdjudication[] = [];
  for (const [reason, kind] of [
    ['1', 'deductible'],
    ['2', 'coinsurance'],
    ['3', 'copay'],
  ] as const) {
    const hits = pr.filter((a) => a.reason === reason);
    if (hits.length > 0)
      out.push(amountSlice(kind, toMoney(sumOf(hits.map((h) => h.amount)), currency).value, currency));
  }
  if (pr.length > 0) {
    out.push(amountSlice('memberliability', toMoney(sumOf(pr.map((h) => h.amount)), currency).value, currency));
  }
  return out;
}

function item(line: ServiceLine, sequence: number, currency: string): ExplanationOfBenefitItem {
  const system = PRODUCT_SYSTEMS[line.qualifier];
  const adjudication: ExplanationOfBenefitAdjudication[] = [
    amountSlice('submitted', line.charge, currency),
    amountSlice('paidtoprovider', line.paid, currency),
  ];
  if (line.allowed !== undefined) adjudication.push(amountSlice('eligible', line.allowed, currency));
  adjudication.push(...line.adjustments.map((a) => casSlice(a, currency)));
  adjudication.push(...patientShareSlices(line.adjustments, currency));
  const remarks = remarkSlice(line.remarks);
  if (remarks) adjudication.push(remarks);
  const out: ExplanationOfBenefitItem = {
    sequence,
    productOrService: {
      coding: [{ ...(system ? { system } : {}), code: line.code }],
      text: `${line.qualifier}:${line.code}`,
    },
    adjudication,
  };
  if (line.modifiers.length > 0) out.modifier = line.modifiers.map((code) => ({ coding: [{ code }] }));
  if (line.revenueCode) {
    out.revenue = { coding: [{ system: 'https://www.nubc.org/CodeSystem/RevenueCodes', code: line.revenueCode }] };
  }
  if (line.serviceDate) out.servicedDate = line.serviceDate;
  else if (line.servicePeriod?.start) out.servicedPeriod = { ...line.servicePeriod };
  out.quantity = { value: Number(line.units ?? '1') };
  return out;
}

/** C4BB payment status from CLP02 and the amounts (FIN-31 payment.type). */
function paymentStatus(claim: RemittanceClaim): 'paid' | 'denied' | 'partiallypaid' {
  if (claim.status === '4') return 'denied';
  const paid = toMicro(claim.paid);
  const lineDenied = claim.lines.some(
    (l) => toMicro(l.paid) === 0n && toMicro(l.charge) > 0n && l.adjustments.some((a) => a.group !== 'PR'),
  );
  if (paid > 0n && lineDenied) return 'partiallypaid';
  return 'paid';
}

function claimType(claim: RemittanceClaim): { code: string; profile: string } {
  const institutional = claim.lines.some((l) => l.qualifier === 'NU' || l.revenueCode);
  if (institutional) return { code: 'institutional', profile: C4BB_EOB_INSTITUTIONAL_PROFILE };
  return { code: 'professional', profile: C4BB_EOB_PROFESSIONAL_PROFILE };
}

/**
 * Deterministic EOB id: same payer and claim control number → same id, so re-importing a file updates
 * the same resource (a reversal, CLP02 22, gets its own). Hash keeps ids within the FHIR id grammar.
 */
export function remittanceEobId(
  payerId: string,
  claim: Pick<RemittanceClaim, 'payerClaimControlNumber' | 'patientControlNumber' | 'status'>,
): string {
  const key = [
    payerId,
    claim.payerClaimControlNumber ?? `pcn:${claim.patientControlNumber}`,
    claim.status === '22' ? 'reversal' : '',
  ].join('|');
  return `x835-${createHash('sha256').update(key).digest('hex').slice(0, 40)}`;
}

function eob(
  remit: Remittance,
  claim: RemittanceClaim,
  payerId: string,
  options: RemittanceToEobOptions,
): ExplanationOfBenefit {
  const currency = remit.currency;
  const type = claimType(claim);
  const status = paymentStatus(claim);
  const created = remit.productionDate ?? remit.payment.date ?? new Date(0).toISOString().slice(0, 10);
  const headerAdjudication: ExplanationOfBenefitAdjudication[] = claim.adjustments.map((a) => casSlice(a, currency));
  const remarks = remarkSlice(claim.remarks);
  if (remarks) headerAdjudication.push(remarks);

  const allAdjustments = [...claim.adjustments, ...claim.lines.flatMap((l) => l.adjustments)];
  const total: ExplanationOfBenefitTotal[] = [
    { category: category('submitted'), amount: money(claim.charge, currency) },
    { category: category('paidtoprovider'), amount: money(claim.paid, currency) },
  ];
  // CLP05 is the payer's own patient-responsibility total; when absent, the PR sum stands in (X835-03).
  const prSum = toMoney(sumOf(allAdjustments.filter((a) => a.group === 'PR').map((a) => a.amount)), currency).value;
  total.push({ category: category('memberliability'), amount: money(claim.patientResponsibility ?? prSum, currency) });
  for (const share of patientShareSlices(allAdjustments, currency)) {
    const code = share.category.coding?.[0]?.code;
    if (code !== 'memberliability' && share.amount) total.push({ category: share.category, amount: share.amount });
  }
  const allowedLines = claim.lines.filter((l) => l.allowed !== undefined);
  if (claim.lines.length > 0 && allowedLines.length === claim.lines.length) {
    total.push({
      category: category('eligible'),
      amount: money(toMoney(sumOf(allowedLines.map((l) => l.allowed as string)), currency).value, currency),
    });
  }

  const identifier: ExplanationOfBenefit['identifier'] = [];
  if (claim.payerClaimControlNumber) {
    identifier.push({
      type: { coding: [{ system: C4BB_IDENTIFIER_TYPE_SYSTEM, code: 'uc' }] },
      system: `${PAYER_CLAIM_SYSTEM_PREFIX}${encodeURIComponent(payerId)}`,
      value: claim.payerClaimControlNumber,
    });
  }
  identifier.push({
    type: { text: 'Patient control number (835 CLP01)' },
    system: PATIENT_CONTROL_NUMBER_SYSTEM,
    value: claim.patientControlNumber,
  });

  const resource: ExplanationOfBenefit = {
    resourceType: 'ExplanationOfBenefit',
    id: remittanceEobId(payerId, claim),
    meta: { profile: [type.profile], lastUpdated: options.lastUpdated ?? `${created}T00:00:00Z` },
    identifier,
    status: claim.status === '22' ? 'cancelled' : 'active',
    type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/claim-type', code: type.code }] },
    use: 'claim',
    patient: claim.memberId
      ? { identifier: { type: { text: 'Member id' }, value: claim.memberId } }
      : { display: 'unknown' },
    created,
    insurer: { identifier: { value: payerId }, ...(remit.payerName ? { display: remit.payerName } : {}) },
    provider: remit.payeeNpi
      ? { identifier: { system: 'http://hl7.org/fhir/sid/us-npi', value: remit.payeeNpi } }
      : { display: remit.payeeName ?? 'unknown' },
    outcome: claim.status === '23' || claim.status === '25' ? 'error' : 'complete',
    insurance: [
      {
        focal: true,
        coverage: { display: claim.filingIndicator ? `Claim filing indicator ${claim.filingIndicator}` : 'unknown' },
      },
    ],
    total,
    payment: {
      type: {
        coding: [
          { system: C4BB_PAYMENT_STATUS_SYSTEM, code: status },
          {
            system: X12_CLAIM_STATUS_SYSTEM,
            code: claim.status,
            display: CLAIM_STATUS_TEXT[claim.status] ?? claim.status,
          },
        ],
      },
      amount: money(claim.paid, currency),
      ...(remit.payment.date ? { date: remit.payment.date } : {}),
      ...(remit.payment.traceNumber ? { identifier: { value: remit.payment.traceNumber } } : {}),
    },
  };
  const start =
    claim.statementPeriod?.start ??
    claim.lines
      .map((l) => l.serviceDate ?? l.servicePeriod?.start)
      .filter(Boolean)
      .sort()[0];
  const end =
    claim.statementPeriod?.end ??
    claim.lines
      .map((l) => l.serviceDate ?? l.servicePeriod?.end)
      .filter(Boolean)
      .sort()
      .at(-1);
  if (start) resource.billablePeriod = { start, ...(end ? { end } : {}) };
  if (headerAdjudication.length > 0) resource.adjudication = headerAdjudication;
  if (claim.lines.length > 0) resource.item = claim.lines.map((l, i) => item(l, i + 1, currency));
  if (claim.status === '4' || claim.status === '22' || claim.status === '23' || claim.status === '25') {
    resource.disposition = CLAIM_STATUS_TEXT[claim.status];
  }
  return resource;
}

/** Maps every CLP loop of a remittance to an EOB; PLB stays out of them and is returned beside them. */
export function remittanceToEobs(remit: Remittance, options: RemittanceToEobOptions = {}): RemittanceEobs {
  const payerId = options.payerId ?? remit.payerId;
  return {
    eobs: remit.claims.map((c) => eob(remit, c, payerId, options)),
    providerAdjustments: remit.providerAdjustments,
    problems: remit.problems,
  };
}

/** True when an 835-derived EOB is the adjudication of `claim` (CLP01 = a Claim.identifier value). */
export function eobMatchesClaimIdentifier(
  eob: ExplanationOfBenefit,
  claim: { identifier?: { value?: string }[] | undefined },
): boolean {
  const pcn = eob.identifier?.find((i) => i.system === PATIENT_CONTROL_NUMBER_SYSTEM)?.value;
  return pcn !== undefined && (claim.identifier ?? []).some((i) => i.value === pcn);
}
