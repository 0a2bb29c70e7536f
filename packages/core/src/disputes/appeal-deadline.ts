// Appeal deadlines from tenant-changeable presets (data/appeal-presets.json), never from constants in
// code: a payer policy overrides the default, and the default comes from the cited federal rule.
import { readFileSync } from 'node:fs';
import presetsData from '../../data/appeal-presets.json' with { type: 'json' };
import { NotFoundError, ValidationError } from '../errors';
import { toMicro, toMoney } from '../fhir/adjudication/money';

export interface AppealDuration {
  days?: number;
  months?: number;
  hours?: number;
}

export interface AppealPolicy {
  label: string;
  duration: AppealDuration;
  /** What the clock starts from, in words (e.g. the notice of adverse benefit determination). */
  from: string;
  citation: string;
  /** Extra conditions (e.g. the No Surprises Act $400 threshold); informational for the deadline itself. */
  eligibility?: { minimumExcessOverGoodFaithEstimate?: string; currency?: string };
}

export interface AppealPresets {
  source: string;
  version: string;
  date: string;
  defaultPolicyId: string;
  /** Days before the deadline at which a dispute shows as due soon. */
  dueSoonDays: number;
  policies: Record<string, AppealPolicy>;
  /** Per-payer choice: a policy id, or a policy of its own. */
  payers: Record<string, string | AppealPolicy>;
}

function checkPresets(value: unknown): AppealPresets {
  const p = value as Partial<AppealPresets> | null;
  const ok =
    p !== null &&
    typeof p === 'object' &&
    typeof p.defaultPolicyId === 'string' &&
    typeof p.dueSoonDays === 'number' &&
    typeof p.policies === 'object' &&
    p.policies !== null &&
    p.defaultPolicyId in p.policies;
  if (!ok) {
    throw new ValidationError('appeal presets are not valid', [
      { field: 'appealPresets', message: 'needs defaultPolicyId (one of policies), dueSoonDays and policies' },
    ]);
  }
  const presets = p as AppealPresets;
  return { ...presets, payers: presets.payers ?? {} };
}

/**
 * The built-in presets, or a tenant's: an object or a JSON file path. A partial override is merged over
 * the defaults (policies and payers by key), so a tenant can change one payer without copying the rest.
 */
export function loadAppealPresets(override?: Partial<AppealPresets> | string): AppealPresets {
  const base = checkPresets(presetsData);
  if (override === undefined) return base;
  const extra = (
    typeof override === 'string' ? JSON.parse(readFileSync(override, 'utf8')) : override
  ) as Partial<AppealPresets>;
  return checkPresets({
    ...base,
    ...extra,
    policies: { ...base.policies, ...extra.policies },
    payers: { ...base.payers, ...extra.payers },
  });
}

/** The policy for a payer: its own override, else the named policy, else the tenant default. */
export function resolveAppealPolicy(
  presets: AppealPresets,
  selector: { payerId?: string; policyId?: string } = {},
): AppealPolicy {
  const payer = selector.payerId !== undefined ? presets.payers[selector.payerId] : undefined;
  if (payer && typeof payer === 'object') return payer;
  const id = selector.policyId ?? (typeof payer === 'string' ? payer : presets.defaultPolicyId);
  const policy = presets.policies[id];
  if (!policy) throw new NotFoundError('appeal policy not found', { policyId: id });
  return policy;
}

export type DeadlineState = 'ok' | 'due-soon' | 'missed';

export interface AppealDeadline {
  /** The last moment to act, as an ISO instant (end of the local day for day/month rules). */
  deadline: string;
  /** Whole local calendar days left (0 on the last day; negative once missed). */
  daysRemaining: number;
  state: DeadlineState;
}

export interface AppealDeadlineInput {
  /** When the clock starts: a FHIR date (`2024-03-01`) or instant. */
  adjudicationDate: string;
  policy: AppealPolicy;
  now: Date;
  /** IANA zone in which calendar days are counted; UTC when not given. */
  timeZone?: string;
  /** Overrides the presets' dueSoonDays. */
  dueSoonDays?: number;
}

interface LocalDate {
  year: number;
  month: number;
  day: number;
}

