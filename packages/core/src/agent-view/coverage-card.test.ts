import type { Coverage, ExplanationOfBenefit, Organization } from 'fhir/r4';
import { describe, expect, it } from 'vitest';
import { loadHl7Examples, loadSyntheaBundles } from '../../../../test/fixtures/fhir-r4-fixtures';
import { coverageCardsFromEobs, toCoverageCard } from './coverage-card';

const example = <T>(file: string) => structuredClone(loadHl7Examples().find((f) => f.file === file)!.resource as T);
const classOf = (coverage: Coverage, code: string) => coverage.class!.find((c) => c.type.coding![0]!.code === code)!;

describe('coverage card', () => {
  it('maps Coverage-9876B1: payer name from the cached Organization, plan and group, member id, relationship, period', () => {
    const coverage = example<Coverage>('Coverage-9876B1.json');
    const org = example<Organization>('Organization-2.json');
    const card = toCoverageCard(coverage, {
      names: (key) => (key === `Organization/${org.id}` ? org.name : undefined),
      today: '2012-01-01',
    });
    expect(card.payer).toEqual({ name: org.name, reference: coverage.payor![0]!.reference });
    expect(card.plan).toEqual({ value: classOf(coverage, 'plan').value, name: classOf(coverage, 'plan').name });
    expect(card.group).toEqual({ value: classOf(coverage, 'group').value, name: classOf(coverage, 'group').name });
    expect(card.memberId).toBe(coverage.identifier![0]!.value);
    expect(card.relationship).toBe(coverage.relationship!.coding![0]!.code);
    expect(card.period).toEqual(coverage.period);
    expect(card.status).toBe(coverage.status);
    expect(card.current).toBe(true);
    expect(card.origin).toBe('resource');
  });

  it('is not current once the period has ended', () => {
    const coverage = example<Coverage>('Coverage-9876B1.json');
    expect(toCoverageCard(coverage, { today: '2020-01-01' }).current).toBe(false);
  });

  it('turns Synthea EOB-contained coverages into one card per distinct payer, counting the EOBs', () => {
    for (const { bundle } of loadSyntheaBundles()) {
      const eobs = bundle
        .entry!.map((e) => e.resource)
        .filter((r): r is ExplanationOfBenefit => r?.resourceType === 'ExplanationOfBenefit');
      const cards = coverageCardsFromEobs(eobs, { today: '2026-01-01' });
      const contained = eobs.flatMap((eob) =>
        (eob.contained ?? []).filter((r): r is Coverage => r.resourceType === 'Coverage'),
      );
      const distinct = new Set(contained.map((c) => `${c.type?.text}|${c.payor?.[0]?.display}`));
      expect(cards).toHaveLength(distinct.size);
      expect(cards.reduce((n, c) => n + c.seenOn!.eobCount, 0)).toBe(contained.length);
      for (const card of cards) {
        expect(card.origin).toBe('eob-contained');
        expect(card.id).toBeNull();
        expect(distinct.has(`${card.type}|${card.payer.name}`)).toBe(true);
      }
    }
  });
});
