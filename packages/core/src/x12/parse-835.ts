// X12 835 (005010X221A1) remittance → plain Remittance values. Envelopes are checked first (envelope.ts);
// the content is read with node-x12's parser. Balancing problems are returned, never "fixed" (X835-06).
import x12 from 'node-x12';
import { toMicro, toMoney } from '../fhir/adjudication/money';
import {
  type Delimiters,
  type RawSegment,
  readDelimiters,
  splitSegments,
  type TransactionSpan,
  validateEnvelopes,
  X12FormatError,
} from './envelope';

/** Where in the file a value came from, so problems can point at it without quoting it. */
export interface SegmentRef {
  segment: string;
  position: number;
  line: number;
}

/** CAS triplet (X835-01): group code, CARC, amount, optional quantity. */
export interface CasAdjustment {
  group: string;
  reason: string;
  /** Decimal string as published. */
  amount: string;
  quantity?: string;
  at: SegmentRef;
}

export interface ServiceLine {
  /** SVC01-1 product/service id qualifier (HC, NU, N4, AD, …). */
  qualifier: string;
  code: string;
  modifiers: string[];
  charge: string;
  paid: string;
  revenueCode?: string;
  units?: string;
  serviceDate?: string;
  servicePeriod?: { start?: string; end?: string };
  allowed?: string;
  lineControlNumber?: string;
  adjustments: CasAdjustment[];
  /** LQ*HE remark codes (RARC). */
  remarks: string[];
  at: SegmentRef;
}

export interface RemittanceClaim {
  /** CLP01: the provider's patient control number (links to Claim.identifier). */
  patientControlNumber: string;
  /** CLP02 claim status code. */
  status: string;
  charge: string;
  paid: string;
  patientResponsibility?: string;
  filingIndicator?: string;
  /** CLP07: payer claim control number (EOB identifier[uc]). */
  payerClaimControlNumber?: string;
  facilityCode?: string;
  frequencyCode?: string;
  /** NM1*QC / NM1*IL NM109 member identifier; names are not kept (minimum necessary). */
  memberId?: string;
  statementPeriod?: { start?: string; end?: string };
  receivedDate?: string;
  coverageAmount?: string;
  adjustments: CasAdjustment[];
  /** MOA / MIA remark codes (claim-level RARC). */
  remarks: string[];
  lines: ServiceLine[];
  at: SegmentRef;
}

/** PLB: provider-level adjustment; belongs to PaymentReconciliation, not to a patient's EOB (X835-06). */
export interface ProviderAdjustment {
  providerId: string;
  fiscalPeriodDate?: string;
  reason: string;
  reference?: string;
  amount: string;
  at: SegmentRef;
}

export type BalanceProblemCode =
  | 'line-unbalanced'
  | 'claim-unbalanced'
  | 'claim-line-charges-mismatch'
  | 'patient-responsibility-mismatch'
  | 'payment-unbalanced';

/** A remit that does not add up, reported as data (X835-06). No patient values in `message`. */
export interface BalanceProblem {
  code: BalanceProblemCode;
  segment: string;
  position: number;
  line: number;
  claimIndex?: number;
  lineIndex?: number;
  /** Expected minus found, as a decimal string. */
  difference: string;
  message: string;
}

export interface Remittance {
  interchangeControlNumber: string;
  groupControlNumber: string;
  transactionControlNumber: string;
  /** Payer id: N1*PR N104, else REF*2U, else TRN03, else ISA06. */
  payerId: string;
  payerName?: string;
  payeeName?: string;
  payeeNpi?: string;
  payeeTaxId?: string;
  payment: {
    handling?: string;
    amount: string;
    creditDebit?: string;
    method?: string;
    date?: string;
    traceNumber?: string;
  };
  productionDate?: string;
  currency: string;
  claims: RemittanceClaim[];
  providerAdjustments: ProviderAdjustment[];
  problems: BalanceProblem[];
}

type Seg = RawSegment;

