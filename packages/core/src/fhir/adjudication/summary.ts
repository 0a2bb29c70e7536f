// Financial summary of one adjudicated claim (ExplanationOfBenefit or ClaimResponse): what the agent and
// billing views show for a dispute (STANDARDS FIN-21, FIN-30..38, VIEW-01/02/03). Pure; no I/O.
import type {
  Claim,
  ClaimResponse,
  CodeableConcept,
  Coding,
  ExplanationOfBenefit,
  Money as FhirMoney,
  Identifier,
  Reference,
} from 'fhir/r4';
import {
  type AdjudicationKind,
  CARC_SYSTEM,
  type CodeTable,
  type CodeTables,
  categoryKind,
  defaultCodeTables,
  GROUP_CODE_SYSTEM,
  RARC_SYSTEM,
} from './code-tables';
import { type Micro, type Money, roundMicro, toMicro, toMoney } from './money';

/** Local system for the 835 CLP02 claim status code, which has no published canonical URL. */
export const X12_CLAIM_STATUS_SYSTEM = 'urn:fhirdesk:x12:835:claim-status';
export const C4BB_PAYMENT_STATUS_SYSTEM = 'http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBPayerAdjudicationStatus';
export const C4BB_IDENTIFIER_TYPE_SYSTEM = 'http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBIdentifierType';

/** A code as shown to people: display from the resource, else the code table, else text, else the bare code (FIN-37). */
export interface CodedValue {
  system?: string;
  code: string;
  display: string;
  /** True when a display came from the resource or a code table, false for a bare code. */
  known: boolean;
  /** Plain-language sentence for patients, when the code table has one. */
  plain?: string;
}

export type AdjudicationLevel = 'header' | 'item' | 'detail' | 'subDetail' | 'addItem';

/** One adjustment reason (CAS triplet or adjudication.reason), never dropped even when the code is unknown. */
export interface Adjustment {
  level: AdjudicationLevel;
  itemSequence?: number;
  detailSequence?: number;
  subDetailSequence?: number;
  /** The adjudication category the reason sits on (`adjustmentreason`, or e.g. `benefit` in R4 examples). */
  category: string;
  /** CAS group code (CO, PR, OA, PI, CR) when coded (STANDARDS CS-02). */
  group?: CodedValue;
  carc?: CodedValue;
  rarc: CodedValue[];
  /** Payer-local or legacy reason codings, system-qualified (CS-03). */
  otherReasons: CodedValue[];
  amount?: Money;
}

/** Pharmacy NCPDP reject code (FIN-32): not a CARC, kept apart. */
export interface RejectReason {
  itemSequence?: number;
  reason: CodedValue;
}

export interface ClaimError {
  code: CodedValue;
  itemSequence?: number;
  detailSequence?: number;
  subDetailSequence?: number;
}

export interface ProcessNoteText {
  number?: number;
  type?: string;
  text: string;
}

export type AmountField =
  | 'billed'
  | 'allowed'
  | 'paid'
  | 'deductible'
  | 'copay'
  | 'coinsurance'
  | 'patientResponsibility'
  | 'nonCovered'
  | 'discount'
  | 'priorPayerPaid'
  | 'paidByPatient';

/** Where an amount was read from (FIN-35: header or item level, whichever is populated). */
export type AmountSource = 'header' | 'item' | 'payment' | 'claim' | 'derived';

export type LineAmounts = Partial<Record<AmountField, Money>>;
/** Unrounded sums, used so that reconciliation rounds once at the end. */
export type ExactAmounts = Partial<Record<AmountField, Micro>>;

export interface LineSummary {
  sequence?: number;
  servicedDate?: string;
  service?: CodedValue;
  modifiers: CodedValue[];
  revenue?: CodedValue;
  quantity?: number;
  amounts: LineAmounts;
  adjustments: Adjustment[];
  rejectReasons: RejectReason[];
  /** processNote texts linked by noteNumber (FIN-36). */
  notes: string[];
  networkStatus?: string;
}

