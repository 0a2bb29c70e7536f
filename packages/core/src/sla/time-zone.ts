// Wall-clock ↔ instant conversion for IANA zones with nothing but Intl (Node 20 ships full ICU), so
// core needs no date library. Instants are UTC milliseconds (ONC-03: store and compute in UTC).

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** True when the runtime knows this IANA zone name. */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

export interface LocalDateTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** The wall-clock reading in `timeZone` at an instant. */
export function toLocal(instantMs: number, timeZone: string): LocalDateTime {
  const out: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(instantMs))) {
    if (part.type !== 'literal') out[part.type] = Number(part.value);
  }
  return {
    year: out.year ?? 0,
    month: out.month ?? 0,
    day: out.day ?? 0,
    hour: (out.hour ?? 0) % 24,
    minute: out.minute ?? 0,
    second: out.second ?? 0,
  };
}

/** UTC offset (wall − UTC) in ms at an instant. */
export function offsetAt(instantMs: number, timeZone: string): number {
  const base = Math.floor(instantMs / 1000) * 1000;
  const l = toLocal(base, timeZone);
  return Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second) - base;
}

const dayMs = 86_400_000;

/**
 * The instant at which the wall clock in `timeZone` reads `minuteOfDay` (0..1440) on the given
 * local date. Like Temporal's `disambiguation: 'compatible'`: a time skipped by spring-forward
 * moves later by the gap (02:30 → 03:30), a time repeated by fall-back takes the earlier instant.
 */
export function localToInstant(
  year: number,
  month: number,
  day: number,
  minuteOfDay: number,
  timeZone: string,
): number {
  const wall = Date.UTC(year, month - 1, day) + minuteOfDay * 60_000;
  const before = offsetAt(wall - dayMs, timeZone);
  const after = offsetAt(wall + dayMs, timeZone);
  const candidates = [wall - before, wall - after].filter((t) => offsetAt(t, timeZone) === wall - t);
  if (candidates.length > 0) return Math.min(...candidates);
  return wall - before;
}

/** Days since 1970-01-01 for a calendar date (proleptic Gregorian, zone-free). */
export function epochDay(year: number, month: number, day: number): number {
  return Math.floor(Date.UTC(year, month - 1, day) / dayMs);
}

export interface CalendarDate {
  year: number;
  month: number;
  day: number;
  /** 0 = Sunday … 6 = Saturday. */
  weekday: number;
  /** `YYYY-MM-DD`. */
  iso: string;
}

export function fromEpochDay(n: number): CalendarDate {
  const d = new Date(n * dayMs);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    weekday: d.getUTCDay(),
    iso: d.toISOString().slice(0, 10),
  };
}