function v(seg: Seg, index: number): string | undefined {
  const value = seg.elements[index - 1]?.trim();
  return value ? value : undefined;
}

function req(seg: Seg, index: number, name: string): string {
  const value = v(seg, index);
  if (value === undefined) {
    throw new X12FormatError([
      {
        code: 'unexpected-segment',
        segment: seg.id,
        position: seg.position,
        line: seg.line,
        element: name,
        message: `required element ${name} is empty`,
      },
    ]);
  }
  return value;
}

function amount(seg: Seg, index: number, name: string): string {
  const value = req(seg, index, name);
  try {
    toMicro(value);
  } catch {
    throw new X12FormatError([
      {
        code: 'unexpected-segment',
        segment: seg.id,
        position: seg.position,
        line: seg.line,
        element: name,
        message: `element ${name} is not a decimal amount`,
      },
    ]);
  }
  return value;
}

function ref(seg: Seg): SegmentRef {
  return { segment: seg.id, position: seg.position, line: seg.line };
}

/** CCYYMMDD → YYYY-MM-DD (a FHIR date); anything else is kept out rather than guessed. */
export function x12Date(value: string | undefined): string | undefined {
  if (!value || !/^\d{8}$/.test(value)) return undefined;
  return `${value.slice(0, 4)}-${value.slice(4, 6)}-${value.slice(6, 8)}`;
}

function casTriplets(seg: Seg): CasAdjustment[] {
  const group = req(seg, 1, 'CAS01');
  const out: CasAdjustment[] = [];
  for (let i = 2; i <= 17; i += 3) {
    const reason = v(seg, i);
    if (!reason) continue;
    const adj: CasAdjustment = {
      group,
      reason,
      amount: amount(seg, i + 1, `CAS${String(i + 1).padStart(2, '0')}`),
      at: ref(seg),
    };
    const quantity = v(seg, i + 2);
    if (quantity) adj.quantity = quantity;
    out.push(adj);
  }
  return out;
}

function sum(values: readonly string[]): bigint {
  return values.reduce((s, x) => s + toMicro(x), 0n);
}

function problem(
  code: BalanceProblemCode,
  at: SegmentRef,
  diff: bigint,
  currency: string,
  message: string,
  where: { claimIndex?: number; lineIndex?: number },
): BalanceProblem {
  return { code, ...at, ...where, difference: toMoney(diff, currency).value, message };
}

/** The TR3 balancing rules as documented by public parsers (X835-06); each failure becomes a problem. */
function balance(remit: RemittanceDraft): BalanceProblem[] {
  const problems: BalanceProblem[] = [];
  const cur = remit.currency;
  remit.claims.forEach((claim, claimIndex) => {
    claim.lines.forEach((line, lineIndex) => {
      const diff = toMicro(line.charge) - sum(line.adjustments.map((a) => a.amount)) - toMicro(line.paid);
      if (diff !== 0n) {
        problems.push(
          problem('line-unbalanced', line.at, diff, cur, 'service line charge minus adjustments does not equal paid', {
            claimIndex,
            lineIndex,
          }),
        );
      }
    });
    const allAdjustments = [...claim.adjustments, ...claim.lines.flatMap((l) => l.adjustments)];
    const diff = toMicro(claim.charge) - sum(allAdjustments.map((a) => a.amount)) - toMicro(claim.paid);
    if (diff !== 0n) {
      problems.push(
        problem('claim-unbalanced', claim.at, diff, cur, 'claim charge minus adjustments does not equal claim paid', {
          claimIndex,
        }),
      );
    }
    if (claim.lines.length > 0) {
      const lineDiff = toMicro(claim.charge) - sum(claim.lines.map((l) => l.charge));
      if (lineDiff !== 0n) {
        problems.push(
          problem(
            'claim-line-charges-mismatch',
            claim.at,
            lineDiff,
            cur,
            'claim charge does not equal the sum of line charges',
            {
              claimIndex,
            },
          ),
        );
      }
    }
    if (claim.patientResponsibility !== undefined) {
      const pr = sum(allAdjustments.filter((a) => a.group === 'PR').map((a) => a.amount));
      const prDiff = toMicro(claim.patientResponsibility) - pr;
      if (prDiff !== 0n) {
        problems.push(
          problem(
            'patient-responsibility-mismatch',
            claim.at,
            prDiff,
            cur,
            'CLP05 does not equal the sum of PR adjustments',
            {
              claimIndex,
            },
          ),
        );
      }
    }
  });
  const paid = sum(remit.claims.map((c) => c.paid)) - sum(remit.providerAdjustments.map((p) => p.amount));
  const payDiff = toMicro(remit.payment.amount) - paid;
  if (payDiff !== 0n) {
    problems.push(
      problem(
        'payment-unbalanced',
        remit.bprAt,
        payDiff,
        cur,
        'BPR02 does not equal claim payments minus provider adjustments',
        {},
      ),
    );
  }
  return problems;
}