export interface Reconciliation {
  /** `insufficient-data` when billed or paid is missing, or nothing published explains a gap; never guessed. */
  status: 'balanced' | 'unbalanced' | 'insufficient-data';
  billed?: Money;
  paid?: Money;
  /** Non-patient adjustments (contractual write-offs and other reductions). */
  adjustments?: Money;
  adjustmentsBasis: 'coded-adjustments' | 'billed-minus-allowed' | 'noncovered' | 'none';
  patientResponsibility?: Money;
  /** billed − (paid + adjustments + patient responsibility); positive means money unaccounted for. */
  difference?: Money;
  /** Fields whose absence made the check impossible. */
  missing: AmountField[];
}

export type DenialSignal =
  | 'outcome-error'
  | 'payment-type-denied'
  | 'x12-claim-denied'
  | 'zero-paid-with-denial-reason'
  | 'pharmacy-reject';

export interface ClaimFinancialSummary {
  resourceType: 'ExplanationOfBenefit' | 'ClaimResponse';
  id?: string;
  currency: string;
  /** Payer claim number: `identifier` typed `uc` (FIN-31), else the first identifier. */
  payerClaimNumber?: string;
  status?: string;
  /** VIEW-01 header: claim type, statement period, payer, billing provider, focal coverage, related claims. */
  header: ClaimHeader;
  outcome?: string;
  disposition?: string;
  created?: string;
  paymentType?: CodedValue;
  /** C4BB payment status (paid, denied, partiallypaid) when the payer says so. */
  paymentStatus?: 'paid' | 'denied' | 'partiallypaid';
  paymentDate?: string;
  /** The actual payment amount (`payment.amount`), which may include non-claim adjustments. */
  paymentAmount?: Money;
  amounts: LineAmounts;
  amountSources: Partial<Record<AmountField, AmountSource>>;
  patientResponsibilitySource: 'memberliability' | 'patient-adjustments' | 'cost-share' | 'none';
  errors: ClaimError[];
  processNotes: ProcessNoteText[];
  adjustments: Adjustment[];
  rejectReasons: RejectReason[];
  lines: LineSummary[];
  reconciliation: Reconciliation;
  denied: boolean;
  denialSignals: DenialSignal[];
  /** Data problems found while summarising (e.g. amounts in a second currency were left out). */
  problems: string[];
}

export interface ClaimHeader {
  type?: CodedValue;
  billablePeriod?: { start?: string; end?: string };
  insurer?: string;
  provider?: string;
  focalCoverage?: string;
  /** Related claims as published (`relationship: reference or identifier`). */
  related: string[];
}

export interface SummarizeOptions {
  tables?: CodeTables;
  /** Currency assumed when no amount carries one. */
  defaultCurrency?: string;
}

interface AdjudicationLike {
  category: CodeableConcept;
  reason?: CodeableConcept | undefined;
  amount?: FhirMoney | undefined;
  value?: number | undefined;
}

interface NodeLike {
  adjudication?: AdjudicationLike[] | undefined;
  detail?: NodeLike[] | undefined;
  subDetail?: NodeLike[] | undefined;
  noteNumber?: number[] | undefined;
}

function codedFrom(coding: Coding, concept: CodeableConcept | undefined, table?: CodeTable): CodedValue {
  const code = coding.code ?? '';
  const entry = table?.codes[code];
  const display = coding.display ?? entry?.display ?? concept?.text ?? code;
  const value: CodedValue = { code, display, known: Boolean(coding.display ?? entry?.display ?? concept?.text) };
  if (coding.system) value.system = coding.system;
  if (entry?.plain) value.plain = entry.plain;
  return value;
}