function localParts(instant: Date, timeZone: string): LocalDate & { hour: number; minute: number; second: number } {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(instant);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return {
    year: get('year'),
    month: get('month'),
    day: get('day'),
    hour: get('hour'),
    minute: get('minute'),
    second: get('second'),
  };
}

/** Offset (ms) of `timeZone` from UTC at `instant`. */
function offsetAt(instant: Date, timeZone: string): number {
  const p = localParts(instant, timeZone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - Math.floor(instant.getTime() / 1000) * 1000;
}

/** The UTC instant of a local wall-clock time in `timeZone` (two passes settle DST edges). */
function zonedInstant(date: LocalDate, ms: number, timeZone: string): Date {
  const wall = Date.UTC(date.year, date.month - 1, date.day) + ms;
  let guess = wall - offsetAt(new Date(wall), timeZone);
  guess = wall - offsetAt(new Date(guess), timeZone);
  return new Date(guess);
}

function addCalendar(date: LocalDate, duration: AppealDuration): LocalDate {
  const months = duration.months ?? 0;
  const y = date.year + Math.floor((date.month - 1 + months) / 12);
  const m = (((date.month - 1 + months) % 12) + 12) % 12;
  const lastDay = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  // "4 months after 31 October" ends on the last day of February, not in March.
  const clamped = Math.min(date.day, lastDay);
  const shifted = new Date(Date.UTC(y, m, clamped + (duration.days ?? 0)));
  return { year: shifted.getUTCFullYear(), month: shifted.getUTCMonth() + 1, day: shifted.getUTCDate() };
}

function dayNumber(d: LocalDate): number {
  return Math.round(Date.UTC(d.year, d.month - 1, d.day) / 86_400_000);
}

function parseStart(value: string, timeZone: string): { instant: Date; local: LocalDate } {
  const dateOnly = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (dateOnly) {
    const local = { year: Number(dateOnly[1]), month: Number(dateOnly[2]), day: Number(dateOnly[3]) };
    return { instant: zonedInstant(local, 0, timeZone), local };
  }
  const instant = new Date(value);
  if (Number.isNaN(instant.getTime())) {
    throw new ValidationError('adjudication date is not a date', [
      { field: 'adjudicationDate', message: 'FHIR date or dateTime' },
    ]);
  }
  return { instant, local: localParts(instant, timeZone) };
}

/**
 * Deadline for acting on an adjudication under `policy`. Day and month rules end at the end of the local
 * calendar day in `timeZone`; hour rules (expedited, 72 hours) run from the instant itself.
 */
export function computeAppealDeadline(
  input: AppealDeadlineInput,
  presets?: Pick<AppealPresets, 'dueSoonDays'>,
): AppealDeadline {
  const timeZone = input.timeZone ?? 'UTC';
  const dueSoonDays = input.dueSoonDays ?? presets?.dueSoonDays ?? loadAppealPresets().dueSoonDays;
  const start = parseStart(input.adjudicationDate, timeZone);
  const { duration } = input.policy;
  let deadline: Date;
  if (duration.hours !== undefined && duration.days === undefined && duration.months === undefined) {
    deadline = new Date(start.instant.getTime() + duration.hours * 3_600_000);
  } else {
    const last = addCalendar(start.local, duration);
    deadline = new Date(zonedInstant(last, 86_400_000, timeZone).getTime() - 1);
  }
  const today = localParts(input.now, timeZone);
  const lastDay = localParts(deadline, timeZone);
  const daysRemaining = dayNumber(lastDay) - dayNumber(today);
  let state: DeadlineState = 'ok';
  if (input.now.getTime() > deadline.getTime()) state = 'missed';
  else if (daysRemaining <= dueSoonDays) state = 'due-soon';
  return { deadline: deadline.toISOString(), daysRemaining, state };
}

/** No Surprises Act PPDR threshold (45 CFR 149.620): billed at least the preset amount above the estimate. */
export function meetsDisputeThreshold(
  policy: AppealPolicy,
  amounts: { billedMinor: number; goodFaithEstimateMinor: number },
): boolean {
  const threshold = policy.eligibility?.minimumExcessOverGoodFaithEstimate;
  if (threshold === undefined) return true;
  const thresholdMinor = toMoney(toMicro(threshold), policy.eligibility?.currency ?? 'USD').minor;
  return amounts.billedMinor - amounts.goodFaithEstimateMinor >= thresholdMinor;
}
