import { describe, expect, it } from 'vitest';
import { ConflictError, ValidationError } from '../errors';
import { assertDisputeMove, canMoveDispute, DISPUTE_STAGES, DISPUTE_TRANSITIONS } from './dispute-stage';

describe('dispute stages (issue 5)', () => {
  it('moves forward from intake to a decision', () => {
    expect(() => assertDisputeMove({ from: 'intake', to: 'investigating' })).not.toThrow();
    expect(() => assertDisputeMove({ from: 'investigating', to: 'payer-contacted' })).not.toThrow();
    expect(() => assertDisputeMove({ from: 'payer-contacted', to: 'appeal-filed' })).not.toThrow();
    expect(() => assertDisputeMove({ from: 'appeal-filed', to: 'decided', outcome: 'overturned' })).not.toThrow();
  });

  it('rejects a jump from intake straight to an appeal as a conflict', () => {
    expect(() => assertDisputeMove({ from: 'intake', to: 'appeal-filed' })).toThrow(ConflictError);
    try {
      assertDisputeMove({ from: 'intake', to: 'appeal-filed' });
    } catch (e) {
      expect((e as ConflictError).code).toBe('invalid-transition');
    }
  });

  it('requires an outcome to decide and refuses one otherwise', () => {
    expect(() => assertDisputeMove({ from: 'investigating', to: 'decided' })).toThrow(ValidationError);
    expect(() => assertDisputeMove({ from: 'intake', to: 'investigating', outcome: 'upheld' })).toThrow(
      ValidationError,
    );
    expect(() => assertDisputeMove({ from: 'intake', to: 'decided', outcome: 'withdrawn' })).not.toThrow();
  });

  it('lets a decided dispute go only to the next-level appeal', () => {
    expect(DISPUTE_TRANSITIONS.decided).toEqual(['appeal-filed']);
    for (const to of DISPUTE_STAGES) expect(canMoveDispute('decided', to)).toBe(to === 'appeal-filed');
  });

  it('never allows staying in the same stage as a move', () => {
    for (const stage of DISPUTE_STAGES) expect(canMoveDispute(stage, stage)).toBe(false);
  });
});
