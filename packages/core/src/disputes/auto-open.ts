// Auto-open claim disputes from synced or imported adjudications (issue 5): one ticket per claim and reason,
// whatever the number of re-syncs, retries or concurrent workers; a later paid adjudication is flagged.

import { eq } from 'drizzle-orm';
import type { Claim, ClaimResponse, ExplanationOfBenefit } from 'fhir/r4';
import { recordAudit } from '../audit/record';
import type { Actor, Clock } from '../context/actor';
import { systemClock } from '../context/actor';
import type { Database, Tx } from '../db/database';
import { dispute } from '../db/schema/disputes';
import type { TicketPriority } from '../db/schema/enums';
import { tenant } from '../db/schema/tenants';
import { ticket } from '../db/schema/tickets';
import { moneyToMicro, toMicro, toMoney } from '../fhir/adjudication/money';
import { type ClaimFinancialSummary, summarizeAdjudication } from '../fhir/adjudication/summary';
import { classifiedAmountMinor, classifyDenial, type DisputeReasonCategory } from './dispute-reason';
import {
  appendEvent,
  DisputeService,
  loadCached,
  lockDisputeKey,
  minorToMoney,
  openDisputesFor,
  relativeRef,
} from './dispute-service';

/** Per-tenant rules, stored in `tenant.settings.disputeRules`; anything missing takes the default. */
export interface DisputeRules {
  enabled: boolean;
  /** Smallest disputed amount (decimal, major units) that opens a ticket. */
  minimumAmount: string;
  queue: string;
  priority: TicketPriority;
  /** Opens a `patient-responsibility-question` when what the patient owes exceeds this; off when null. */
  patientResponsibilityAbove: string | null;
}

export const DEFAULT_DISPUTE_RULES: DisputeRules = {
  enabled: true,
  minimumAmount: '0',
  queue: 'billing',
  priority: 'normal',
  patientResponsibilityAbove: null,
};

const DECIMAL = /^\d{1,13}(\.\d{1,6})?$/;

export function disputeRulesOf(settings: Record<string, unknown> | undefined): DisputeRules {
  const raw = (settings?.disputeRules ?? {}) as Partial<Record<keyof DisputeRules, unknown>>;
  const decimal = (v: unknown) =>
    typeof v === 'string' && DECIMAL.test(v) ? v : typeof v === 'number' && v >= 0 ? String(v) : undefined;
  const priorities: TicketPriority[] = ['low', 'normal', 'high', 'urgent'];
  return {
    enabled: typeof raw.enabled === 'boolean' ? raw.enabled : DEFAULT_DISPUTE_RULES.enabled,
    minimumAmount: decimal(raw.minimumAmount) ?? DEFAULT_DISPUTE_RULES.minimumAmount,
    queue: typeof raw.queue === 'string' && raw.queue.length > 0 ? raw.queue : DEFAULT_DISPUTE_RULES.queue,
    priority: priorities.includes(raw.priority as TicketPriority)
      ? (raw.priority as TicketPriority)
      : DEFAULT_DISPUTE_RULES.priority,
    patientResponsibilityAbove: decimal(raw.patientResponsibilityAbove) ?? null,
  };
}

export interface AdjudicationChanges {
  tenantId: string;
  sourceId: string;
  /** Resources just written to the cache; anything but ExplanationOfBenefit and ClaimResponse is ignored. */
  resources: ReadonlyArray<{ resourceType?: unknown; id?: unknown }>;
  clock?: Clock;
}

export interface AutoOpenResult {
  /** Ticket ids opened by this call. */
  opened: string[];
  /** Dedupe keys that already had a ticket (re-sync, retry, another worker). */
  existing: string[];
  /** Ticket ids that got a `reversal-detected` event. */
  reversals: string[];
  /** Adjudications below the threshold, paid as adjudicated, or with rules off. */
  skipped: number;
}

/** The automatic actor: audited as `system`, never as a person (AUD-07 style). */
export function disputeSystemActor(tenantId: string): Actor {
  return { tenantId, userId: null, kind: 'system', roles: [], label: 'dispute-auto-open' };
}

function isDatabase(target: Database | Tx): target is Database {
  return typeof (target as Database).query === 'function' && 'kind' in target && 'db' in target;
}

type Adjudication = ExplanationOfBenefit | ClaimResponse;

interface Candidate {
  reason: DisputeReasonCategory;
  amountMinor: number;
  carcs: string[];
  rarcs: string[];
  signals: string[];
}

/** What an adjudication disputes: the classified denial, and optionally the patient's share. */
function candidates(summary: ClaimFinancialSummary, rules: DisputeRules): Candidate[] {
  const out: Candidate[] = [];
  const cls = classifyDenial(summary);
  const { patientResponsibility } = summary.amounts;
  if (cls) {
    out.push({
      reason: cls.category,
      amountMinor: classifiedAmountMinor(summary, cls),
      carcs: cls.carcs,
      rarcs: cls.rarcs,
      signals: cls.signals,
    });
  }
  if (rules.patientResponsibilityAbove !== null && patientResponsibility) {
    if (moneyToMicro(patientResponsibility) > toMicro(rules.patientResponsibilityAbove)) {
      out.push({
        reason: 'patient-responsibility-question',
        amountMinor: patientResponsibility.minor,
        carcs: [],
        rarcs: [],
        signals: [],
      });
    }
  }
  return out;
}

/** Paid as adjudicated: complete outcome, no denial, nothing the plan still owes. */
function isPaid(summary: ClaimFinancialSummary): boolean {
  return (
    !summary.denied &&
    summary.outcome !== 'error' &&
    summary.outcome !== 'queued' &&
    classifyDenial(summary) === undefined
  );
}

