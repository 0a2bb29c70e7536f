import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Account, Coverage, ExplanationOfBenefit } from 'fhir/r4';
import { describe, expect, it } from 'vitest';
import { patientIdOfReference, patientOf } from './patient-of';

const examples = resolve(import.meta.dirname, '../../../../test/fixtures/fhir-r4/hl7-r4-examples');
const load = <T>(name: string): T => JSON.parse(readFileSync(resolve(examples, name), 'utf8')) as T;

describe('patientOf', () => {
  it('uses the id of a Patient itself', () => {
    expect(patientOf(load('Patient-example.json'))).toBe('example');
  });

  it('reads Coverage.beneficiary', () => {
    const coverage = load<Coverage>('Coverage-9876B1.json');
    expect(patientOf(coverage)).toBe(patientIdOfReference(coverage.beneficiary));
    expect(patientOf(coverage)).toBeTruthy();
  });

  it('reads Claim.patient, ClaimResponse.patient and ExplanationOfBenefit.patient', () => {
    expect(patientOf(load('Claim-100150.json'))).toBe('1');
    expect(patientOf(load('ClaimResponse-R3500.json'))).toBe('1');
    const eob = load<ExplanationOfBenefit>('ExplanationOfBenefit-EB3500.json');
    expect(patientOf(eob)).toBe('pat1');
  });

  it('takes the first Patient among Account.subject and skips other subject types', () => {
    const account: Account = {
      resourceType: 'Account',
      id: 'a1',
      status: 'active',
      subject: [{ reference: 'Device/d1' }, { reference: 'Patient/p9' }],
    };
    expect(patientOf(account)).toBe('p9');
  });

  it('accepts absolute and versioned Patient references but not contained, urn or other types', () => {
    expect(patientIdOfReference({ reference: 'https://ehr.example/fhir/Patient/42' })).toBe('42');
    expect(patientIdOfReference({ reference: 'Patient/42/_history/3' })).toBe('42');
    expect(patientIdOfReference({ reference: '#p' })).toBeUndefined();
    expect(patientIdOfReference({ reference: 'urn:uuid:1234' })).toBeUndefined();
    expect(patientIdOfReference({ reference: 'Group/1' })).toBeUndefined();
    expect(patientIdOfReference({ display: 'someone' })).toBeUndefined();
  });

  it('gives no patient for Organization and Practitioner', () => {
    expect(patientOf(load('Organization-1.json'))).toBeUndefined();
    expect(patientOf(load('Practitioner-example.json'))).toBeUndefined();
  });
});