/** First coding of a concept as a CodedValue; a text-only concept keeps its text as the code. */
export function codedConcept(concept: CodeableConcept | undefined, table?: CodeTable): CodedValue | undefined {
  if (!concept) return undefined;
  const coding = concept.coding?.find((c) => c.code);
  if (coding) return codedFrom(coding, concept, table);
  if (concept.text) return { code: concept.text, display: concept.text, known: true };
  return undefined;
}

function referenceText(ref: Reference | undefined): string | undefined {
  return ref?.display ?? ref?.identifier?.value ?? ref?.reference;
}

function claimHeader(resource: ExplanationOfBenefit | ClaimResponse): ClaimHeader {
  const header: ClaimHeader = { related: [] };
  const type = codedConcept(resource.type);
  if (type) header.type = type;
  const insurer = referenceText(resource.insurer);
  if (insurer) header.insurer = insurer;
  if (resource.resourceType === 'ExplanationOfBenefit') {
    if (resource.billablePeriod) {
      header.billablePeriod = {
        ...(resource.billablePeriod.start ? { start: resource.billablePeriod.start } : {}),
        ...(resource.billablePeriod.end ? { end: resource.billablePeriod.end } : {}),
      };
    }
    const provider = referenceText(resource.provider);
    if (provider) header.provider = provider;
    const focal = resource.insurance?.find((i) => i.focal) ?? resource.insurance?.[0];
    const coverage = referenceText(focal?.coverage);
    if (coverage) header.focalCoverage = coverage;
    for (const r of resource.related ?? []) {
      const target = referenceText(r.claim) ?? r.reference?.value;
      if (target) header.related.push(`${codedConcept(r.relationship)?.code ?? 'related'}: ${target}`);
    }
  } else {
    const requestor = referenceText(resource.requestor);
    if (requestor) header.provider = requestor;
    const focal = resource.insurance?.find((i) => i.focal) ?? resource.insurance?.[0];
    const coverage = referenceText(focal?.coverage);
    if (coverage) header.focalCoverage = coverage;
  }
  return header;
}

function firstDefined<T>(...values: (T | undefined)[]): T | undefined {
  return values.find((v) => v !== undefined);
}

interface Accumulator {
  currency: string;
  problems: Set<string>;
  tables: CodeTables;
}

function micro(acc: Accumulator, money: FhirMoney | undefined): Micro | undefined {
  if (money?.value === undefined) return undefined;
  if (money.currency && money.currency !== acc.currency) {
    acc.problems.add('amounts in a second currency were left out of the sums');
    return undefined;
  }
  return toMicro(money.value);
}

function kindOf(acc: Accumulator, adj: AdjudicationLike): AdjudicationKind | undefined {
  for (const coding of adj.category.coding ?? []) {
    const kind = categoryKind(acc.tables, coding);
    if (kind) return kind;
  }
  return undefined;
}

/** Sum of one kind on a node: its own adjudication if it has that kind, else its details' (never both). */
function nodeAmount(acc: Accumulator, node: NodeLike, kinds: readonly AdjudicationKind[]): Micro | undefined {
  let own: Micro | undefined;
  for (const adj of node.adjudication ?? []) {
    const kind = kindOf(acc, adj);
    if (!kind || !kinds.includes(kind)) continue;
    const m = micro(acc, adj.amount);
    if (m !== undefined) own = (own ?? 0n) + m;
  }
  if (own !== undefined) return own;
  let nested: Micro | undefined;
  for (const child of [...(node.detail ?? []), ...(node.subDetail ?? [])]) {
    const m = nodeAmount(acc, child, kinds);
    if (m !== undefined) nested = (nested ?? 0n) + m;
  }
  return nested;
}

function listAmount(
  acc: Accumulator,
  nodes: readonly NodeLike[],
  kinds: readonly AdjudicationKind[],
): Micro | undefined {
  let total: Micro | undefined;
  for (const node of nodes) {
    const m = nodeAmount(acc, node, kinds);
    if (m !== undefined) total = (total ?? 0n) + m;
  }
  return total;
}

