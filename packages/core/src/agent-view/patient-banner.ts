// Patient → banner for the agent view (DESIGN §4; SAL-53: name, DOB, MRN; language and interpreter need).
import type { Extension, Identifier, Patient } from 'fhir/r4';

export const INTERPRETER_REQUIRED_URL = 'http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired';
const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';

export interface PatientBanner {
  id: string;
  name: string | null;
  birthDate: string | null;
  gender: string | null;
  deceased: boolean;
  /** Identifier typed MR (v2-0203), else the first identifier with a value. */
  mrn: { value: string; system: string | null; typed: boolean } | null;
  preferredLanguage: { code: string | null; display: string | null } | null;
  interpreterRequired: boolean;
  telecom: { system: string | null; value: string; use: string | null }[];
}

function displayName(patient: Patient): string | null {
  const names = patient.name ?? [];
  const chosen =
    names.find((n) => n.use === 'usual') ??
    names.find((n) => n.use === 'official') ??
    names.find((n) => n.use !== 'old' && n.use !== 'maiden') ??
    names[0];
  if (!chosen) return null;
  if (chosen.text?.trim()) return chosen.text.trim();
  const parts = [...(chosen.given ?? []), chosen.family ?? ''].map((p) => p.trim()).filter(Boolean);
  return parts.length > 0 ? parts.join(' ') : null;
}

function isMrn(identifier: Identifier): boolean {
  return (identifier.type?.coding ?? []).some((c) => c.code === 'MR' && (!c.system || c.system === V2_0203));
}

function mrnOf(patient: Patient): PatientBanner['mrn'] {
  const withValue = (patient.identifier ?? []).filter((i) => typeof i.value === 'string' && i.value.length > 0);
  const typed = withValue.find(isMrn);
  const chosen = typed ?? withValue[0];
  if (!chosen?.value) return null;
  return { value: chosen.value, system: chosen.system ?? null, typed: Boolean(typed) };
}

function preferredLanguage(patient: Patient): PatientBanner['preferredLanguage'] {
  const communication = patient.communication ?? [];
  // R4 Patient.communication.preferred; without a preferred entry the first listed language is the best guess.
  const chosen = communication.find((c) => c.preferred === true) ?? communication[0];
  if (!chosen) return null;
  const coding = chosen.language.coding?.find((c) => c.code) ?? chosen.language.coding?.[0];
  const code = coding?.code ?? null;
  const display = coding?.display ?? chosen.language.text ?? null;
  if (!code && !display) return null;
  return { code, display };
}

function interpreterExtension(extensions: readonly Extension[] | undefined): boolean | undefined {
  const hit = (extensions ?? []).find((e) => e.url === INTERPRETER_REQUIRED_URL);
  return typeof hit?.valueBoolean === 'boolean' ? hit.valueBoolean : undefined;
}

/** An explicit interpreterRequired extension wins; otherwise a non-English preferred language implies one. */
function needsInterpreter(patient: Patient, language: PatientBanner['preferredLanguage']): boolean {
  const explicit = interpreterExtension(patient.extension);
  if (explicit !== undefined) return explicit;
  const code = language?.code?.toLowerCase();
  if (code) return !(code === 'en' || code.startsWith('en-'));
  return false;
}

export function toPatientBanner(patient: Patient): PatientBanner {
  const language = preferredLanguage(patient);
  return {
    id: patient.id ?? '',
    name: displayName(patient),
    birthDate: patient.birthDate ?? null,
    gender: patient.gender ?? null,
    deceased: patient.deceasedBoolean === true || typeof patient.deceasedDateTime === 'string',
    mrn: mrnOf(patient),
    preferredLanguage: language,
    interpreterRequired: needsInterpreter(patient, language),
    telecom: (patient.telecom ?? [])
      .filter((t): t is typeof t & { value: string } => typeof t.value === 'string' && t.value.length > 0)
      .map((t) => ({ system: t.system ?? null, value: t.value, use: t.use ?? null })),
  };
}
