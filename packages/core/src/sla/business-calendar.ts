// A tenant's business calendar: weekly opening periods (several per day for split shifts and
// lunch breaks), holidays and one-off day overrides, in the tenant's IANA time zone.
import { z } from 'zod';
import { epochDay, fromEpochDay, isValidTimeZone, localToInstant, toLocal } from './time-zone';

const hhmm = z.string().regex(/^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'use HH:mm (00:00–24:00)');

export const openingPeriodSchema = z
  .strictObject({ start: hhmm, end: hhmm })
  .refine((p) => minutesOf(p.start) < minutesOf(p.end), { message: 'start must be before end', path: ['end'] });
export type OpeningPeriod = z.output<typeof openingPeriodSchema>;

const periodsOfDay = z
  .array(openingPeriodSchema)
  .max(12)
  .superRefine((periods, ctx) => {
    const sorted = [...periods].sort((a, b) => minutesOf(a.start) - minutesOf(b.start));
    for (let i = 1; i < sorted.length; i++) {
      if (minutesOf(sorted[i]!.start) < minutesOf(sorted[i - 1]!.end)) {
        ctx.addIssue({ code: 'custom', message: 'opening periods overlap' });
        return;
      }
    }
  });

export const weekdays = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof weekdays)[number];

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'use YYYY-MM-DD');

export const businessCalendarSchema = z.strictObject({
  timeZone: z.string().refine(isValidTimeZone, { message: 'unknown IANA time zone' }),
  weekly: z.strictObject(
    Object.fromEntries(weekdays.map((d) => [d, periodsOfDay.optional()])) as Record<
      Weekday,
      z.ZodOptional<typeof periodsOfDay>
    >,
  ),
  /** Local dates on which the desk is closed all day. */
  holidays: z.array(isoDate).default([]),
  /** Local dates with their own hours (half days, special openings); wins over `weekly`. */
  exceptions: z.array(z.strictObject({ date: isoDate, periods: periodsOfDay })).default([]),
});
export type BusinessCalendar = z.output<typeof businessCalendarSchema>;

export function minutesOf(hhmmValue: string): number {
  const [h, m] = hhmmValue.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

/** A half-open interval [start, end) of UTC milliseconds. */
export type TimeInterval = readonly [number, number];

// Intl offset lookups dominate the cost; SLA sweeps ask for the same days again and again.
// Calendars are treated as immutable values, so the cache is keyed by object identity.
const dayCache = new WeakMap<BusinessCalendar, Map<number, readonly TimeInterval[]>>();
const maxCachedDays = 4_000;

/** Opening periods of one local date (epoch day number) as UTC intervals, sorted. */
export function openIntervalsOnDay(calendar: BusinessCalendar, day: number): readonly TimeInterval[] {
  let days = dayCache.get(calendar);
  if (!days) {
    days = new Map();
    dayCache.set(calendar, days);
  }
  const cached = days.get(day);
  if (cached) return cached;
  if (days.size >= maxCachedDays) days.clear();
  const computed = computeDay(calendar, day);
  days.set(day, computed);
  return computed;
}

function computeDay(calendar: BusinessCalendar, day: number): readonly TimeInterval[] {
  const date = fromEpochDay(day);
  if (calendar.holidays.includes(date.iso)) return [];
  const exception = calendar.exceptions.find((e) => e.date === date.iso);
  const periods = exception ? exception.periods : (calendar.weekly[weekdays[date.weekday]!] ?? []);
  const out: TimeInterval[] = [];
  for (const p of periods) {
    const start = localToInstant(date.year, date.month, date.day, minutesOf(p.start), calendar.timeZone);
    const end = localToInstant(date.year, date.month, date.day, minutesOf(p.end), calendar.timeZone);
    // A period entirely inside a spring-forward gap has no real time in it.
    if (end > start) out.push([start, end]);
  }
  return out.sort((a, b) => a[0] - b[0]);
}

/** Local calendar day (epoch day number) containing an instant in the calendar's zone. */
export function localDayOf(instantMs: number, calendar: BusinessCalendar): number {
  const l = toLocal(instantMs, calendar.timeZone);
  return epochDay(l.year, l.month, l.day);
}
