import { describe, expect, it } from 'vitest';
import { contentHash } from './content-hash';
import { resourceShapeProblem } from './resource-shape';

describe('resourceShapeProblem', () => {
  it('accepts a minimal resource of the expected type', () => {
    expect(
      resourceShapeProblem({ resourceType: 'Coverage', id: 'c1', beneficiary: { reference: 'Patient/1' } }, 'Coverage'),
    ).toBeUndefined();
  });

  it('names what is wrong: missing resourceType, missing id, wrong type, wrong element shape', () => {
    expect(resourceShapeProblem({ id: 'x' })).toBe('missing or invalid resourceType');
    expect(resourceShapeProblem({ resourceType: 'Claim' })).toBe('missing or invalid id');
    expect(resourceShapeProblem({ resourceType: 'Claim', id: 'a' }, 'Coverage')).toBe('expected Coverage, got Claim');
    expect(resourceShapeProblem({ resourceType: 'Claim', id: 'a', item: {} })).toBe('item must be an array');
    expect(resourceShapeProblem({ resourceType: 'Claim', id: 'a', meta: { lastUpdated: 'yesterday' } })).toBe(
      'meta.lastUpdated is not a FHIR instant',
    );
    expect(resourceShapeProblem('text')).toBe('not a JSON object');
  });
});

describe('contentHash', () => {
  it('is the same for the same JSON in another key order and differs when a value changes', () => {
    const a = { resourceType: 'Claim', id: '1', total: { value: 508.14400000000006, currency: 'USD' } };
    const b = { total: { currency: 'USD', value: 508.14400000000006 }, id: '1', resourceType: 'Claim' };
    expect(contentHash(a)).toBe(contentHash(b));
    expect(contentHash({ ...a, total: { value: 508.144, currency: 'USD' } })).not.toBe(contentHash(a));
  });
});