function totalAmount(
  acc: Accumulator,
  totals: readonly { category: CodeableConcept; amount: FhirMoney }[],
  kinds: readonly AdjudicationKind[],
): Micro | undefined {
  let total: Micro | undefined;
  for (const t of totals) {
    const kind = kindOf(acc, t);
    if (!kind || !kinds.includes(kind)) continue;
    const m = micro(acc, t.amount);
    if (m !== undefined) total = (total ?? 0n) + m;
  }
  return total;
}

function readAdjustment(
  acc: Accumulator,
  adj: AdjudicationLike,
  kind: AdjudicationKind | undefined,
  where: Omit<Adjustment, 'category' | 'rarc' | 'otherReasons'>,
): Adjustment | undefined {
  if (!adj.reason && kind !== 'adjustmentreason') return undefined;
  const out: Adjustment = {
    ...where,
    category: kind ?? adj.category.coding?.[0]?.code ?? adj.category.text ?? 'unknown',
    rarc: [],
    otherReasons: [],
  };
  for (const coding of adj.reason?.coding ?? []) {
    if (!coding.code) continue;
    if (coding.system === CARC_SYSTEM && !out.carc) out.carc = codedFrom(coding, undefined, acc.tables.carc);
    else if (coding.system === RARC_SYSTEM) out.rarc.push(codedFrom(coding, undefined, acc.tables.rarc));
    else if (coding.system === GROUP_CODE_SYSTEM) out.group = codedFrom(coding, undefined, acc.tables.groupCodes);
    else out.otherReasons.push(codedFrom(coding, adj.reason));
  }
  if (!adj.reason?.coding?.length && adj.reason?.text) {
    out.otherReasons.push({ code: adj.reason.text, display: adj.reason.text, known: true });
  }
  // The amount of an adjustmentreason slice is the adjustment; on other categories it is that category's amount.
  if (kind === 'adjustmentreason') {
    const m = micro(acc, adj.amount);
    if (m !== undefined) out.amount = toMoney(m, acc.currency);
  }
  return out;
}

function collectNode(
  acc: Accumulator,
  node: NodeLike,
  level: AdjudicationLevel,
  seq: { itemSequence?: number; detailSequence?: number; subDetailSequence?: number },
  adjustments: Adjustment[],
  rejects: RejectReason[],
): void {
  for (const adj of node.adjudication ?? []) {
    const kind = kindOf(acc, adj);
    if (kind === 'rejectreason') {
      const reason = codedConcept(adj.reason);
      if (reason)
        rejects.push({ ...(seq.itemSequence !== undefined ? { itemSequence: seq.itemSequence } : {}), reason });
      continue;
    }
    const a = readAdjustment(acc, adj, kind, { level, ...seq });
    if (a) adjustments.push(a);
  }
}

function sequenceOf(item: { sequence?: number; itemSequence?: number | number[] }): number | undefined {
  if (typeof item.sequence === 'number') return item.sequence;
  if (typeof item.itemSequence === 'number') return item.itemSequence;
  if (Array.isArray(item.itemSequence)) return item.itemSequence[0];
  return undefined;
}

interface ItemView extends NodeLike {
  sequence?: number;
  itemSequence?: number | number[];
  servicedDate?: string;
  servicedPeriod?: { start?: string };
  productOrService?: CodeableConcept;
  modifier?: CodeableConcept[];
  revenue?: CodeableConcept;
  quantity?: { value?: number };
  net?: FhirMoney;
}

const LINE_FIELDS: [AmountField, AdjudicationKind[]][] = [
  ['billed', ['submitted']],
  ['allowed', ['eligible']],
  ['paid', ['paidtoprovider', 'paidtopatient']],
  ['deductible', ['deductible']],
  ['copay', ['copay']],
  ['coinsurance', ['coinsurance']],
  ['patientResponsibility', ['memberliability']],
  ['nonCovered', ['noncovered']],
  ['discount', ['discount']],
  ['priorPayerPaid', ['priorpayerpaid']],
];