interface RemittanceDraft extends Remittance {
  bprAt: SegmentRef;
}

function readTransaction(segs: readonly Seg[], d: Delimiters, envelope: { isa: Seg; gs: Seg; st: Seg }): Remittance {
  const remit: RemittanceDraft = {
    interchangeControlNumber: req(envelope.isa, 13, 'ISA13'),
    groupControlNumber: req(envelope.gs, 6, 'GS06'),
    transactionControlNumber: req(envelope.st, 2, 'ST02'),
    payerId: '',
    payment: { amount: '0' },
    currency: 'USD',
    claims: [],
    providerAdjustments: [],
    problems: [],
    bprAt: ref(envelope.st),
  };
  let n1: 'PR' | 'PE' | undefined;
  let payerRef2U: string | undefined;
  let payerN104: string | undefined;
  let trnPayer: string | undefined;
  let claim: RemittanceClaim | undefined;
  let line: ServiceLine | undefined;
  let sawBpr = false;

  for (const seg of segs) {
    switch (seg.id) {
      case 'BPR': {
        sawBpr = true;
        remit.bprAt = ref(seg);
        remit.payment.amount = amount(seg, 2, 'BPR02');
        const handling = v(seg, 1);
        if (handling) remit.payment.handling = handling;
        const cd = v(seg, 3);
        if (cd) remit.payment.creditDebit = cd;
        const method = v(seg, 4);
        if (method) remit.payment.method = method;
        const date = x12Date(v(seg, 16));
        if (date) remit.payment.date = date;
        break;
      }
      case 'TRN': {
        const trace = v(seg, 2);
        if (trace) remit.payment.traceNumber = trace;
        trnPayer = v(seg, 3);
        break;
      }
      case 'CUR': {
        const c = v(seg, 2);
        if (c) remit.currency = c;
        break;
      }
      case 'N1': {
        const role = v(seg, 1);
        n1 = role === 'PR' || role === 'PE' ? role : undefined;
        if (claim) break;
        if (role === 'PR') {
          const name = v(seg, 2);
          if (name) remit.payerName = name;
          payerN104 = v(seg, 4);
        } else if (role === 'PE') {
          const name = v(seg, 2);
          if (name) remit.payeeName = name;
          if (v(seg, 3) === 'XX') {
            const npi = v(seg, 4);
            if (npi) remit.payeeNpi = npi;
          } else if (v(seg, 3) === 'FI') {
            const tin = v(seg, 4);
            if (tin) remit.payeeTaxId = tin;
          }
        }
        break;
      }
      case 'REF': {
        if (line && v(seg, 1) === '6R') {
          const ctl = v(seg, 2);
          if (ctl) line.lineControlNumber = ctl;
        } else if (!claim && n1 === 'PR' && v(seg, 1) === '2U') {
          payerRef2U = v(seg, 2);
        } else if (!claim && n1 === 'PE' && v(seg, 1) === 'TJ' && !remit.payeeTaxId) {
          const tin = v(seg, 2);
          if (tin) remit.payeeTaxId = tin;
        }
        break;
      }
      case 'DTM': {
        const qualifier = v(seg, 1);
        const date = x12Date(v(seg, 2));
        if (!date) break;
        if (!claim && qualifier === '405') remit.productionDate = date;
        else if (line && qualifier === '472') line.serviceDate = date;
        else if (line && qualifier === '150') line.servicePeriod = { ...line.servicePeriod, start: date };
        else if (line && qualifier === '151') line.servicePeriod = { ...line.servicePeriod, end: date };
        else if (claim && !line && qualifier === '232')
          claim.statementPeriod = { ...claim.statementPeriod, start: date };
        else if (claim && !line && qualifier === '233') claim.statementPeriod = { ...claim.statementPeriod, end: date };
        else if (claim && !line && qualifier === '050') claim.receivedDate = date;
        break;
      }
      case 'CLP': {
        line = undefined;
        claim = {
          patientControlNumber: req(seg, 1, 'CLP01'),
          status: req(seg, 2, 'CLP02'),
          charge: amount(seg, 3, 'CLP03'),
          paid: amount(seg, 4, 'CLP04'),
          adjustments: [],
          remarks: [],
          lines: [],
          at: ref(seg),
        };
        if (v(seg, 5) !== undefined) claim.patientResponsibility = amount(seg, 5, 'CLP05');
        const filing = v(seg, 6);
        if (filing) claim.filingIndicator = filing;
        const payerCtl = v(seg, 7);
        if (payerCtl) claim.payerClaimControlNumber = payerCtl;
        const facility = v(seg, 8);
        if (facility) claim.facilityCode = facility;
        const frequency = v(seg, 9);
        if (frequency) claim.frequencyCode = frequency;
        remit.claims.push(claim);
        break;
      }
      case 'CAS': {
        if (!claim) break;
        (line ?? claim).adjustments.push(...casTriplets(seg));
        break;
      }
      case 'NM1': {
        if (claim && !line && (v(seg, 1) === 'QC' || v(seg, 1) === 'IL') && v(seg, 9)) {
          // IL (insured) wins over QC (patient) as the member id on the coverage.
          if (v(seg, 1) === 'IL' || !claim.memberId) claim.memberId = v(seg, 9) as string;
        }
        break;
      }
      case 'MOA': {
        if (!claim) break;
        for (let i = 3; i <= 7; i++) {
          const code = v(seg, i);
          if (code) claim.remarks.push(code);
        }
        break;
      }
      case 'MIA': {
        if (!claim) break;
        for (const i of [5, 20, 21, 22, 23]) {
          const code = v(seg, i);
          if (code) claim.remarks.push(code);
        }
        break;
      }
      case 'AMT': {
        if (line && v(seg, 1) === 'B6') line.allowed = amount(seg, 2, 'AMT02');
        else if (claim && !line && v(seg, 1) === 'AU') claim.coverageAmount = amount(seg, 2, 'AMT02');
        break;
      }
      case 'SVC': {
        if (!claim) break;
        const composite = req(seg, 1, 'SVC01').split(d.subElement);
        line = {
          qualifier: composite[0] ?? '',
          code: composite[1] ?? '',
          modifiers: composite.slice(2, 6).filter((m) => m.length > 0),
          charge: amount(seg, 2, 'SVC02'),
          paid: amount(seg, 3, 'SVC03'),
          adjustments: [],
          remarks: [],
          at: ref(seg),
        };
        const revenue = v(seg, 4);
        if (revenue) line.revenueCode = revenue;
        const units = v(seg, 5);
        if (units) line.units = units;
        claim.lines.push(line);
        break;
      }
      case 'LQ': {
        if (line && v(seg, 1) === 'HE') {
          const code = v(seg, 2);
          if (code) line.remarks.push(code);
        }
        break;
      }
      case 'PLB': {
        claim = undefined;
        line = undefined;
        const providerId = req(seg, 1, 'PLB01');
        const fiscal = x12Date(v(seg, 2));
        for (let i = 3; i <= 13; i += 2) {
          const composite = v(seg, i);
          if (!composite) continue;
          const [reason = '', reference] = composite.split(d.subElement);
          const adj: ProviderAdjustment = {
            providerId,
            reason,
            amount: amount(seg, i + 1, `PLB${String(i + 1).padStart(2, '0')}`),
            at: ref(seg),
          };
          if (fiscal) adj.fiscalPeriodDate = fiscal;
          if (reference) adj.reference = reference;
          remit.providerAdjustments.push(adj);
        }
        break;
      }
      default:
        break;
    }
  }
  if (!sawBpr) {
    throw new X12FormatError([
      { ...ref(envelope.st), code: 'unexpected-segment', message: 'transaction set has no BPR segment' },
    ]);
  }
  remit.payerId = (payerN104 ?? payerRef2U ?? trnPayer ?? v(envelope.isa, 6) ?? 'unknown').trim();
  remit.problems = balance(remit);
  const { bprAt: _bpr, ...out } = remit;
  return out;
}

