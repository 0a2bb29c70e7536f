// Pure helpers of the dispute service: CSV cells, amounts in minor units, dedupe keys, schema mirror.
import { describe, expect, it } from 'vitest';
import { disputeReasonCategoryList } from '../db/schema/disputes';
import { DEFAULT_DISPUTE_RULES, disputeRulesOf } from './auto-open';
import { DISPUTE_REASON_CATEGORIES } from './dispute-reason';
import { csvCell, csvRow, disputeKey, minorToMoney, parseAmountMinor } from './dispute-service';

describe('dispute CSV cells', () => {
  it('quotes commas, quotes and line breaks as RFC 4180 asks', () => {
    expect(csvRow(['a,b', 'say "hi"', 'two\nlines', null, 12])).toBe('"a,b","say ""hi""","two\nlines",,12');
  });

  it('neutralises cells a spreadsheet would run as a formula', () => {
    for (const start of ['=', '+', '-', '@', '\t']) expect(csvCell(`${start}SUM(A1)`)).toMatch(/^"?'/);
    expect(csvCell('=1+1')).toBe("'=1+1");
    expect(csvCell('plain')).toBe('plain');
  });
});

describe('dispute amounts (VIEW-03)', () => {
  it('parses decimal strings to minor units without float drift', () => {
    expect(parseAmountMinor('0.10', 'USD', 'x') + parseAmountMinor('0.20', 'USD', 'x')).toBe(30);
    expect(parseAmountMinor('1234567.89', 'USD', 'x')).toBe(123456789);
    expect(parseAmountMinor('500', 'JPY', 'x')).toBe(500);
  });

  it('rejects more fraction digits than the currency has, negatives and exponents', () => {
    for (const bad of ['1.005', '-1', '1e3', '', '12.']) expect(() => parseAmountMinor(bad, 'USD', 'amount')).toThrow();
    expect(() => parseAmountMinor('1.5', 'JPY', 'amount')).toThrow();
  });

  it('renders minor units back as Money with the currency digits', () => {
    expect(minorToMoney(13557, 'USD')).toEqual({ value: '135.57', minor: 13557, currency: 'USD' });
    expect(minorToMoney(null, 'USD')).toBeNull();
  });
});

describe('one ticket per claim and reason', () => {
  it('keys on the claim first, then the adjudication, then the payer claim number (FIN-11)', () => {
    expect(disputeKey({ claimRef: 'Claim/1', adjudicationRef: 'ExplanationOfBenefit/9' }, 'denied')).toBe(
      'Claim/1#denied',
    );
    expect(disputeKey({ adjudicationRef: 'ClaimResponse/9' }, 'underpaid')).toBe('ClaimResponse/9#underpaid');
    expect(disputeKey({ payerClaimNumber: 'A1' }, 'duplicate')).toBe('payer-claim:A1#duplicate');
    expect(() => disputeKey({}, 'denied')).toThrow(/claim/);
  });

  it('keeps the schema check list equal to the domain reason categories', () => {
    expect([...disputeReasonCategoryList]).toEqual([...DISPUTE_REASON_CATEGORIES]);
  });
});

describe('tenant dispute rules', () => {
  it('falls back to defaults for missing or malformed settings', () => {
    expect(disputeRulesOf({})).toEqual(DEFAULT_DISPUTE_RULES);
    expect(disputeRulesOf({ disputeRules: { enabled: 'yes', minimumAmount: '-5', priority: 'panic' } })).toEqual(
      DEFAULT_DISPUTE_RULES,
    );
    expect(disputeRulesOf({ disputeRules: { enabled: false, minimumAmount: 25, queue: 'denials' } })).toMatchObject({
      enabled: false,
      minimumAmount: '25',
      queue: 'denials',
    });
  });
});
