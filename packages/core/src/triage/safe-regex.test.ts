import { describe, expect, it } from 'vitest';
import { compileTenantRegex, maxRegexLength, testWithBudget, validateTenantRegex } from './safe-regex';

describe('tenant regex validation (ReDoS guard)', () => {
  it('accepts an ordinary pattern', () => {
    expect(validateTenantRegex('\\bT-\\d{3,6}\\b')).toEqual({ ok: true });
  });

  it('rejects a pattern longer than the limit', () => {
    expect(validateTenantRegex('a'.repeat(maxRegexLength + 1)).problem).toBe('too-long');
  });

  it('rejects invalid syntax with the parser message', () => {
    const result = validateTenantRegex('(unclosed');
    expect(result.problem).toBe('invalid-syntax');
    expect(result.message).toMatch(/invalid regular expression/);
  });

  it('rejects backreferences', () => {
    expect(validateTenantRegex('(a)\\1').problem).toBe('backreference');
  });

  it.each(['(a+)+$', '(a*)*b', '(\\w+\\s?)*$', '((ab)*)+x', '(x+x+)+y'])('rejects nested quantifier %s', (p) => {
    expect(validateTenantRegex(p).problem).toBe('nested-quantifier');
  });

  it('allows an optional group containing a quantifier', () => {
    expect(validateTenantRegex('(ref(?:erral)?s*)?\\d+').ok).toBe(true);
  });

  it('rejects a slow pattern that escapes the static check, using the time budget', () => {
    // Overlapping alternation: exponential without any nested quantifier.
    expect(validateTenantRegex('^(a|a)*$').problem).toBe('too-slow');
  });

  it('stops a catastrophic regex at run time instead of blocking the event loop', () => {
    const started = Date.now();
    const verdict = testWithBudget(compileTenantRegex('^(a+)+$'), `${'a'.repeat(40)}!`, 20);
    expect(verdict).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('answers normally within the budget', () => {
    expect(testWithBudget(compileTenantRegex('denied|rejected'), 'Claim REJECTED')).toBe(true);
    expect(testWithBudget(compileTenantRegex('denied|rejected'), 'claim paid')).toBe(false);
  });
});
