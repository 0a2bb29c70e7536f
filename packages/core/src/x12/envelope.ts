// Structural checks of an X12 interchange before its content is trusted (STANDARDS X835-07): delimiters,
// ISA/IEA, GS/GE, ST/SE nesting, counts and control numbers. Errors name the segment id and its position,
// never a value: 835 content is PHI.
import { ValidationError } from '../errors';

export type X12IssueCode =
  | 'empty'
  | 'missing-isa'
  | 'bad-isa'
  | 'bad-segment-terminator'
  | 'bad-segment-id'
  | 'unexpected-segment'
  | 'missing-iea'
  | 'missing-ge'
  | 'missing-se'
  | 'segment-count-mismatch'
  | 'transaction-count-mismatch'
  | 'group-count-mismatch'
  | 'control-number-mismatch'
  | 'not-835';

export interface X12Issue {
  code: X12IssueCode;
  /** Segment id the problem is at (e.g. `SE`), or the one expected but missing. */
  segment: string;
  /** 1-based ordinal of the segment in the file. */
  position: number;
  /** 1-based line number in the file. */
  line: number;
  /** Element reference without its value, e.g. `SE01`. */
  element?: string;
  message: string;
}

/** An 835 file that cannot be read as a whole; nothing of it is imported. */
export class X12FormatError extends ValidationError {
  readonly issues: X12Issue[];
  constructor(issues: X12Issue[]) {
    const first = issues[0];
    super(
      first
        ? `X12 file rejected: ${first.message} (segment ${first.segment} at position ${first.position}, line ${first.line})`
        : 'X12 file rejected',
      issues.map((i) => ({
        field: `${i.element ?? i.segment}@${i.position}`,
        message: `${i.message} (line ${i.line})`,
      })),
    );
    this.issues = issues;
  }
}

export interface Delimiters {
  element: string;
  subElement: string;
  repetition: string;
  segment: string;
}

/** A raw segment: id, elements split on the element delimiter, ordinal and line. */
export interface RawSegment {
  id: string;
  elements: string[];
  position: number;
  line: number;
}

const ISA_LENGTH = 106;
const SEGMENT_ID = /^[A-Z][A-Z0-9]{1,2}$/;

function issue(
  code: X12IssueCode,
  segment: string,
  position: number,
  line: number,
  message: string,
  element?: string,
): X12Issue {
  return { code, segment, position, line, message, ...(element ? { element } : {}) };
}

/** Reads the delimiters from the fixed-width ISA segment (ISA is always 106 characters). */
export function readDelimiters(text: string): Delimiters {
  const start = text.replace(/^\uFEFF/, '').trimStart();
  if (start.length === 0) throw new X12FormatError([issue('empty', 'ISA', 1, 1, 'file is empty')]);
  if (!start.startsWith('ISA')) {
    throw new X12FormatError([issue('missing-isa', 'ISA', 1, 1, 'file does not start with an ISA segment')]);
  }
  const element = start.charAt(3);
  const segment = start.charAt(ISA_LENGTH - 1);
  const subElement = start.charAt(ISA_LENGTH - 2);
  const repetition = start.charAt(82);
  if (start.length < ISA_LENGTH || start.split(element).length - 1 < 16 || start.charAt(103) !== element) {
    throw new X12FormatError([issue('bad-isa', 'ISA', 1, 1, 'ISA segment is not 106 characters with 16 elements')]);
  }
  if (/[A-Za-z0-9]/.test(segment) || segment === element || segment === subElement) {
    throw new X12FormatError([
      issue('bad-segment-terminator', 'ISA', 1, 1, 'segment terminator after ISA16 is missing or not a delimiter'),
    ]);
  }
  return { element, subElement, repetition, segment };
}

/**
 * Splits the file into segments using the delimiters declared in ISA. Line breaks between segments are
 * allowed (common "pretty" 835s); a line break inside a segment means a mixed or wrong terminator.
 */
export function splitSegments(text: string, d: Delimiters): RawSegment[] {
  const body = text.replace(/^\uFEFF/, '');
  const out: RawSegment[] = [];
  const issues: X12Issue[] = [];
  let line = 1;
  let position = 0;
  for (const chunk of body.split(d.segment)) {
    const leading = chunk.match(/^\s*/)?.[0] ?? '';
    line += (leading.match(/\n/g) ?? []).length;
    const raw = chunk.slice(leading.length).replace(/[\r\n]+$/, '');
    if (raw.length === 0) {
      line += (chunk.slice(leading.length).match(/\n/g) ?? []).length;
      continue;
    }
    position += 1;
    const elements = raw.split(d.element);
    const id = elements.shift() ?? '';
    if (!SEGMENT_ID.test(id)) {
      issues.push(
        issue(
          'bad-segment-id',
          id.slice(0, 3).replace(/[^A-Z0-9]/g, '?') || '?',
          position,
          line,
          'segment id is not valid',
        ),
      );
    } else if (/[\r\n]/.test(raw)) {
      issues.push(
        issue(
          'bad-segment-terminator',
          id,
          position,
          line,
          'line break inside a segment: mixed or wrong segment terminator',
        ),
      );
    }
    out.push({ id, elements, position, line });
    line += (raw.match(/\n/g) ?? []).length + (chunk.slice(leading.length + raw.length).match(/\n/g) ?? []).length;
    if (issues.length >= 20) break;
  }
  if (issues.length > 0) throw new X12FormatError(issues);
  return out;
}

function el(segment: RawSegment, index: number): string {
  return (segment.elements[index - 1] ?? '').trim();
}

