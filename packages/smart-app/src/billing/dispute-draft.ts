// "Dispute this claim" from a row of the patient's claims table: what the new dispute is prefilled with.
import type { DisputeReasonCategory } from '@fhirdesk/core';

interface MoneyLike {
  value: string;
  minor: number;
  currency: string;
}

/** The parts of a claims-table row the draft reads; billing rows also carry billed/paid/allowed. */
export interface DisputableRow {
  key: string;
  claim: { id: string } | null;
  decision: string;
  patientResponsibility: MoneyLike | null;
  billed?: MoneyLike | null;
  paid?: MoneyLike | null;
  allowed?: MoneyLike | null;
  adjudications: { resourceType: string; id: string }[];
}

export interface DisputeDraft {
  claim?: string;
  adjudication?: string;
  reasonCategory: DisputeReasonCategory;
  /** Decimal string in major units, or '' to let the server derive it from the cached adjudication. */
  disputedAmount: string;
  currency: string;
}

export function reasonFor(decision: string): DisputeReasonCategory {
  if (decision === 'denied' || decision === 'not-paid') return 'denied';
  if (decision === 'partially-paid') return 'underpaid';
  return 'patient-responsibility-question';
}

function fromMinor(minor: number, like: MoneyLike): string {
  const digits = like.value.split('.')[1]?.length ?? 0;
  const m = Math.max(0, minor);
  if (digits === 0) return String(m);
  const s = String(m).padStart(digits + 1, '0');
  return `${s.slice(0, -digits)}.${s.slice(-digits)}`;
}

/**
 * The dispute model's `disputedAmount` is what is at stake for the reason, the same figure auto-open stores:
 * for a denial the amount the payer withheld (billed − paid), for an underpayment allowed − patient share −
 * paid, for a patient-responsibility question the patient's share. An agent's row has no billed/paid/allowed
 * (HIPAA-07), so for a denial it stays empty and the server derives it from the cached EOB/ClaimResponse.
 */
export function amountFor(row: DisputableRow, reason: DisputeReasonCategory): { value: string; currency: string } {
  const pr = row.patientResponsibility;
  const currency = row.billed?.currency ?? pr?.currency ?? 'USD';
  if (reason === 'patient-responsibility-question') return { value: pr?.value ?? '', currency };
  if (reason === 'underpaid' && row.allowed && row.paid) {
    return { value: fromMinor(row.allowed.minor - (pr?.minor ?? 0) - row.paid.minor, row.allowed), currency };
  }
  if (row.billed) return { value: fromMinor(row.billed.minor - (row.paid?.minor ?? 0), row.billed), currency };
  return { value: '', currency };
}

export function draftFor(row: DisputableRow): DisputeDraft {
  const reasonCategory = reasonFor(row.decision);
  // The newest adjudication comes first in the row (EOB preferred), the one the denial is read from.
  const adj = row.adjudications[0];
  const amount = amountFor(row, reasonCategory);
  return {
    ...(row.claim ? { claim: `Claim/${row.claim.id}` } : {}),
    ...(adj ? { adjudication: `${adj.resourceType}/${adj.id}` } : {}),
    reasonCategory,
    disputedAmount: amount.value,
    currency: amount.currency,
  };
}
