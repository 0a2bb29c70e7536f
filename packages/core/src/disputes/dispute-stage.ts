// Claim dispute lifecycle (issue 5): stages, the moves allowed between them, and how a dispute ends.
import { ConflictError, ValidationError } from '../errors';

export const DISPUTE_STAGES = ['intake', 'investigating', 'payer-contacted', 'appeal-filed', 'decided'] as const;
export type DisputeStage = (typeof DISPUTE_STAGES)[number];

export const DISPUTE_OUTCOMES = ['overturned', 'partially-overturned', 'upheld', 'withdrawn'] as const;
export type DisputeOutcome = (typeof DISPUTE_OUTCOMES)[number];

/**
 * Allowed moves. Work can step back from payer contact or an appeal to investigating (the payer asks for
 * records); any open stage can end as decided (a withdrawal ends it early); a decided dispute can only be
 * taken further by filing the next-level appeal or external review.
 */
export const DISPUTE_TRANSITIONS: Readonly<Record<DisputeStage, readonly DisputeStage[]>> = {
  intake: ['investigating', 'decided'],
  investigating: ['payer-contacted', 'appeal-filed', 'decided'],
  'payer-contacted': ['investigating', 'appeal-filed', 'decided'],
  'appeal-filed': ['investigating', 'payer-contacted', 'decided'],
  decided: ['appeal-filed'],
};

export function isDisputeStage(value: string): value is DisputeStage {
  return (DISPUTE_STAGES as readonly string[]).includes(value);
}

export function isDisputeOutcome(value: string): value is DisputeOutcome {
  return (DISPUTE_OUTCOMES as readonly string[]).includes(value);
}

export function canMoveDispute(from: DisputeStage, to: DisputeStage): boolean {
  return DISPUTE_TRANSITIONS[from].includes(to);
}

export interface DisputeMove {
  from: DisputeStage;
  to: DisputeStage;
  /** Required when moving to `decided`; forbidden otherwise. */
  outcome?: DisputeOutcome;
}

/**
 * Checks one move. An illegal move is a ConflictError (`invalid-transition`, the dispute's state is the
 * problem); a missing or misplaced outcome is a ValidationError (the request is the problem).
 */
export function assertDisputeMove(move: DisputeMove): void {
  if (!canMoveDispute(move.from, move.to)) {
    throw new ConflictError(
      `a dispute cannot move from ${move.from} to ${move.to}`,
      { from: move.from, to: move.to, allowed: DISPUTE_TRANSITIONS[move.from] },
      'invalid-transition',
    );
  }
  if (move.to === 'decided' && !move.outcome) {
    throw new ValidationError('a decided dispute needs an outcome', [
      { field: 'outcome', message: `one of ${DISPUTE_OUTCOMES.join(', ')}` },
    ]);
  }
  if (move.to !== 'decided' && move.outcome) {
    throw new ValidationError('an outcome is only given when the dispute is decided', [
      { field: 'outcome', message: 'remove it or move to decided' },
    ]);
  }
}
