import { describe, expect, it } from 'vitest';
import { ValidationError } from '../errors';
import { parseReference } from './reference';

const allowedTypes = ['Patient', 'Coverage', 'Claim', 'ClaimResponse', 'ExplanationOfBenefit', 'Account'] as const;
const sources = [
  { id: 'src-epic', baseUrl: 'https://ehr.example.org/api/FHIR/R4/' },
  { id: 'src-payer', baseUrl: 'https://payer.example.com/fhir' },
];

function reject(raw: string): string {
  try {
    parseReference(raw, { allowedTypes, sources });
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).errors[0]!.message;
  }
  throw new Error(`expected ${raw} to be rejected`);
}

describe('parseReference', () => {
  it('parses a relative reference', () => {
    expect(parseReference('Claim/100150', { allowedTypes })).toEqual({
      type: 'Claim',
      id: '100150',
      sourceId: undefined,
      versionId: undefined,
    });
  });

  it('keeps the version of a versioned reference', () => {
    expect(parseReference('Coverage/9876B1/_history/3', { allowedTypes }).versionId).toBe('3');
  });

  it('resolves an absolute URL against the source base URL it belongs to', () => {
    expect(
      parseReference('https://ehr.example.org/api/FHIR/R4/Patient/eXYZ.123', { allowedTypes, sources }),
    ).toMatchObject({
      type: 'Patient',
      id: 'eXYZ.123',
      sourceId: 'src-epic',
    });
    expect(
      parseReference('https://payer.example.com/fhir/ExplanationOfBenefit/EB3500', { allowedTypes, sources }).sourceId,
    ).toBe('src-payer');
  });

  it('rejects an absolute URL that belongs to no configured source', () => {
    expect(reject('https://evil.example.net/fhir/Patient/1')).toMatch(/does not belong to any configured source/);
    // A prefix that is not a path boundary is not the same base.
    expect(reject('https://payer.example.com/fhirx/Patient/1')).toMatch(/does not belong/);
  });

  it('rejects types that cannot be linked, naming the allowed ones', () => {
    expect(reject('Observation/1')).toMatch(/Observation cannot be linked; allowed: Patient, Coverage/);
    expect(reject('patient/1')).toMatch(/not a FHIR resource type name/);
  });

  it('rejects ids outside the FHIR id grammar', () => {
    expect(reject('Patient/a_b')).toMatch(/FHIR id grammar/);
    expect(reject(`Patient/${'x'.repeat(65)}`)).toMatch(/FHIR id grammar/);
    expect(reject("Patient/1'; drop table ticket;--")).toMatch(/FHIR id grammar|form Type\/id/);
  });

  it('rejects contained, urn and malformed references', () => {
    expect(reject('#coverage')).toMatch(/contained/);
    expect(reject('urn:uuid:fc712d1f-5a2e-4407-9c55-a2a2bad623c2')).toMatch(/urn:/);
    expect(reject('Patient')).toMatch(/form Type\/id/);
    expect(reject('Patient/1/2')).toMatch(/form Type\/id/);
    expect(reject('')).toMatch(/non-empty/);
  });
});