function lineSummary(
  acc: Accumulator,
  item: ItemView,
  level: AdjudicationLevel,
  notesByNumber: Map<number, string>,
  claimItem: ItemView | undefined,
): LineSummary {
  const sequence = sequenceOf(item);
  const amounts: LineAmounts = {};
  for (const [field, kinds] of LINE_FIELDS) {
    let m = nodeAmount(acc, item, kinds);
    if (m === undefined && field === 'paid') m = nodeAmount(acc, item, ['benefit']);
    if (m !== undefined) amounts[field] = toMoney(m, acc.currency);
  }
  if (!amounts.billed) {
    const net = micro(acc, item.net ?? claimItem?.net);
    if (net !== undefined) amounts.billed = toMoney(net, acc.currency);
  }
  const adjustments: Adjustment[] = [];
  const rejectReasons: RejectReason[] = [];
  const seq = sequence !== undefined ? { itemSequence: sequence } : {};
  collectNode(acc, item, level, seq, adjustments, rejectReasons);
  for (const detail of (item.detail ?? []) as (NodeLike & { sequence?: number; detailSequence?: number })[]) {
    const detailSequence = detail.sequence ?? detail.detailSequence;
    const dseq = { ...seq, ...(detailSequence !== undefined ? { detailSequence } : {}) };
    collectNode(acc, detail, 'detail', dseq, adjustments, rejectReasons);
    for (const sub of (detail.subDetail ?? []) as (NodeLike & { sequence?: number; subDetailSequence?: number })[]) {
      const subDetailSequence = sub.sequence ?? sub.subDetailSequence;
      collectNode(
        acc,
        sub,
        'subDetail',
        { ...dseq, ...(subDetailSequence !== undefined ? { subDetailSequence } : {}) },
        adjustments,
        rejectReasons,
      );
    }
  }
  const notes = (item.noteNumber ?? []).map((n) => notesByNumber.get(n)).filter((t): t is string => t !== undefined);
  let networkStatus: string | undefined;
  for (const adj of item.adjudication ?? []) {
    const kind = kindOf(acc, adj);
    if (kind === 'benefitpaymentstatus' || kind === 'renderingnetworkstatus' || kind === 'billingnetworkstatus') {
      networkStatus ??= codedConcept(adj.reason)?.display;
    }
  }
  const source = item.productOrService ?? claimItem?.productOrService;
  const line: LineSummary = {
    modifiers: (item.modifier ?? claimItem?.modifier ?? [])
      .map((m) => codedConcept(m))
      .filter((m): m is CodedValue => m !== undefined),
    amounts,
    adjustments,
    rejectReasons,
    notes,
  };
  if (sequence !== undefined) line.sequence = sequence;
  const servicedDate = firstDefined(
    item.servicedDate,
    item.servicedPeriod?.start,
    claimItem?.servicedDate,
    claimItem?.servicedPeriod?.start,
  );
  if (servicedDate) line.servicedDate = servicedDate;
  const service = codedConcept(source);
  if (service) line.service = service;
  const revenue = codedConcept(item.revenue ?? claimItem?.revenue);
  if (revenue) line.revenue = revenue;
  const quantity = item.quantity?.value ?? claimItem?.quantity?.value;
  if (quantity !== undefined) line.quantity = quantity;
  if (networkStatus) line.networkStatus = networkStatus;
  return line;
}

function payerClaimNumber(identifiers: readonly Identifier[] | undefined): string | undefined {
  const uc = identifiers?.find((i) =>
    i.type?.coding?.some((c) => c.code === 'uc' && (!c.system || c.system === C4BB_IDENTIFIER_TYPE_SYSTEM)),
  );
  return (uc ?? identifiers?.[0])?.value;
}

