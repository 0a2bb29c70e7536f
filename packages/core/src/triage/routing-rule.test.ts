import { describe, expect, it } from 'vitest';
import { ValidationError } from '../errors';
import { parseRoutingRules } from './routing-rule';

function errorsOf(json: unknown) {
  try {
    parseRoutingRules(json);
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return (err as ValidationError).errors;
  }
  throw new Error('expected a ValidationError');
}

describe('routing rule schema', () => {
  it('applies defaults: enabled and first-match (continue false)', () => {
    const [rule] = parseRoutingRules([{ id: 'r1', when: { channels: ['sms'] }, set: { queue: 'billing' } }]);
    expect(rule).toMatchObject({ enabled: true, continue: false });
  });

  it('names the path of an unknown category', () => {
    const errors = errorsOf([{ id: 'r1', when: {}, set: { category: 'parking' } }]);
    expect(errors).toEqual([expect.objectContaining({ field: 'rules.0.set.category' })]);
  });

  it('rejects a rule that sets nothing', () => {
    const errors = errorsOf([{ id: 'r1', when: {}, set: {} }]);
    expect(errors[0]?.field).toBe('rules.0.set');
    expect(errors[0]?.message).toMatch(/at least one field/);
  });

  it('reports duplicate ids with the index of the first use', () => {
    const rule = { id: 'dup', when: {}, set: { queue: 'a' } };
    const errors = errorsOf([rule, { ...rule }]);
    expect(errors).toEqual([{ field: 'rules.1.id', message: 'duplicate rule id (first used at index 0)' }]);
  });

  it('rejects a catastrophic regex on save with a reason', () => {
    const errors = errorsOf([{ id: 'r1', when: { text: { regex: '(a+)+$' } }, set: { queue: 'x' } }]);
    expect(errors[0]?.field).toBe('rules.0.when.text.regex');
    expect(errors[0]?.message).toMatch(/nested quantifiers/);
  });

  it('rejects unknown keys, so a typo does not silently widen a rule', () => {
    const errors = errorsOf([{ id: 'r1', when: { chanels: ['sms'] }, set: { queue: 'x' } }]);
    expect(errors[0]?.field).toBe('rules.0.when');
  });

  it('rejects an unknown channel and linked resource type', () => {
    const errors = errorsOf([
      { id: 'r1', when: { channels: ['fax'], linkedResourceTypes: ['Observation'] }, set: { queue: 'x' } },
    ]);
    expect(errors.map((e) => e.field).sort()).toEqual([
      'rules.0.when.channels.0',
      'rules.0.when.linkedResourceTypes.0',
    ]);
  });

  it('rejects empty keywords and queue names that are not slugs', () => {
    const errors = errorsOf([{ id: 'r1', when: { text: { any: ['  '] } }, set: { queue: 'Billing Queue' } }]);
    expect([...new Set(errors.map((e) => e.field))].sort()).toEqual(['rules.0.set.queue', 'rules.0.when.text.any.0']);
    expect(errors.map((e) => e.message)).toContain('keyword must not be empty');
  });

  it('never echoes rule text into error messages beyond the path (HIPAA-11)', () => {
    const errors = errorsOf([{ id: 'r1', when: { text: { regex: '(John Smith+)+' } }, set: { queue: 'x' } }]);
    expect(JSON.stringify(errors)).not.toContain('John');
  });
});

describe('routing rule keywords', () => {
  it('rejects a keyword with no letter or digit, which would match everything', () => {
    const errors = errorsOf([{ id: 'r1', when: { text: { any: ['*'] } }, set: { queue: 'x' } }]);
    expect(errors).toEqual([{ field: 'rules.0.when.text.any.0', message: 'keyword must contain a letter or digit' }]);
  });
});
