// Which Patient a cached resource belongs to, derived from the JSON as published (DESIGN §1: patient index).
import type { Account, Claim, ClaimResponse, Coverage, ExplanationOfBenefit, Reference } from 'fhir/r4';

/** The id of a `Patient/…` reference (relative, absolute or versioned); undefined for anything else. */
export function patientIdOfReference(ref: Reference | undefined): string | undefined {
  const raw = ref?.reference;
  if (typeof raw !== 'string') return undefined;
  if (raw.startsWith('#') || raw.startsWith('urn:')) return undefined;
  const path = raw.split('?')[0] ?? '';
  const parts = path.split('/');
  const historyAt = parts.lastIndexOf('_history');
  const end = historyAt > 0 ? historyAt : parts.length;
  const type = parts[end - 2];
  const id = parts[end - 1];
  if (type !== 'Patient' || !id) return undefined;
  return id;
}

interface AnyResource {
  resourceType?: unknown;
  id?: unknown;
}

/**
 * Patient.id for a Patient; Coverage.beneficiary, Claim/ClaimResponse/ExplanationOfBenefit.patient, and the
 * first Patient among Account.subject. Other types (Organization, Practitioner) belong to no patient.
 */
export function patientOf(resource: AnyResource): string | undefined {
  switch (resource.resourceType) {
    case 'Patient':
      return typeof resource.id === 'string' ? resource.id : undefined;
    case 'Coverage':
      return patientIdOfReference((resource as Coverage).beneficiary);
    case 'Claim':
      return patientIdOfReference((resource as Claim).patient);
    case 'ClaimResponse':
      return patientIdOfReference((resource as ClaimResponse).patient);
    case 'ExplanationOfBenefit':
      return patientIdOfReference((resource as ExplanationOfBenefit).patient);
    case 'Account':
      for (const subject of (resource as Account).subject ?? []) {
        const id = patientIdOfReference(subject);
        if (id) return id;
      }
      return undefined;
    default:
      return undefined;
  }
}
