import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Bundle, ExplanationOfBenefit } from 'fhir/r4';
import { describe, expect, it } from 'vitest';
import { containedCoverages } from './contained';

const synthea = resolve(import.meta.dirname, '../../../../test/fixtures/fhir-r4/synthea');

describe('containedCoverages', () => {
  it('exposes the #coverage contained in every Synthea EOB as the focal coverage', () => {
    const file = readdirSync(synthea).find((f) => f.startsWith('Isabel_Runte'))!;
    const bundle = JSON.parse(readFileSync(resolve(synthea, file), 'utf8')) as Bundle;
    const eobs = (bundle.entry ?? [])
      .map((e) => e.resource)
      .filter((r): r is ExplanationOfBenefit => r?.resourceType === 'ExplanationOfBenefit');
    expect(eobs.length).toBeGreaterThan(0);
    for (const eob of eobs) {
      const coverages = containedCoverages(eob);
      expect(coverages).toHaveLength(1);
      expect(coverages[0]?.localId).toBe('coverage');
      expect(coverages[0]?.coverage.resourceType).toBe('Coverage');
    }
  });

  it('ignores contained resources not referenced from insurance and external coverage references', () => {
    const eob = {
      resourceType: 'ExplanationOfBenefit',
      id: 'e1',
      contained: [
        { resourceType: 'Coverage', id: 'unused', status: 'active' },
        { resourceType: 'Coverage', id: 'c2', status: 'active' },
      ],
      insurance: [
        { focal: false, coverage: { reference: 'Coverage/external' } },
        { focal: true, coverage: { reference: '#c2' } },
      ],
    } as unknown as ExplanationOfBenefit;
    expect(containedCoverages(eob).map((c) => [c.localId, c.focal])).toEqual([['c2', true]]);
  });
});