function sameNumber(a: string, b: string): boolean {
  return /^\d+$/.test(a) && /^\d+$/.test(b) ? BigInt(a) === BigInt(b) : a === b;
}

export interface TransactionSpan {
  /** Index (into the segment list) of ST and SE. */
  start: number;
  end: number;
  groupIndex: number;
}

/**
 * Checks ISA/IEA, GS/GE and ST/SE nesting, SE01/GE01/IEA01 counts and the control numbers of each pair.
 * Returns the transaction sets found; throws X12FormatError listing every structural issue.
 */
export function validateEnvelopes(segments: readonly RawSegment[], expectedTransaction = '835'): TransactionSpan[] {
  const issues: X12Issue[] = [];
  const spans: TransactionSpan[] = [];
  let isa: RawSegment | undefined;
  let gs: RawSegment | undefined;
  let st: { seg: RawSegment; index: number } | undefined;
  let groups = 0;
  let transactions = 0;
  let groupIndex = -1;
  const last = segments[segments.length - 1];
  segments.forEach((seg, index) => {
    switch (seg.id) {
      case 'ISA':
        if (isa) issues.push(issue('missing-iea', 'IEA', seg.position, seg.line, 'ISA before the previous IEA'));
        isa = seg;
        groups = 0;
        break;
      case 'IEA':
        if (!isa) {
          issues.push(issue('unexpected-segment', 'IEA', seg.position, seg.line, 'IEA without ISA'));
          break;
        }
        if (gs) issues.push(issue('missing-ge', 'GE', seg.position, seg.line, 'IEA before the GE of an open group'));
        if (!sameNumber(el(seg, 1), String(groups))) {
          issues.push(
            issue(
              'group-count-mismatch',
              'IEA',
              seg.position,
              seg.line,
              'IEA01 does not match the number of groups',
              'IEA01',
            ),
          );
        }
        if (!sameNumber(el(seg, 2), el(isa, 13))) {
          issues.push(
            issue('control-number-mismatch', 'IEA', seg.position, seg.line, 'IEA02 does not match ISA13', 'IEA02'),
          );
        }
        isa = undefined;
        gs = undefined;
        break;
      case 'GS':
        if (!isa) issues.push(issue('unexpected-segment', 'GS', seg.position, seg.line, 'GS outside an interchange'));
        if (gs)
          issues.push(issue('missing-ge', 'GE', seg.position, seg.line, 'GS before the GE of the previous group'));
        gs = seg;
        groups += 1;
        groupIndex += 1;
        transactions = 0;
        break;
      case 'GE':
        if (!gs) {
          issues.push(issue('unexpected-segment', 'GE', seg.position, seg.line, 'GE without GS'));
          break;
        }
        if (st)
          issues.push(issue('missing-se', 'SE', seg.position, seg.line, 'GE before the SE of an open transaction set'));
        if (!sameNumber(el(seg, 1), String(transactions))) {
          issues.push(
            issue(
              'transaction-count-mismatch',
              'GE',
              seg.position,
              seg.line,
              'GE01 does not match the number of transaction sets',
              'GE01',
            ),
          );
        }
        if (!sameNumber(el(seg, 2), el(gs, 6))) {
          issues.push(
            issue('control-number-mismatch', 'GE', seg.position, seg.line, 'GE02 does not match GS06', 'GE02'),
          );
        }
        gs = undefined;
        st = undefined;
        break;
      case 'ST':
        if (!gs)
          issues.push(
            issue('unexpected-segment', 'ST', seg.position, seg.line, 'ST outside a functional group (GS missing)'),
          );
        if (st)
          issues.push(
            issue('missing-se', 'SE', seg.position, seg.line, 'ST before the SE of the previous transaction set'),
          );
        if (el(seg, 1) !== expectedTransaction) {
          issues.push(
            issue('not-835', 'ST', seg.position, seg.line, `transaction set is not an ${expectedTransaction}`, 'ST01'),
          );
        }
        st = { seg, index };
        transactions += 1;
        break;
      case 'SE': {
        if (!st) {
          issues.push(issue('unexpected-segment', 'SE', seg.position, seg.line, 'SE without ST'));
          break;
        }
        const count = index - st.index + 1;
        if (!sameNumber(el(seg, 1), String(count))) {
          issues.push(
            issue(
              'segment-count-mismatch',
              'SE',
              seg.position,
              seg.line,
              'SE01 does not match the number of segments in the transaction set',
              'SE01',
            ),
          );
        }
        if (el(seg, 2) !== el(st.seg, 2)) {
          issues.push(
            issue('control-number-mismatch', 'SE', seg.position, seg.line, 'SE02 does not match ST02', 'SE02'),
          );
        }
        spans.push({ start: st.index, end: index, groupIndex });
        st = undefined;
        break;
      }
      default:
        if (!st)
          issues.push(issue('unexpected-segment', seg.id, seg.position, seg.line, 'segment outside a transaction set'));
    }
  });
  const endPos = last?.position ?? 1;
  const endLine = last?.line ?? 1;
  if (st) issues.push(issue('missing-se', 'SE', endPos, endLine, 'file ends inside a transaction set'));
  if (gs) issues.push(issue('missing-ge', 'GE', endPos, endLine, 'file ends inside a functional group'));
  if (isa) issues.push(issue('missing-iea', 'IEA', endPos, endLine, 'file ends without IEA'));
  if (issues.length > 0) throw new X12FormatError(issues);
  return spans;
}
