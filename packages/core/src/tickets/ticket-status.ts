// Ticket lifecycle: new → open → pending-patient / pending-payer / escalated → resolved → closed,
// with reopen from resolved (issue #2).
import type { TicketStatus } from '../db/schema/enums';

const transitions: Record<TicketStatus, readonly TicketStatus[]> = {
  new: ['open', 'escalated'],
  open: ['pending-patient', 'pending-payer', 'escalated', 'resolved'],
  'pending-patient': ['open', 'pending-payer', 'escalated', 'resolved'],
  'pending-payer': ['open', 'pending-patient', 'escalated', 'resolved'],
  escalated: ['open', 'pending-patient', 'pending-payer', 'resolved'],
  resolved: ['closed', 'open'],
  closed: [],
};

export function allowedTransitions(from: TicketStatus): readonly TicketStatus[] {
  return transitions[from];
}

export function canTransition(from: TicketStatus, to: TicketStatus): boolean {
  return transitions[from].includes(to);
}

/** Statuses in which the SLA clock is paused: the ball is in someone else's court. */
export const pausedStatuses: readonly TicketStatus[] = ['pending-patient', 'pending-payer'];
