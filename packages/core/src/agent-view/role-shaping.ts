// Minimum necessary per role (HIPAA-07): billing sees full adjudication; agents, supervisors and admins see
// the banner, coverage summary, claim status, what the patient owes and why — never allowed amounts or
// contractual/payment adjustments. Built by allow-listing fields, so a new field is hidden until chosen.
import type { Role } from '../db/schema/enums';
import type { Money } from '../fhir/adjudication/money';
import type { ClaimDecision, ClaimReasonKind } from './adjudication-summary';
import type { CacheFreshness, ClaimRow, ResourceRef } from './claim-row';
import type { PatientContext } from './patient-context';

export type ContextView = 'billing' | 'agent';

export interface AgentReason {
  kind: Exclude<ClaimReasonKind, 'payment-adjustment'>;
  code: string | null;
  text: string | null;
}

export interface AgentClaimRow {
  key: string;
  claim: { id: string; status: string | null; created: string | null; freshness: CacheFreshness | null } | null;
  type: string | null;
  servicePeriod: ClaimRow['servicePeriod'];
  created: string | null;
  provider: ResourceRef;
  insurer: ResourceRef;
  decision: ClaimDecision | 'not-adjudicated';
  outcome: string | null;
  patientResponsibility: Money | null;
  reasons: AgentReason[];
  adjudications: {
    resourceType: 'ExplanationOfBenefit' | 'ClaimResponse';
    id: string;
    created: string | null;
    outcome: string | null;
    decision: ClaimDecision;
    freshness: CacheFreshness | null;
  }[];
}

export type PatientContextForRole =
  | (PatientContext & { view: 'billing' })
  | (Omit<PatientContext, 'claims'> & {
      view: 'agent';
      claims: { items: AgentClaimRow[]; fetchedAt: PatientContext['claims']['fetchedAt'] };
    });

export function contextViewFor(roles: readonly Role[]): ContextView {
  return roles.includes('billing') ? 'billing' : 'agent';
}

function agentReasons(row: ClaimRow): AgentReason[] {
  const out: AgentReason[] = [];
  for (const r of row.reasons) {
    // Payment adjustments (offsets, prior overpayments) are provider accounting, not the patient's bill.
    if (r.kind === 'payment-adjustment') continue;
    out.push({ kind: r.kind, code: r.code, text: r.plain ?? r.display ?? r.code });
  }
  return out;
}

export function toAgentClaimRow(row: ClaimRow): AgentClaimRow {
  return {
    key: row.key,
    claim: row.claim
      ? { id: row.claim.id, status: row.claim.status, created: row.claim.created, freshness: row.claim.freshness }
      : null,
    type: row.type,
    servicePeriod: row.servicePeriod,
    created: row.created,
    provider: row.provider,
    insurer: row.insurer,
    decision: row.decision,
    outcome: row.outcome,
    patientResponsibility: row.patientResponsibility,
    reasons: agentReasons(row),
    adjudications: row.adjudications.map((a) => ({
      resourceType: a.resourceType,
      id: a.id,
      created: a.created,
      outcome: a.outcome,
      decision: a.decision,
      freshness: a.freshness,
    })),
  };
}

export function shapeForRoles(context: PatientContext, roles: readonly Role[]): PatientContextForRole {
  if (contextViewFor(roles) === 'billing') return { view: 'billing', ...context };
  return {
    view: 'agent',
    ...context,
    claims: { items: context.claims.items.map(toAgentClaimRow), fetchedAt: context.claims.fetchedAt },
  };
}
