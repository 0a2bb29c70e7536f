import { describe, expect, it } from 'vitest';
import { amountFor, type DisputableRow, draftFor, reasonFor } from './dispute-draft';

const usd = (value: string) => ({ value, minor: Math.round(Number(value) * 100), currency: 'USD' });
const base: DisputableRow = {
  key: 'Claim/c1',
  claim: { id: 'c1' },
  decision: 'denied',
  patientResponsibility: usd('20.00'),
  adjudications: [{ resourceType: 'ExplanationOfBenefit', id: 'e1' }],
};

describe('"dispute this claim" draft from a claims-table row', () => {
  it('maps the decision to a reason category', () => {
    expect(reasonFor('denied')).toBe('denied');
    expect(reasonFor('not-paid')).toBe('denied');
    expect(reasonFor('partially-paid')).toBe('underpaid');
    expect(reasonFor('paid')).toBe('patient-responsibility-question');
  });

  it('references the claim and its newest adjudication, and leaves the denial amount to the server for an agent row', () => {
    expect(draftFor(base)).toEqual({
      claim: 'Claim/c1',
      adjudication: 'ExplanationOfBenefit/e1',
      reasonCategory: 'denied',
      disputedAmount: '',
      currency: 'USD',
    });
  });

  it('uses billed − paid for a denial and allowed − patient share − paid for an underpayment on a billing row', () => {
    const billing = { ...base, billed: usd('135.57'), paid: usd('10.00'), allowed: usd('100.00') };
    expect(amountFor(billing, 'denied').value).toBe('125.57');
    expect(amountFor(billing, 'underpaid').value).toBe('70.00');
    expect(amountFor(billing, 'patient-responsibility-question').value).toBe('20.00');
  });

  it('keeps a claimless row on its adjudication only', () => {
    const orphan = {
      ...base,
      key: 'ClaimResponse/r1',
      claim: null,
      adjudications: [{ resourceType: 'ClaimResponse', id: 'r1' }],
    };
    expect(draftFor(orphan)).toMatchObject({ adjudication: 'ClaimResponse/r1' });
    expect(draftFor(orphan).claim).toBeUndefined();
  });
});
