import { describe, expect, it } from 'vitest';
import { ValidationError } from '../errors';
import { businessCalendarSchema } from './business-calendar';
import { addBusinessMinutes, businessMinutesBetween, subtractIntervals } from './business-time';

const allDay = [{ start: '00:00', end: '24:00' }];
const always = (timeZone: string) =>
  businessCalendarSchema.parse({
    timeZone,
    weekly: { sun: allDay, mon: allDay, tue: allDay, wed: allDay, thu: allDay, fri: allDay, sat: allDay },
  });

// New York clinic: split day with a lunch break.
const weekday = [
  { start: '09:00', end: '12:00' },
  { start: '13:00', end: '17:00' },
];
const newYork = businessCalendarSchema.parse({
  timeZone: 'America/New_York',
  weekly: { mon: weekday, tue: weekday, wed: weekday, thu: weekday, fri: weekday },
  holidays: ['2026-11-26'],
  exceptions: [{ date: '2026-11-27', periods: [{ start: '09:00', end: '12:00' }] }],
});

// Madrid office: jornada intensiva 08:00–15:00, plus a Thursday afternoon shift; national holiday 12 Oct.
const madridDay = [{ start: '08:00', end: '15:00' }];
const madrid = businessCalendarSchema.parse({
  timeZone: 'Europe/Madrid',
  weekly: {
    mon: madridDay,
    tue: madridDay,
    wed: madridDay,
    thu: [...madridDay, { start: '16:00', end: '19:00' }],
    fri: madridDay,
    sun: [{ start: '00:00', end: '04:00' }],
  },
  holidays: ['2026-10-12'],
});

const at = (s: string) => new Date(s);

describe('business minutes across DST', () => {
  it('counts 23 hours on the New York and Madrid spring-forward days', () => {
    expect(
      businessMinutesBetween(at('2026-03-08T05:00:00Z'), at('2026-03-09T04:00:00Z'), always('America/New_York')),
    ).toBe(23 * 60);
    expect(
      businessMinutesBetween(at('2026-03-28T23:00:00Z'), at('2026-03-29T22:00:00Z'), always('Europe/Madrid')),
    ).toBe(23 * 60);
  });

  it('counts 25 hours on the New York and Madrid fall-back days', () => {
    expect(
      businessMinutesBetween(at('2026-11-01T04:00:00Z'), at('2026-11-02T05:00:00Z'), always('America/New_York')),
    ).toBe(25 * 60);
    expect(
      businessMinutesBetween(at('2026-10-24T22:00:00Z'), at('2026-10-25T23:00:00Z'), always('Europe/Madrid')),
    ).toBe(25 * 60);
  });

  it('keeps local opening hours after spring-forward (New York, over the weekend)', () => {
    // Fri 6 Mar 16:00 EST + 120 min: 60 on Friday, 60 on Monday 9 Mar from 09:00 EDT (13:00Z).
    expect(addBusinessMinutes(at('2026-03-06T21:00:00Z'), 120, newYork).toISOString()).toBe('2026-03-09T14:00:00.000Z');
  });

  it('keeps local opening hours after fall-back (New York)', () => {
    // Fri 30 Oct 16:30 EDT + 60 min: 30 on Friday, 30 on Monday 2 Nov from 09:00 EST (14:00Z).
    expect(addBusinessMinutes(at('2026-10-30T20:30:00Z'), 60, newYork).toISOString()).toBe('2026-11-02T14:30:00.000Z');
  });

  it('keeps local opening hours after spring-forward and fall-back (Madrid)', () => {
    // Fri 27 Mar 14:00 CET + 120: 60 Friday, Sunday 29 Mar 00:00–04:00 holds only 3 real hours.
    expect(addBusinessMinutes(at('2026-03-27T13:00:00Z'), 120, madrid).toISOString()).toBe('2026-03-29T00:00:00.000Z');
    expect(businessMinutesBetween(at('2026-03-28T23:00:00Z'), at('2026-03-29T06:00:00Z'), madrid)).toBe(180);
    // Sunday 25 Oct 00:00–04:00 holds 5 real hours (02:00–03:00 happens twice).
    expect(businessMinutesBetween(at('2026-10-24T22:00:00Z'), at('2026-10-25T06:00:00Z'), madrid)).toBe(300);
  });
});

