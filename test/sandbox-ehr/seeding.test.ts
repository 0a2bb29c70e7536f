import type { ExplanationOfBenefit, Group, Reference } from 'fhir/r4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureExpectations } from './fixture-expectations';
import { type SandboxEhr, SYNTHEA_GROUP_ID, startSandboxEhr } from './index';

const expected = fixtureExpectations();
let ehr: SandboxEhr;

beforeAll(async () => {
  ehr = await startSandboxEhr();
});
afterAll(() => ehr.close());

describe('sandbox EHR seeding from test/fixtures/fhir-r4', () => {
  it('holds one resource per distinct type and id in the fixture files, plus the Synthea Group', async () => {
    expect(await ehr.counts()).toEqual({ ...expected.distinctCounts, Group: 1 });
  });

  it('upserts Organizations and Practitioners shared by several Synthea bundles instead of failing', async () => {
    const shared = [...expected.occurrences].filter(([, times]) => times > 1);
    expect(shared.length).toBeGreaterThan(0);
    for (const [key, times] of shared) {
      const [type, id] = key.split('/') as [string, string];
      const stored = await ehr.readResource(type, id);
      expect(stored.meta?.versionId).toBe(String(times));
    }
  });

  it('keeps the Synthea uuids as server ids and resolves every urn:uuid reference to Type/id', async () => {
    for (const id of expected.syntheaPatientIds) {
      expect((await ehr.readResource('Patient', id)).id).toBe(id);
    }
    for (const type of Object.keys(expected.distinctCounts)) {
      const resources = await ehr.searchAll(type);
      expect(JSON.stringify(resources)).not.toContain('urn:uuid:');
    }
  });

  it('makes every Synthea ExplanationOfBenefit.patient and .claim readable from the server', async () => {
    for (const [patientId, eobIds] of expected.syntheaEobsByPatient) {
      for (const eobId of eobIds) {
        const eob = (await ehr.readResource('ExplanationOfBenefit', eobId)) as ExplanationOfBenefit;
        expect(eob.patient.reference).toBe(`Patient/${patientId}`);
        const claim = (eob.claim as Reference).reference?.split('/') as [string, string];
        expect((await ehr.readResource(claim[0], claim[1])).resourceType).toBe('Claim');
      }
    }
  });

  it('keeps the relative references of the HL7 examples as published', async () => {
    const eob = (await ehr.readResource('ExplanationOfBenefit', 'EB3500')) as ExplanationOfBenefit;
    expect(eob.patient.reference).toBe('Patient/pat1');
  });

  it('gives every stored resource a server meta.versionId and meta.lastUpdated', async () => {
    for (const type of Object.keys(await ehr.counts())) {
      for (const resource of await ehr.searchAll(type)) {
        expect(resource.meta?.versionId).toMatch(/^\d+$/);
        expect(Number.isNaN(Date.parse(resource.meta?.lastUpdated ?? ''))).toBe(false);
      }
    }
  });

  it('seeds a Group whose members are exactly the Synthea patients', async () => {
    const group = (await ehr.readResource('Group', SYNTHEA_GROUP_ID)) as Group;
    const members = (group.member ?? []).map((m) => m.entity.reference).sort();
    expect(members).toEqual(expected.syntheaPatientIds.map((id) => `Patient/${id}`).sort());
  });

  it('starts empty when seeding is turned off', async () => {
    const empty = await startSandboxEhr({ seed: false });
    try {
      expect(await empty.counts()).toEqual({});
    } finally {
      await empty.close();
    }
  });
});
