import { describe, expect, it } from 'vitest';
import type { TicketStatus } from '../db/schema/enums';
import { ConflictError } from '../errors';
import { canTransition } from '../tickets/ticket-status';
import { DISPUTE_STAGES } from './dispute-stage';
import { ticketStatusPath } from './dispute-ticket-status';

const STATUSES: TicketStatus[] = ['new', 'open', 'pending-patient', 'pending-payer', 'escalated', 'resolved'];

describe('ticket status following the dispute stage', () => {
  it('opens a new ticket before making it pending-payer, and resolves on a decision', () => {
    expect(ticketStatusPath('new', 'payer-contacted')).toEqual(['open', 'pending-payer']);
    expect(ticketStatusPath('open', 'appeal-filed')).toEqual(['pending-payer']);
    expect(ticketStatusPath('pending-payer', 'investigating')).toEqual(['open']);
    expect(ticketStatusPath('pending-payer', 'decided')).toEqual(['resolved']);
    expect(ticketStatusPath('new', 'decided')).toEqual(['open', 'resolved']);
  });

  it('reopens a resolved ticket when a decided dispute is appealed again', () => {
    expect(ticketStatusPath('resolved', 'appeal-filed')).toEqual(['open', 'pending-payer']);
  });

  it('leaves the ticket alone at intake, when already there, and keeps an escalation until the decision', () => {
    expect(ticketStatusPath('new', 'intake')).toEqual([]);
    expect(ticketStatusPath('pending-payer', 'appeal-filed')).toEqual([]);
    expect(ticketStatusPath('escalated', 'payer-contacted')).toEqual([]);
    expect(ticketStatusPath('escalated', 'decided')).toEqual(['resolved']);
  });

  it('refuses any stage move on a closed ticket instead of skipping it', () => {
    expect(() => ticketStatusPath('closed', 'investigating')).toThrow(ConflictError);
  });

  it('only ever produces transitions the ticket lifecycle allows', () => {
    for (const from of STATUSES) {
      for (const stage of DISPUTE_STAGES) {
        let at = from;
        for (const step of ticketStatusPath(from, stage)) {
          expect(canTransition(at, step), `${from} → ${stage}: ${at} → ${step}`).toBe(true);
          at = step;
        }
      }
    }
  });
});
