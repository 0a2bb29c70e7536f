import { describe, expect, it } from 'vitest';
import { ticketStatuses } from '../db/schema/enums';
import { allowedTransitions, canTransition } from './ticket-status';

describe('ticket status transitions', () => {
  it('follows new → open → pending/escalated → resolved → closed', () => {
    expect(canTransition('new', 'open')).toBe(true);
    expect(canTransition('open', 'pending-patient')).toBe(true);
    expect(canTransition('open', 'pending-payer')).toBe(true);
    expect(canTransition('open', 'escalated')).toBe(true);
    expect(canTransition('pending-payer', 'resolved')).toBe(true);
    expect(canTransition('resolved', 'closed')).toBe(true);
  });

  it('reopens from resolved but never from closed', () => {
    expect(canTransition('resolved', 'open')).toBe(true);
    expect(allowedTransitions('closed')).toEqual([]);
    for (const to of ticketStatuses) expect(canTransition('closed', to)).toBe(false);
  });

  it('rejects skipping triage: new cannot be resolved or closed directly', () => {
    expect(canTransition('new', 'resolved')).toBe(false);
    expect(canTransition('new', 'closed')).toBe(false);
    expect(canTransition('open', 'closed')).toBe(false);
  });

  it('never allows a transition to the same status', () => {
    for (const s of ticketStatuses) expect(canTransition(s, s)).toBe(false);
  });

  it('only names statuses that exist', () => {
    for (const s of ticketStatuses) for (const to of allowedTransitions(s)) expect(ticketStatuses).toContain(to);
  });
});
