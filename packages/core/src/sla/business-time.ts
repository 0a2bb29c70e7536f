// Business-time arithmetic over a calendar. A business minute is a real elapsed minute inside an
// opening period: on a spring-forward day a 00:00–04:00 period holds 180 minutes, not 240.
import { ValidationError } from '../errors';
import { type BusinessCalendar, localDayOf, openIntervalsOnDay, type TimeInterval } from './business-calendar';

const minuteMs = 60_000;
/** How far ahead we look for open time before deciding the calendar can never satisfy a request. */
const maxSearchDays = 3 * 366;

/** Remove `exclusions` (sorted or not, possibly overlapping) from `open` (sorted, disjoint). */
export function subtractIntervals(open: readonly TimeInterval[], exclusions: readonly TimeInterval[]): TimeInterval[] {
  if (exclusions.length === 0) return [...open];
  const cuts = [...exclusions].sort((a, b) => a[0] - b[0]);
  const out: TimeInterval[] = [];
  for (const [s, e] of open) {
    let cursor = s;
    for (const [cs, ce] of cuts) {
      if (ce <= cursor || cs >= e) continue;
      if (cs > cursor) out.push([cursor, cs]);
      cursor = Math.max(cursor, ce);
      if (cursor >= e) break;
    }
    if (cursor < e) out.push([cursor, e]);
  }
  return out;
}

/** Open intervals, minus exclusions, intersecting [fromMs, toMs), clipped to it. */
export function businessIntervals(
  calendar: BusinessCalendar,
  fromMs: number,
  toMs: number,
  exclusions: readonly TimeInterval[] = [],
): TimeInterval[] {
  const out: TimeInterval[] = [];
  if (toMs <= fromMs) return out;
  // One day of margin on each side: a local day's periods can start before its UTC date does.
  for (let day = localDayOf(fromMs, calendar) - 1; day <= localDayOf(toMs, calendar) + 1; day++) {
    for (const [s, e] of subtractIntervals(openIntervalsOnDay(calendar, day), exclusions)) {
      const cs = Math.max(s, fromMs);
      const ce = Math.min(e, toMs);
      if (ce > cs) out.push([cs, ce]);
    }
  }
  return out;
}

/**
 * The instant at which `minutes` business minutes have elapsed after `start`, skipping closed
 * time, holidays and `exclusions` (e.g. SLA pauses). Zero minutes returns `start` unchanged.
 */
export function addBusinessMinutes(
  start: Date,
  minutes: number,
  calendar: BusinessCalendar,
  exclusions: readonly TimeInterval[] = [],
): Date {
  if (!Number.isFinite(minutes) || minutes < 0) {
    throw new ValidationError('minutes must be a finite, non-negative number', [
      { field: 'minutes', message: 'must be ≥ 0' },
    ]);
  }
  let remaining = Math.round(minutes * minuteMs);
  if (remaining === 0) return new Date(start.getTime());
  const startMs = start.getTime();
  const firstDay = localDayOf(startMs, calendar) - 1;
  for (let day = firstDay; day <= firstDay + maxSearchDays; day++) {
    for (const [s, e] of subtractIntervals(openIntervalsOnDay(calendar, day), exclusions)) {
      const from = Math.max(s, startMs);
      if (e <= from) continue;
      const available = e - from;
      if (remaining <= available) return new Date(from + remaining);
      remaining -= available;
    }
  }
  throw new ValidationError('the business calendar has no open time within three years', [
    { field: 'calendar', message: 'no opening periods found' },
  ]);
}

/**
 * Business minutes between two instants (negative when `b` is before `a`), skipping closed time
 * and `exclusions`. Fractional minutes are kept so sums stay exact.
 */
export function businessMinutesBetween(
  a: Date,
  b: Date,
  calendar: BusinessCalendar,
  exclusions: readonly TimeInterval[] = [],
): number {
  const from = a.getTime();
  const to = b.getTime();
  if (to < from) return -businessMinutesBetween(b, a, calendar, exclusions);
  let total = 0;
  for (const [s, e] of businessIntervals(calendar, from, to, exclusions)) total += e - s;
  return total / minuteMs;
}