function pickCurrency(resource: ExplanationOfBenefit | ClaimResponse, fallback: string): string {
  const seen: string[] = [];
  const visit = (value: unknown): void => {
    if (seen.length > 0 || value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) {
      for (const v of value) visit(v);
      return;
    }
    const obj = value as Record<string, unknown>;
    if (typeof obj.currency === 'string' && typeof obj.value === 'number') {
      seen.push(obj.currency);
      return;
    }
    for (const key of ['total', 'payment', 'item', 'addItem', 'adjudication', 'amount', 'detail', 'subDetail', 'net']) {
      if (key in obj) visit(obj[key]);
    }
  };
  visit(resource);
  return seen[0] ?? fallback;
}

function isDenialCarc(tables: CodeTables, adj: Adjustment): boolean {
  if (!adj.carc) return false;
  if (adj.group?.code === 'PR') return false;
  return tables.carc.codes[adj.carc.code]?.disputeCategory !== undefined;
}

/**
 * Summarises an EOB or ClaimResponse. `claim` (optional) supplies the billed amount and line details
 * a ClaimResponse does not repeat. Amounts are exact sums rounded once (VIEW-03); a field is absent
 * when the resource does not publish it (FIN-38), never zero-filled.
 */
export function summarizeAdjudication(
  resource: ExplanationOfBenefit | ClaimResponse,
  claim?: Claim,
  options: SummarizeOptions = {},
): ClaimFinancialSummary {
  const tables = options.tables ?? defaultCodeTables;
  const currency = pickCurrency(resource, options.defaultCurrency ?? 'USD');
  const acc: Accumulator = { currency, problems: new Set(), tables };

  const processNotes: ProcessNoteText[] = (resource.processNote ?? [])
    .filter((n) => n.text)
    .map((n) => ({
      text: n.text as string,
      ...(n.number !== undefined ? { number: n.number } : {}),
      ...(n.type ? { type: n.type } : {}),
    }));
  const notesByNumber = new Map<number, string>();
  for (const n of processNotes) if (n.number !== undefined) notesByNumber.set(n.number, n.text);

  const claimItems = new Map<number, ItemView>();
  for (const ci of claim?.item ?? []) claimItems.set(ci.sequence, ci as ItemView);

  const items = (resource.item ?? []) as ItemView[];
  const addItems = (resource.addItem ?? []) as ItemView[];
  const header = (resource.adjudication ?? []) as AdjudicationLike[];
  const totals = resource.total ?? [];
  const itemLevel: NodeLike[] = [...items, ...addItems];

  const amounts: LineAmounts = {};
  const amountSources: Partial<Record<AmountField, AmountSource>> = {};
  const exact: ExactAmounts = {};
  const set = (field: AmountField, m: Micro | undefined, source: AmountSource): boolean => {
    if (m === undefined) return false;
    exact[field] = m;
    amounts[field] = toMoney(m, currency);
    amountSources[field] = source;
    return true;
  };
  // FIN-35: header totals first; otherwise header adjudication plus item-level sums (disjoint loops in an
  // 835-derived EOB; only one level is populated in a C4BB institutional EOB).
  const fromLevels = (field: AmountField, kinds: AdjudicationKind[]): boolean => {
    if (set(field, totalAmount(acc, totals, kinds), 'header')) return true;
    const h = listAmount(acc, [{ adjudication: header }], kinds);
    const i = listAmount(acc, itemLevel, kinds);
    if (h === undefined && i === undefined) return false;
    return set(field, (h ?? 0n) + (i ?? 0n), i === undefined ? 'header' : 'item');
  };

  for (const [field, kinds] of LINE_FIELDS) {
    if (field === 'paid' || field === 'patientResponsibility') continue;
    fromLevels(field, kinds);
  }
  fromLevels('paidByPatient', [
    'paidbypatient',
    'paidbypatientcash',
    'paidbypatientother',
    'paidbypatienthealthaccount',
  ]);

  if (!amounts.billed) {
    const claimTotal = micro(acc, claim?.total);
    if (!set('billed', claimTotal, 'claim')) {
      const nets = items.map((i) => micro(acc, i.net ?? claimItems.get(sequenceOf(i) ?? -1)?.net));
      if (nets.length > 0 && nets.every((n) => n !== undefined)) {
        set(
          'billed',
          nets.reduce<Micro>((a, b) => a + (b ?? 0n), 0n),
          claim ? 'claim' : 'item',
        );
      }
    }
  }

  const paymentMicro = micro(acc, resource.payment?.amount);
  if (!fromLevels('paid', ['paidtoprovider', 'paidtopatient'])) {
    if (!fromLevels('paid', ['benefit'])) set('paid', paymentMicro, 'payment');
  }

  // Adjustments: header then lines, every reason kept.
  const adjustments: Adjustment[] = [];
  const rejectReasons: RejectReason[] = [];
  collectNode(acc, { adjudication: header }, 'header', {}, adjustments, rejectReasons);
  const lines: LineSummary[] = [];
  for (const item of items) {
    const line = lineSummary(acc, item, 'item', notesByNumber, claimItems.get(sequenceOf(item) ?? -1));
    lines.push(line);
    adjustments.push(...line.adjustments);
    rejectReasons.push(...line.rejectReasons);
  }
  for (const item of addItems) {
    const line = lineSummary(acc, item, 'addItem', notesByNumber, undefined);
    for (const a of line.adjustments) a.level = a.level === 'item' ? 'addItem' : a.level;
    lines.push(line);
    adjustments.push(...line.adjustments);
    rejectReasons.push(...line.rejectReasons);
  }

  // Patient responsibility: memberliability, else PR-group adjustments (X835-03), else cost shares.
  let patientResponsibilitySource: ClaimFinancialSummary['patientResponsibilitySource'] = 'none';
  if (fromLevels('patientResponsibility', ['memberliability'])) {
    patientResponsibilitySource = 'memberliability';
  } else {
    const pr = adjustments.filter((a) => a.group?.code === 'PR' && a.amount);
    if (pr.length > 0) {
      set(
        'patientResponsibility',
        pr.reduce<Micro>((sum, a) => sum + toMicro(a.amount?.value ?? 0), 0n),
        'derived',
      );
      patientResponsibilitySource = 'patient-adjustments';
    } else {
      const shares = [exact.deductible, exact.copay, exact.coinsurance].filter((m): m is Micro => m !== undefined);
      if (shares.length > 0) {
        set(
          'patientResponsibility',
          shares.reduce<Micro>((sum, m) => sum + m, 0n),
          'derived',
        );
        patientResponsibilitySource = 'cost-share';
      }
    }
  }

  const errors: ClaimError[] =
    resource.resourceType === 'ClaimResponse'
      ? (resource.error ?? []).map((e) => ({
          code: codedConcept(e.code) ?? { code: 'unknown', display: 'unknown', known: false },
          ...(e.itemSequence !== undefined ? { itemSequence: e.itemSequence } : {}),
          ...(e.detailSequence !== undefined ? { detailSequence: e.detailSequence } : {}),
          ...(e.subDetailSequence !== undefined ? { subDetailSequence: e.subDetailSequence } : {}),
        }))
      : [];

  const paymentType = codedConcept(resource.payment?.type);
  const paymentCodes = resource.payment?.type?.coding ?? [];
  const c4bbStatus = paymentCodes.find((c) => c.code === 'paid' || c.code === 'denied' || c.code === 'partiallypaid')
    ?.code as ClaimFinancialSummary['paymentStatus'];

  const reconciliation = reconcile(amounts, adjustments, currency, exact);

  const denialSignals: DenialSignal[] = [];
  if (resource.outcome === 'error') denialSignals.push('outcome-error');
  if (c4bbStatus === 'denied') denialSignals.push('payment-type-denied');
  if (paymentCodes.some((c) => c.system === X12_CLAIM_STATUS_SYSTEM && c.code === '4')) {
    denialSignals.push('x12-claim-denied');
  }
  if (amounts.paid?.minor === 0 && adjustments.some((a) => isDenialCarc(tables, a))) {
    denialSignals.push('zero-paid-with-denial-reason');
  }
  if (rejectReasons.length > 0) denialSignals.push('pharmacy-reject');

  const summary: ClaimFinancialSummary = {
    resourceType: resource.resourceType,
    currency,
    header: claimHeader(resource),
    amounts,
    amountSources,
    patientResponsibilitySource,
    errors,
    processNotes,
    adjustments,
    rejectReasons,
    lines,
    reconciliation,
    denied: denialSignals.length > 0,
    denialSignals,
    problems: [...acc.problems],
  };
  if (resource.id) summary.id = resource.id;
  const claimNumber = payerClaimNumber(resource.identifier);
  if (claimNumber) summary.payerClaimNumber = claimNumber;
  if (resource.status) summary.status = resource.status;
  if (resource.outcome) summary.outcome = resource.outcome;
  if (resource.disposition) summary.disposition = resource.disposition;
  if (resource.created) summary.created = resource.created;
  if (paymentType) summary.paymentType = paymentType;
  if (c4bbStatus) summary.paymentStatus = c4bbStatus;
  if (resource.payment?.date) summary.paymentDate = resource.payment.date;
  if (paymentMicro !== undefined) summary.paymentAmount = toMoney(paymentMicro, currency);
  return summary;
}