describe('business calendar periods and holidays', () => {
  it('skips the lunch break', () => {
    // Tue 10 Nov 11:30 EST + 60: 30 before lunch, resume 13:00 → 13:30 EST.
    expect(addBusinessMinutes(at('2026-11-10T16:30:00Z'), 60, newYork).toISOString()).toBe('2026-11-10T18:30:00.000Z');
  });

  it('starts counting at the next opening when created while closed', () => {
    // Tue 10 Nov 07:00 EST + 30 → 09:30 EST.
    expect(addBusinessMinutes(at('2026-11-10T12:00:00Z'), 30, newYork).toISOString()).toBe('2026-11-10T14:30:00.000Z');
  });

  it('skips a holiday and uses a half-day exception (Thanksgiving week)', () => {
    // Wed 25 Nov 16:00 EST + 240: 60 Wed, Thu holiday, Fri half day 09–12 (180) → Fri 12:00 EST.
    expect(addBusinessMinutes(at('2026-11-25T21:00:00Z'), 240, newYork).toISOString()).toBe('2026-11-27T17:00:00.000Z');
    // One more minute rolls to Monday 30 Nov 09:01 EST.
    expect(addBusinessMinutes(at('2026-11-25T21:00:00Z'), 241, newYork).toISOString()).toBe('2026-11-30T14:01:00.000Z');
  });

  it('skips a Madrid national holiday and uses the Thursday split shift', () => {
    // Fri 9 Oct 14:00 CEST + 360: 60 Friday, 240 on the Sunday night shift, Mon 12 Oct holiday,
    // Tue 08:00 + 60 → 09:00 CEST (07:00Z).
    expect(addBusinessMinutes(at('2026-10-09T12:00:00Z'), 360, madrid).toISOString()).toBe('2026-10-13T07:00:00.000Z');
    // Thu 15 Oct 14:30 + 60: 30 until 15:00, then 16:00–16:30 CEST.
    expect(addBusinessMinutes(at('2026-10-15T12:30:00Z'), 60, madrid).toISOString()).toBe('2026-10-15T14:30:00.000Z');
  });

  it('is the inverse of businessMinutesBetween for many starts and amounts', () => {
    for (let h = 0; h < 24 * 9; h += 7) {
      const start = new Date(Date.parse('2026-10-22T00:00:00Z') + h * 3_600_000);
      for (const minutes of [1, 59, 420, 1000]) {
        const due = addBusinessMinutes(start, minutes, madrid);
        expect(businessMinutesBetween(start, due, madrid)).toBeCloseTo(minutes, 6);
      }
    }
  });

  it('returns a negative count when the instants are reversed', () => {
    const a = at('2026-11-10T14:00:00Z');
    const b = at('2026-11-10T16:00:00Z');
    expect(businessMinutesBetween(b, a, newYork)).toBe(-120);
  });

  it('returns the start for zero minutes and rejects negative minutes', () => {
    const start = at('2026-11-14T12:00:00Z');
    expect(addBusinessMinutes(start, 0, newYork)).toEqual(start);
    expect(() => addBusinessMinutes(start, -1, newYork)).toThrow(ValidationError);
  });

  it('fails clearly on a calendar with no opening hours', () => {
    const closed = businessCalendarSchema.parse({ timeZone: 'UTC', weekly: {} });
    expect(() => addBusinessMinutes(at('2026-01-01T00:00:00Z'), 1, closed)).toThrow(/no open time/);
  });

  it('subtracts excluded intervals from open time', () => {
    expect(
      subtractIntervals(
        [
          [0, 10],
          [20, 30],
        ],
        [
          [5, 22],
          [25, 26],
        ],
      ),
    ).toEqual([
      [0, 5],
      [22, 25],
      [26, 30],
    ]);
  });
});

describe('business calendar schema', () => {
  it('rejects overlapping periods, reversed periods and unknown zones', () => {
    const result = businessCalendarSchema.safeParse({
      timeZone: 'America/Nowhere',
      weekly: {
        mon: [
          { start: '09:00', end: '12:00' },
          { start: '11:00', end: '13:00' },
        ],
        tue: [{ start: '17:00', end: '09:00' }],
      },
    });
    expect(result.success).toBe(false);
    const messages = result.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        'timeZone: unknown IANA time zone',
        'weekly.mon: opening periods overlap',
        'weekly.tue.0.end: start must be before end',
      ]),
    );
  });

  it('rejects malformed times and dates', () => {
    const result = businessCalendarSchema.safeParse({
      timeZone: 'UTC',
      weekly: { mon: [{ start: '9:00', end: '25:00' }] },
      holidays: ['12/25/2026'],
    });
    expect(result.error?.issues.map((i) => i.path.join('.'))).toEqual(
      expect.arrayContaining(['weekly.mon.0.start', 'weekly.mon.0.end', 'holidays.0']),
    );
  });
});
