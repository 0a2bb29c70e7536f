// SLA due times for a ticket: targets from the policy, counted in business time, with the clock
// paused while the ticket waits on the patient or the payer (pausedStatuses, issue #2).
import type { TicketCategory, TicketPriority, TicketStatus } from '../db/schema/enums';
import { pausedStatuses } from '../tickets/ticket-status';
import type { BusinessCalendar, TimeInterval } from './business-calendar';
import { addBusinessMinutes, businessMinutesBetween } from './business-time';
import { type SlaPolicy, type SlaTarget, targetFor } from './sla-policy';

export interface SlaTicket {
  createdAt: Date;
  category: TicketCategory;
  priority: TicketPriority;
}

export interface StatusChange {
  status: TicketStatus;
  at: Date;
}

/** Intervals spent in a paused status, from a status history in any order. Open-ended if still paused. */
export function pausedIntervals(history: readonly StatusChange[]): TimeInterval[] {
  const sorted = [...history].sort((a, b) => a.at.getTime() - b.at.getTime());
  const out: TimeInterval[] = [];
  let pausedSince: number | undefined;
  for (const change of sorted) {
    const paused = pausedStatuses.includes(change.status);
    if (paused && pausedSince === undefined) pausedSince = change.at.getTime();
    else if (!paused && pausedSince !== undefined) {
      out.push([pausedSince, change.at.getTime()]);
      pausedSince = undefined;
    }
  }
  if (pausedSince !== undefined) out.push([pausedSince, Number.POSITIVE_INFINITY]);
  return out;
}

export interface SlaDueTimes {
  target: SlaTarget;
  /** null while the clock is paused: the due time depends on when the ticket resumes. */
  firstResponseDueAt: Date | null;
  resolutionDueAt: Date | null;
  paused: boolean;
  /** Business minutes the clock has been stopped so far (up to `now` for an open pause). */
  pausedBusinessMinutes: number;
}

/**
 * Due times for a ticket. Pauses apply to both clocks: a ticket waiting on the patient before
 * anyone answered it (e.g. created as pending-patient by an outbound call) is not late either.
 */
export function computeDueTimes(
  ticket: SlaTicket,
  policy: SlaPolicy,
  calendar: BusinessCalendar,
  history: readonly StatusChange[] = [],
  now: Date = new Date(),
): SlaDueTimes {
  const target = targetFor(policy, ticket.category, ticket.priority);
  const pauses = pausedIntervals(history);
  const openPause = pauses.find(([, end]) => end === Number.POSITIVE_INFINITY);
  const closedPauses = pauses.filter(([, end]) => end !== Number.POSITIVE_INFINITY);

  let pausedBusinessMinutes = 0;
  for (const [s, e] of pauses) {
    const end = Math.min(e, now.getTime());
    if (end > s) pausedBusinessMinutes += businessMinutesBetween(new Date(s), new Date(end), calendar);
  }

  if (openPause) {
    return { target, firstResponseDueAt: null, resolutionDueAt: null, paused: true, pausedBusinessMinutes };
  }
  return {
    target,
    firstResponseDueAt: addBusinessMinutes(ticket.createdAt, target.firstResponseMinutes, calendar, closedPauses),
    resolutionDueAt: addBusinessMinutes(ticket.createdAt, target.resolutionMinutes, calendar, closedPauses),
    paused: false,
    pausedBusinessMinutes,
  };
}

export type SlaState = 'ok' | 'at-risk' | 'breached';

/**
 * Where a due time stands at `now`: breached at or after it, at risk within `atRiskMinutes`
 * wall-clock minutes before it, ok otherwise (and while paused, when there is no due time).
 */
export function slaState(dueAt: Date | null, now: Date, atRiskMinutes: number): SlaState {
  if (!dueAt) return 'ok';
  const left = dueAt.getTime() - now.getTime();
  if (left <= 0) return 'breached';
  if (left <= atRiskMinutes * 60_000) return 'at-risk';
  return 'ok';
}