/**
 * Checks billed = paid + non-patient adjustments + patient responsibility, at cent precision.
 * An imbalance is returned as a difference, never absorbed into another field.
 */
export function reconcile(
  amounts: LineAmounts,
  adjustments: readonly Adjustment[],
  currency: string,
  exact: ExactAmounts = {},
): Reconciliation {
  const x = (field: AmountField): Micro | undefined => {
    const money = amounts[field];
    return exact[field] ?? (money ? toMicro(money.value) : undefined);
  };
  const missing: AmountField[] = [];
  if (!amounts.billed) missing.push('billed');
  if (!amounts.paid) missing.push('paid');
  const coded = adjustments.filter((a) => a.amount && a.group?.code !== 'PR' && a.carc);
  let adjustmentsMicro: Micro = 0n;
  let basis: Reconciliation['adjustmentsBasis'] = 'none';
  if (coded.length > 0) {
    adjustmentsMicro = coded.reduce<Micro>((s, a) => s + toMicro(a.amount?.value ?? 0), 0n);
    basis = 'coded-adjustments';
  } else if (amounts.billed && amounts.allowed) {
    adjustmentsMicro = (x('billed') ?? 0n) - (x('allowed') ?? 0n);
    basis = 'billed-minus-allowed';
  } else if (amounts.nonCovered) {
    adjustmentsMicro = x('nonCovered') ?? 0n;
    basis = 'noncovered';
  }
  const result: Reconciliation = { status: 'insufficient-data', adjustmentsBasis: basis, missing };
  if (amounts.billed) result.billed = amounts.billed;
  if (amounts.paid) result.paid = amounts.paid;
  result.adjustments = toMoney(adjustmentsMicro, currency);
  const pr = x('patientResponsibility') ?? 0n;
  if (amounts.patientResponsibility) result.patientResponsibility = amounts.patientResponsibility;
  if (!amounts.billed || !amounts.paid) return result;
  const difference = roundMicro((x('billed') ?? 0n) - (x('paid') ?? 0n) - adjustmentsMicro - pr, currency);
  result.difference = toMoney(difference, currency);
  if (basis === 'none' && !amounts.patientResponsibility && difference !== 0n) {
    // Nothing published explains where the rest went: the check cannot be made, but the gap stays visible.
    result.missing.push('allowed', 'patientResponsibility');
    return result;
  }
  result.status = difference === 0n ? 'balanced' : 'unbalanced';
  return result;
}
