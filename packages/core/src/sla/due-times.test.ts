import { describe, expect, it } from 'vitest';
import { businessCalendarSchema } from './business-calendar';
import { computeDueTimes, pausedIntervals, slaState } from './due-times';
import { slaPolicySchema } from './sla-policy';

const day = [
  { start: '09:00', end: '12:00' },
  { start: '13:00', end: '17:00' },
];
const calendar = businessCalendarSchema.parse({
  timeZone: 'America/New_York',
  weekly: { mon: day, tue: day, wed: day, thu: day, fri: day },
});
const policy = slaPolicySchema.parse({
  targets: [
    { firstResponseMinutes: 60, resolutionMinutes: 480 },
    { priority: 'urgent', firstResponseMinutes: 15, resolutionMinutes: 120 },
  ],
});
const at = (s: string) => new Date(s);
// Monday 9 Nov 2026 09:00 EST = 14:00Z.
const ticket = { createdAt: at('2026-11-09T14:00:00Z'), category: 'billing' as const, priority: 'normal' as const };

describe('SLA due times', () => {
  it('counts targets in business time from creation', () => {
    const due = computeDueTimes(ticket, policy, calendar, [], at('2026-11-09T15:00:00Z'));
    expect(due.firstResponseDueAt?.toISOString()).toBe('2026-11-09T15:00:00.000Z');
    // 480 = 180 + 240 on Monday, then Tue 09:00 + 60 → Tue 10:00 EST.
    expect(due.resolutionDueAt?.toISOString()).toBe('2026-11-10T15:00:00.000Z');
    expect(due).toMatchObject({ paused: false, pausedBusinessMinutes: 0 });
  });

  it('uses the target for the ticket priority', () => {
    const due = computeDueTimes({ ...ticket, priority: 'urgent' }, policy, calendar);
    expect(due.target.firstResponseMinutes).toBe(15);
    expect(due.firstResponseDueAt?.toISOString()).toBe('2026-11-09T14:15:00.000Z');
  });

  it('pushes the due time by the business time spent pending on the patient', () => {
    const history = [
      { status: 'open' as const, at: at('2026-11-09T14:00:00Z') },
      { status: 'pending-patient' as const, at: at('2026-11-09T15:00:00Z') }, // Mon 10:00
      { status: 'open' as const, at: at('2026-11-10T15:00:00Z') }, // Tue 10:00
    ];
    const due = computeDueTimes(ticket, policy, calendar, history, at('2026-11-10T16:00:00Z'));
    // 60 on Monday before the pause, 420 from Tue 10:00: 120 + 240 Tuesday, Wed 09:00 + 60.
    expect(due.resolutionDueAt?.toISOString()).toBe('2026-11-11T15:00:00.000Z');
    expect(due.pausedBusinessMinutes).toBe(420);
  });

  it('treats pending-patient then pending-payer as one continuous pause', () => {
    expect(
      pausedIntervals([
        { status: 'open', at: at('2026-11-09T14:00:00Z') },
        { status: 'pending-payer', at: at('2026-11-09T16:00:00Z') },
        { status: 'pending-patient', at: at('2026-11-09T15:00:00Z') },
        { status: 'open', at: at('2026-11-09T18:00:00Z') },
      ]),
    ).toEqual([[Date.parse('2026-11-09T15:00:00Z'), Date.parse('2026-11-09T18:00:00Z')]]);
  });

  it('has no due time while paused, and reports the paused business minutes so far', () => {
    const history = [{ status: 'pending-payer' as const, at: at('2026-11-09T15:00:00Z') }];
    const due = computeDueTimes(ticket, policy, calendar, history, at('2026-11-09T18:00:00Z'));
    expect(due).toMatchObject({ paused: true, firstResponseDueAt: null, resolutionDueAt: null });
    // 10:00–13:00 with lunch 12–13 → 120 business minutes.
    expect(due.pausedBusinessMinutes).toBe(120);
  });
});

describe('SLA state', () => {
  const due = at('2026-11-09T15:00:00Z');
  it('is ok well before the due time', () => {
    expect(slaState(due, at('2026-11-09T13:00:00Z'), 60)).toBe('ok');
  });
  it('is at risk within the threshold', () => {
    expect(slaState(due, at('2026-11-09T14:00:00Z'), 60)).toBe('at-risk');
    expect(slaState(due, at('2026-11-09T14:59:59Z'), 60)).toBe('at-risk');
  });
  it('is breached at and after the due time', () => {
    expect(slaState(due, due, 60)).toBe('breached');
    expect(slaState(due, at('2026-11-10T00:00:00Z'), 60)).toBe('breached');
  });
  it('is ok while paused (no due time)', () => {
    expect(slaState(null, at('2026-11-10T00:00:00Z'), 60)).toBe('ok');
  });
});