/**
 * Parses an 835 file into one Remittance per ST/SE transaction set. Structural errors (delimiters,
 * envelopes, counts, control numbers) reject the whole file with an X12FormatError naming segment ids and
 * positions only; balancing problems are returned on each Remittance.
 */
export function parse835(text: string): Remittance[] {
  const delimiters = readDelimiters(text);
  const raw = splitSegments(text, delimiters);
  const spans = validateEnvelopes(raw, '835');
  const body = text.replace(/^\uFEFF/, '').trimStart();
  const transactions = readWithNodeX12(body, raw, spans);
  return transactions.map(({ segments, isa, gs, st }) => readTransaction(segments, delimiters, { isa, gs, st }));
}

interface TransactionSegments {
  segments: Seg[];
  isa: Seg;
  gs: Seg;
  st: Seg;
}

/**
 * Reads the transaction sets with node-x12 (the maintained parser) and pairs each of its segments with the
 * position our envelope scan recorded, so later problems can point at the segment without quoting it.
 */
function readWithNodeX12(
  body: string,
  raw: readonly RawSegment[],
  spans: readonly TransactionSpan[],
): TransactionSegments[] {
  const parsed = new x12.X12Parser(false).parse(body);
  const interchanges = parsed instanceof x12.X12FatInterchange ? parsed.interchanges : [parsed];
  const nodeTransactions = interchanges.flatMap((i) => i.functionalGroups.flatMap((g) => g.transactions));
  if (nodeTransactions.length !== spans.length) {
    const first = raw[0];
    throw new X12FormatError([
      {
        code: 'unexpected-segment',
        segment: 'ST',
        position: first?.position ?? 1,
        line: first?.line ?? 1,
        message: 'transaction sets could not be read consistently',
      },
    ]);
  }
  return spans.map((span, index) => {
    const tx = nodeTransactions[index] as (typeof nodeTransactions)[number];
    const positions = raw.slice(span.start + 1, span.end);
    const segments: Seg[] = tx.segments.map((s, i) => {
      const at = positions[i];
      if (at && at.id !== s.tag) {
        // Our scan and node-x12 must agree segment by segment, or positions in problems would be wrong.
        throw new X12FormatError([
          {
            code: 'unexpected-segment',
            segment: at.id,
            position: at.position,
            line: at.line,
            message: 'segment could not be read consistently',
          },
        ]);
      }
      return {
        id: s.tag,
        elements: s.elements.map((e) => e.value),
        position: at?.position ?? 0,
        line: at?.line ?? s.range.start.line + 1,
      };
    });
    let isa: Seg | undefined;
    let gs: Seg | undefined;
    for (let i = span.start; i >= 0 && (!isa || !gs); i--) {
      const s = raw[i];
      if (s?.id === 'GS' && !gs) gs = s;
      if (s?.id === 'ISA' && !isa) isa = s;
    }
    return { segments, isa: isa as Seg, gs: gs as Seg, st: raw[span.start] as Seg };
  });
}
