import type { Patient } from 'fhir/r4';
import { describe, expect, it } from 'vitest';
import { loadHl7Examples, loadSyntheaBundles } from '../../../../test/fixtures/fhir-r4-fixtures';
import { INTERPRETER_REQUIRED_URL, toPatientBanner } from './patient-banner';

const pat1 = () => structuredClone(loadHl7Examples().find((f) => f.file === 'Patient-pat1.json')!.resource as Patient);
const syntheaPatients = () =>
  loadSyntheaBundles().map(
    ({ bundle }) => bundle.entry!.find((e) => e.resource?.resourceType === 'Patient')!.resource as Patient,
  );

describe('patient banner', () => {
  it('shows the MR-typed identifier as the MRN, with the name, birth date and gender as published', () => {
    const patient = pat1();
    const banner = toPatientBanner(patient);
    const mr = patient.identifier!.find((i) => i.type?.coding?.some((c) => c.code === 'MR'))!;
    expect(banner.mrn).toEqual({ value: mr.value, system: mr.system, typed: true });
    expect(banner.name).toBe([...(patient.name![0]!.given ?? []), patient.name![0]!.family].join(' '));
    expect(banner.gender).toBe(patient.gender);
    expect(banner.birthDate).toBe(patient.birthDate ?? null);
  });

  it('reads every Synthea patient: MRN typed MR, official name, language and no interpreter for English', () => {
    for (const patient of syntheaPatients()) {
      const banner = toPatientBanner(patient);
      const mr = patient.identifier!.find((i) => i.type?.coding?.some((c) => c.code === 'MR'))!;
      expect(banner.mrn?.value).toBe(mr.value);
      expect(banner.birthDate).toBe(patient.birthDate);
      const official = patient.name!.find((n) => n.use === 'official')!;
      expect(banner.name).toBe([...(official.given ?? []), official.family].join(' '));
      const language = patient.communication?.[0]?.language.coding?.[0];
      expect(banner.preferredLanguage?.code ?? null).toBe(language?.code ?? null);
      expect(banner.interpreterRequired).toBe(Boolean(language?.code && !language.code.startsWith('en')));
      expect(banner.telecom.map((t) => t.value)).toEqual((patient.telecom ?? []).map((t) => t.value));
    }
  });

  it('falls back to the first identifier when none is typed MR', () => {
    const patient = pat1();
    patient.identifier = [{ system: 'urn:example', value: 'A-1' }];
    expect(toPatientBanner(patient).mrn).toEqual({ value: 'A-1', system: 'urn:example', typed: false });
  });

  it('flags an interpreter for a non-English preferred language', () => {
    const patient = pat1();
    patient.communication = [
      { language: { coding: [{ system: 'urn:ietf:bcp:47', code: 'en-US' }] } },
      { language: { coding: [{ system: 'urn:ietf:bcp:47', code: 'es', display: 'Spanish' }] }, preferred: true },
    ];
    const banner = toPatientBanner(patient);
    expect(banner.preferredLanguage).toEqual({ code: 'es', display: 'Spanish' });
    expect(banner.interpreterRequired).toBe(true);
  });

  it('lets the interpreterRequired extension override the language rule either way', () => {
    const patient = pat1();
    patient.communication = [{ language: { coding: [{ code: 'fr' }] }, preferred: true }];
    patient.extension = [{ url: INTERPRETER_REQUIRED_URL, valueBoolean: false }];
    expect(toPatientBanner(patient).interpreterRequired).toBe(false);
    patient.communication = [{ language: { coding: [{ code: 'en' }] }, preferred: true }];
    patient.extension = [{ url: INTERPRETER_REQUIRED_URL, valueBoolean: true }];
    expect(toPatientBanner(patient).interpreterRequired).toBe(true);
  });
});
