// The ticket status follows the dispute stage (issue 5): while the payer holds the ball the ticket is
// pending-payer (its SLA clock pauses), a decision resolves it. Mapping documented in docs/disputes.md.
import type { TicketStatus } from '../db/schema/enums';
import { ConflictError } from '../errors';
import { canTransition } from '../tickets/ticket-status';
import type { DisputeStage } from './dispute-stage';

/** The ticket status each stage asks for; `null` leaves the ticket as it is. */
export const TICKET_STATUS_FOR_STAGE: Readonly<Record<DisputeStage, TicketStatus | null>> = {
  intake: null,
  investigating: 'open',
  'payer-contacted': 'pending-payer',
  'appeal-filed': 'pending-payer',
  decided: 'resolved',
};

/**
 * The legal ticket transitions that bring a ticket in `current` to the status the new stage asks for,
 * in order (empty when nothing changes). Each step is allowed by the ticket lifecycle, so a caller that
 * applies them through TicketService never makes an illegal move:
 * - `new` first becomes `open` (a ticket cannot go straight from new to pending-payer or resolved);
 * - `resolved` is reopened first when an appeal reopens a decided dispute;
 * - an `escalated` ticket stays escalated until the dispute is decided: the escalation is someone
 *   else's open question and the billing stage must not silently clear it.
 * A closed ticket is final: any stage move on it is a ConflictError, never a silent skip.
 */
export function ticketStatusPath(current: TicketStatus, stage: DisputeStage): TicketStatus[] {
  if (current === 'closed') {
    throw new ConflictError(
      'The dispute ticket is closed; a closed ticket is final, so the dispute stage cannot change. Open a new dispute instead.',
      { ticketStatus: current, stage },
      'ticket-closed',
    );
  }
  const target = TICKET_STATUS_FOR_STAGE[stage];
  if (target === null || target === current) return [];
  if (current === 'escalated' && target !== 'resolved') return [];
  const path: TicketStatus[] = [];
  let at = current;
  if (!canTransition(at, target) && (at === 'new' || at === 'resolved') && canTransition(at, 'open')) {
    at = 'open';
    path.push(at);
  }
  if (at !== target) {
    // Unreachable with today's lifecycle; kept so a future lifecycle change fails loudly, not silently.
    if (!canTransition(at, target)) {
      throw new ConflictError(
        `The dispute ticket cannot move from ${current} to ${target}`,
        { ticketStatus: current, stage },
        'transition-not-allowed',
      );
    }
    path.push(target);
  }
  return path;
}