async function processOne(
  tx: Tx,
  service: DisputeService,
  actor: Actor,
  sourceId: string,
  resource: Adjudication,
  rules: DisputeRules,
  now: Date,
  result: AutoOpenResult,
): Promise<void> {
  const adjudicationRef = `${resource.resourceType}/${resource.id}`;
  const claimRef =
    resource.resourceType === 'ClaimResponse'
      ? relativeRef(resource.request, ['Claim'])
      : relativeRef(resource.claim, ['Claim']);
  const claim = claimRef
    ? await loadCached<Claim>(tx, actor.tenantId, 'Claim', claimRef.split('/')[1]!, sourceId)
    : undefined;
  const summary = summarizeAdjudication(resource, claim?.resource);

  if (isPaid(summary)) {
    // A denial later paid on reprocessing: flag every open dispute on this claim once, and propose resolution.
    const open = await openDisputesFor(tx, actor.tenantId, { claimRef, adjudicationRef });
    for (const d of open.filter((x) => x.reasonCategory !== 'patient-responsibility-question')) {
      await lockDisputeKey(tx, actor.tenantId, d.dedupeKey);
      const updated = await tx
        .update(dispute)
        .set({ reversalDetectedAt: now, updatedAt: now, version: d.version + 1 })
        .where(eq(dispute.ticketId, d.ticketId))
        .returning({ ticketId: dispute.ticketId });
      if (updated.length === 0) continue;
      const [t] = await tx.select({ patientRef: ticket.patientRef }).from(ticket).where(eq(ticket.id, d.ticketId));
      await appendEvent(tx, actor, d.ticketId, 'reversal-detected', now, {
        data: {
          adjudication: adjudicationRef,
          paid: summary.amounts.paid?.value ?? null,
          currency: summary.currency,
          proposedResolution: { stage: 'decided', outcome: 'overturned' },
        },
      });
      await recordAudit(
        tx,
        actor,
        {
          action: 'dispute.reversal-detected',
          fhirAction: 'U',
          entityType: 'Dispute',
          entityId: d.ticketId,
          patientRef: t?.patientRef ?? null,
          detail: { adjudication: adjudicationRef },
        },
        now,
      );
      result.reversals.push(d.ticketId);
    }
    result.skipped++;
    return;
  }

  const minimum = toMoney(toMicro(rules.minimumAmount), summary.currency).minor;
  const wanted = candidates(summary, rules).filter((c) => c.amountMinor >= minimum);
  if (wanted.length === 0) {
    result.skipped++;
    return;
  }
  for (const c of wanted) {
    const opened = await service.openIn(
      tx,
      actor,
      {
        claim: claimRef,
        adjudication: adjudicationRef,
        payerClaimNumber: summary.payerClaimNumber,
        sourceId,
        reasonCategory: c.reason,
        disputedAmount: minorToMoney(c.amountMinor, summary.currency)?.value,
        currency: summary.currency,
        queue: rules.queue,
        priority: rules.priority,
        subject: `Auto-opened claim dispute (${c.reason}): ${claimRef ?? adjudicationRef}`,
      },
      now,
      {
        origin: 'auto',
        reasonCodes: { carcs: c.carcs, rarcs: c.rarcs, signals: c.signals },
        event: {
          type: 'auto-opened',
          data: { trigger: adjudicationRef, reason: c.reason, carcs: c.carcs, rarcs: c.rarcs },
        },
      },
    );
    if (opened.created) result.opened.push(opened.ticketId);
    else result.existing.push(opened.dedupeKey);
  }
}

/**
 * Opens dispute tickets for denials in new or changed adjudications (issue 5, rules in tenant.settings).
 * Idempotent and safe to call after the page commits: each candidate locks its dedupe key, checks, and
 * creates in one transaction, so re-syncs and concurrent workers never open a second ticket. Given a
 * Database, each adjudication gets its own transaction; given a Tx, everything joins the caller's.
 */
export async function processAdjudicationChanges(
  target: Database | Tx,
  changes: AdjudicationChanges,
): Promise<AutoOpenResult> {
  const clock = changes.clock ?? systemClock;
  const now = new Date(Math.floor(clock.now().getTime()));
  const actor = disputeSystemActor(changes.tenantId);
  const result: AutoOpenResult = { opened: [], existing: [], reversals: [], skipped: 0 };
  const adjudications = changes.resources.filter(
    (r): r is Adjudication =>
      (r.resourceType === 'ExplanationOfBenefit' || r.resourceType === 'ClaimResponse') && typeof r.id === 'string',
  );
  if (adjudications.length === 0) return result;

  const executor = isDatabase(target) ? target.db : target;
  const [row] = await executor
    .select({ settings: tenant.settings })
    .from(tenant)
    .where(eq(tenant.id, changes.tenantId));
  const rules = disputeRulesOf(row?.settings);
  if (!rules.enabled) {
    result.skipped = adjudications.length;
    return result;
  }
  if (isDatabase(target)) {
    const service = new DisputeService({ database: target, clock: { now: () => now } });
    for (const resource of adjudications) {
      await target.db.transaction((tx) =>
        processOne(tx, service, actor, changes.sourceId, resource, rules, now, result),
      );
    }
  } else {
    const service = new DisputeService({ database: { db: target } as unknown as Database, clock: { now: () => now } });
    for (const resource of adjudications) {
      await processOne(target, service, actor, changes.sourceId, resource, rules, now, result);
    }
  }
  return result;
}
