// What the seeded sandbox should hold, computed from the fixture files themselves (never hard-coded),
// so tests stay true if the fixtures change.
import type { Resource } from 'fhir/r4';
import { loadHl7Examples, loadSyntheaBundles } from '../fixtures/fhir-r4-fixtures';

export interface FixtureExpectations {
  /** Distinct `Type/id` per type over all fixture files (shared Organizations counted once). */
  distinctCounts: Record<string, number>;
  /** How many times each `Type/id` occurs across files (an upsert per occurrence). */
  occurrences: Map<string, number>;
  syntheaPatientIds: string[];
  /** Distinct resources per type in the Synthea bundles only. */
  syntheaCounts: Record<string, number>;
  /** Synthea ExplanationOfBenefit ids per Synthea patient id. */
  syntheaEobsByPatient: Map<string, string[]>;
}

export function fixtureExpectations(): FixtureExpectations {
  const occurrences = new Map<string, number>();
  const syntheaKeys = new Set<string>();
  const syntheaPatientIds: string[] = [];
  const syntheaEobsByPatient = new Map<string, string[]>();
  const count = (resource: Resource): string => {
    const key = `${resource.resourceType}/${resource.id}`;
    occurrences.set(key, (occurrences.get(key) ?? 0) + 1);
    return key;
  };
  for (const { bundle } of loadSyntheaBundles()) {
    let patientId = '';
    const eobs: string[] = [];
    for (const entry of bundle.entry ?? []) {
      const resource = entry.resource as Resource;
      syntheaKeys.add(count(resource));
      if (resource.resourceType === 'Patient') patientId = resource.id as string;
      if (resource.resourceType === 'ExplanationOfBenefit') eobs.push(resource.id as string);
    }
    syntheaPatientIds.push(patientId);
    syntheaEobsByPatient.set(patientId, eobs);
  }
  for (const { resource } of loadHl7Examples()) count(resource);
  return {
    distinctCounts: countByType(occurrences.keys()),
    occurrences,
    syntheaPatientIds,
    syntheaCounts: countByType(syntheaKeys),
    syntheaEobsByPatient,
  };
}

function countByType(keys: Iterable<string>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const key of keys) {
    const type = key.slice(0, key.indexOf('/'));
    counts[type] = (counts[type] ?? 0) + 1;
  }
  return counts;
}
