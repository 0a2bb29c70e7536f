// Claim + its ExplanationOfBenefit / ClaimResponse → one row of the agent view (VIEW-01..04).
// EOBs and ClaimResponses without a cached Claim (payer sources publish EOBs only) get rows of their own.
import type { Claim, ClaimResponse, ExplanationOfBenefit, Period, Reference } from 'fhir/r4';
import type { CodeTables } from '../fhir/adjudication/code-tables';
import { type Money, toMicro, toMoney } from '../fhir/adjudication/money';
import {
  type ClaimAdjudication,
  type ClaimDecision,
  type ClaimReason,
  summarizeAdjudicated,
} from './adjudication-summary';
import { conceptText, type NameLookup } from './coverage-card';
import { keyOfReference, keyString } from './local-reference';

export interface CacheFreshness {
  lastUpdated: string | null;
  fetchedAt: string;
}

export interface ResourceRef {
  reference: string | null;
  name: string | null;
}

export interface ClaimRow {
  /** `Claim/<id>` or, for an orphan adjudication, its own `Type/id`. */
  key: string;
  claim: {
    id: string;
    status: string | null;
    use: string | null;
    created: string | null;
    freshness: CacheFreshness | null;
  } | null;
  type: string | null;
  servicePeriod: { start: string | null; end: string | null } | null;
  created: string | null;
  provider: ResourceRef;
  insurer: ResourceRef;
  /** Headline figures from the newest adjudication (EOB preferred over ClaimResponse), else the Claim. */
  decision: ClaimDecision | 'not-adjudicated';
  outcome: string | null;
  billed: Money | null;
  allowed: Money | null;
  paid: Money | null;
  patientResponsibility: Money | null;
  contractualAdjustment: Money | null;
  reasons: ClaimReason[];
  adjudications: (ClaimAdjudication & { freshness: CacheFreshness | null })[];
}

export type CacheFreshnessLookup = (key: string) => CacheFreshness | undefined;

export interface ClaimRowInput {
  claims: readonly Claim[];
  eobs: readonly ExplanationOfBenefit[];
  claimResponses: readonly ClaimResponse[];
  names?: NameLookup;
  freshness?: CacheFreshnessLookup;
  tables?: CodeTables;
}

function refOf(ref: Reference | undefined, names: NameLookup): ResourceRef {
  if (!ref) return { reference: null, name: null };
  const key = keyOfReference(ref);
  const reference = key ? keyString(key) : null;
  return { reference, name: ref.display ?? (reference ? names(reference) : undefined) ?? null };
}

function periodOf(period: Period | undefined): ClaimRow['servicePeriod'] {
  return period ? { start: period.start ?? null, end: period.end ?? null } : null;
}

function claimTotal(claim: Claim): Money | null {
  if (typeof claim.total?.value === 'number') return toMoney(toMicro(claim.total.value), claim.total.currency ?? 'USD');
  return null;
}

/** Newest first; an EOB beats a ClaimResponse of the same date because it carries the patient's view. */
function byRecency(a: ClaimAdjudication, b: ClaimAdjudication): number {
  return (
    (b.created ?? '').localeCompare(a.created ?? '') ||
    Number(b.resourceType === 'ExplanationOfBenefit') - Number(a.resourceType === 'ExplanationOfBenefit') ||
    a.id.localeCompare(b.id)
  );
}

interface Group {
  claim?: Claim;
  eobs: ExplanationOfBenefit[];
  claimResponses: ClaimResponse[];
}

export function toClaimRows(input: ClaimRowInput): ClaimRow[] {
  const names = input.names ?? (() => undefined);
  const freshness = input.freshness ?? (() => undefined);
  const groups = new Map<string, Group>();
  const group = (key: string) => {
    let g = groups.get(key);
    if (!g) {
      g = { eobs: [], claimResponses: [] };
      groups.set(key, g);
    }
    return g;
  };
  for (const claim of input.claims) group(`Claim/${claim.id}`).claim = claim;
  const crGroup = new Map<string, string>();
  for (const eob of input.eobs) {
    const claimKey = keyOfReference(eob.claim, 'Claim');
    const key = claimKey ? keyString(claimKey) : `ExplanationOfBenefit/${eob.id}`;
    group(key).eobs.push(eob);
    const crKey = keyOfReference(eob.claimResponse, 'ClaimResponse');
    if (crKey) crGroup.set(crKey.id, key);
  }
  for (const cr of input.claimResponses) {
    const claimKey = keyOfReference(cr.request, 'Claim');
    const key = (claimKey ? keyString(claimKey) : undefined) ?? crGroup.get(cr.id ?? '') ?? `ClaimResponse/${cr.id}`;
    group(key).claimResponses.push(cr);
  }

  const rows: ClaimRow[] = [];
  for (const [key, g] of groups) {
    const adjudications = [
      ...g.eobs.map((r) => ({
        ...summarizeAdjudicated(r, g.claim, input.tables),
        freshness: freshness(`ExplanationOfBenefit/${r.id}`) ?? null,
      })),
      ...g.claimResponses.map((r) => ({
        ...summarizeAdjudicated(r, g.claim, input.tables),
        freshness: freshness(`ClaimResponse/${r.id}`) ?? null,
      })),
    ].sort(byRecency);
    const head = adjudications[0];
    const eob = g.eobs[0];
    const claim = g.claim;
    rows.push({
      key,
      claim: claim
        ? {
            id: claim.id ?? '',
            status: claim.status ?? null,
            use: claim.use ?? null,
            created: claim.created ?? null,
            freshness: freshness(`Claim/${claim.id}`) ?? null,
          }
        : null,
      type: conceptText(claim?.type ?? eob?.type ?? g.claimResponses[0]?.type),
      servicePeriod: periodOf(claim?.billablePeriod ?? eob?.billablePeriod),
      created: claim?.created ?? head?.created ?? null,
      provider: refOf(claim?.provider ?? eob?.provider ?? g.claimResponses[0]?.requestor, names),
      insurer: refOf(eob?.insurer ?? claim?.insurer ?? g.claimResponses[0]?.insurer, names),
      decision: head?.decision ?? 'not-adjudicated',
      outcome: head?.outcome ?? null,
      billed: head?.billed ?? (claim ? claimTotal(claim) : null),
      allowed: head?.allowed ?? null,
      paid: head?.paid ?? null,
      patientResponsibility: head?.patientResponsibility ?? null,
      contractualAdjustment: head?.contractualAdjustment ?? null,
      reasons: head?.reasons ?? [],
      adjudications,
    });
  }
  // Newest service first, the order an agent scans a history in.
  return rows.sort((a, b) =>
    (b.servicePeriod?.start ?? b.created ?? '').localeCompare(a.servicePeriod?.start ?? a.created ?? ''),
  );
}
