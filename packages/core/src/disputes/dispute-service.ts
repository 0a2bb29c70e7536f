import { and, asc, eq, inArray, isNull, ne, or, type SQL, sql } from 'drizzle-orm';
import type { Claim, ClaimResponse, ExplanationOfBenefit, Reference } from 'fhir/r4';
import { type AuditEntry, recordAudit } from '../audit/record';
import type { Actor, Clock } from '../context/actor';
import { systemClock } from '../context/actor';
import type { Database, Executor, Tx } from '../db/database';
import { type Dispute, type DisputeOrigin, type DisputeReasonCodes, dispute } from '../db/schema/disputes';
import type { Role, TicketChannel, TicketEventType, TicketPriority } from '../db/schema/enums';
import { fhirResource } from '../db/schema/sources';
import { tenant } from '../db/schema/tenants';
import { type Ticket, type TicketEvent, ticket } from '../db/schema/tickets';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  PreconditionFailedError,
  UnprocessableError,
  ValidationError,
} from '../errors';
import { type Money, minorDigits, toMicro, toMoney } from '../fhir/adjudication/money';
import { type ClaimFinancialSummary, summarizeAdjudication } from '../fhir/adjudication/summary';
import { formatReference, parseReference } from '../fhir/reference';
import { appendTicketEvent } from '../tickets/ticket-event';
import { formatTicketNumber } from '../tickets/ticket-number';
import { type LinkInput, TicketService, type TicketView } from '../tickets/ticket-service';
import { type AppealPresets, computeAppealDeadline, loadAppealPresets, resolveAppealPolicy } from './appeal-deadline';
import {
  classifiedAmountMinor,
  classifyDenial,
  type DisputeReasonCategory,
  isDisputeReasonCategory,
} from './dispute-reason';
import { assertDisputeMove, type DisputeOutcome, type DisputeStage } from './dispute-stage';
import { ticketStatusPath } from './dispute-ticket-status';
import { type AgentClaimView, type ClaimExplanation, explainClaim, toAgentView } from './explain-claim';

/** Roles that see the whole dispute (amounts, contract adjustments, payer details); others get the agent view. */
export const DISPUTE_FULL_ROLES: readonly Role[] = ['billing', 'supervisor', 'admin'];

export function seesFullDispute(roles: readonly Role[]): boolean {
  return roles.some((r) => DISPUTE_FULL_ROLES.includes(r));
}

export type AdjudicationType = 'ExplanationOfBenefit' | 'ClaimResponse';
const ADJUDICATION_TYPES: readonly AdjudicationType[] = ['ExplanationOfBenefit', 'ClaimResponse'];

export interface CreateDisputeInput {
  /** `Claim/123`; FIN-11: optional when an adjudication or a payer claim number is given. */
  claim?: string | undefined;
  /** `ExplanationOfBenefit/x` or `ClaimResponse/x`. */
  adjudication?: string | undefined;
  payerClaimNumber?: string | undefined;
  sourceId?: string | undefined;
  coverage?: string | undefined;
  patient?: string | undefined;
  reasonCategory: DisputeReasonCategory;
  /** Decimal string in major units (`"120.50"`). */
  disputedAmount?: string | undefined;
  currency?: string | undefined;
  payerId?: string | undefined;
  payerName?: string | undefined;
  /** FHIR date the appeal clock starts from; defaults to the adjudication's `created`. */
  adjudicationDate?: string | undefined;
  subject?: string | undefined;
  description?: string | undefined;
  queue?: string | undefined;
  priority?: TicketPriority | undefined;
  assigneeId?: string | null | undefined;
  /** How the patient raised it (an agent on the phone); defaults to `portal`. */
  channel?: TicketChannel | undefined;
}

/** Payer details only billing roles set (minimum necessary: an agent opens, billing works the payer side). */
const BILLING_ONLY_FIELDS = ['payerId', 'payerName', 'adjudicationDate', 'assigneeId', 'queue'] as const;

export interface UpdateDisputeInput {
  reasonCategory?: DisputeReasonCategory | undefined;
  disputedAmount?: string | null | undefined;
  currency?: string | undefined;
  payerId?: string | null | undefined;
  payerName?: string | null | undefined;
  payerClaimNumber?: string | null | undefined;
  adjudicationDate?: string | null | undefined;
}

export interface MoveStageInput {
  to: DisputeStage;
  outcome?: DisputeOutcome | undefined;
  recoveredAmount?: string | undefined;
  note?: string | undefined;
}

export const PAYER_CONTACT_CHANNELS = ['phone', 'portal', 'fax', 'email', 'mail'] as const;
export type PayerContactChannel = (typeof PAYER_CONTACT_CHANNELS)[number];

export interface PayerContactInput {
  channel: PayerContactChannel;
  summary: string;
  /** Call reference or portal ticket number given by the payer. */
  referenceNumber?: string | undefined;
  contactName?: string | undefined;
  occurredAt?: string | undefined;
}

export interface DisputeQueueQuery {
  stage?: DisputeStage[] | undefined;
  payerId?: string | undefined;
  reasonCategory?: DisputeReasonCategory[] | undefined;
  /** Appeal deadline window (ISO instants, inclusive). */
  deadlineFrom?: string | undefined;
  deadlineTo?: string | undefined;
  /** Disputed amount range (decimal strings, inclusive). */
  amountMin?: string | undefined;
  amountMax?: string | undefined;
  assigneeId?: string | undefined;
  /** `deadline`: soonest first (none last); `amount`: largest first. */
  sort?: 'deadline' | 'amount' | undefined;
  cursor?: string | undefined;
  limit?: number | undefined;
}

export interface DeadlineView {
  deadline: string;
  daysRemaining: number;
  state: 'ok' | 'due-soon' | 'missed';
  policy: string | null;
}

/** What billing and supervisors see. */
export interface FullDisputeView {
  view: 'full';
  ticketId: string;
  displayNumber: string;
  ticketStatus: Ticket['status'];
  queue: string;
  assigneeId: string | null;
  patient: string | null;
  claim: string | null;
  adjudication: string | null;
  sourceId: string | null;
  payerClaimNumber: string | null;
  payerId: string | null;
  payerName: string | null;
  disputedAmount: Money | null;
  reasonCategory: string;
  reasonCodes: DisputeReasonCodes;
  stage: DisputeStage;
  adjudicationDate: string | null;
  appealDeadline: DeadlineView | null;
  outcome: DisputeOutcome | null;
  recoveredAmount: Money | null;
  origin: DisputeOrigin;
  reversalDetectedAt: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
  summary?: ClaimFinancialSummary;
  explanation?: ClaimExplanation;
}

/** Minimum necessary for an agent (HIPAA-07): status, what the patient owes, reasons in plain words. */
export interface AgentDisputeView {
  view: 'agent';
  ticketId: string;
  displayNumber: string;
  ticketStatus: Ticket['status'];
  patient: string | null;
  stage: DisputeStage;
  reason: string;
  appealDeadline: Pick<DeadlineView, 'deadline' | 'state'> | null;
  outcome: DisputeOutcome | null;
  claim?: AgentClaimView;
  explanation?: ClaimExplanation;
}

export type DisputeView = FullDisputeView | AgentDisputeView;

export interface DisputePage {
  items: DisputeView[];
  nextCursor: string | null;
}

export interface ClaimSummaryView {
  reference: string;
  view: 'full' | 'agent';
  summary?: ClaimFinancialSummary;
  agent?: AgentClaimView;
  explanation: ClaimExplanation;
}

const REASON_TEXT: Record<DisputeReasonCategory, string> = {
  denied: 'The plan denied the claim.',
  underpaid: 'The plan paid less than expected.',
  'patient-responsibility-question': 'The amount the patient owes is being checked.',
  'coordination-of-benefits': 'The plan needs information about other insurance.',
  duplicate: 'The plan treated the claim as a duplicate.',
  eligibility: 'The plan questioned coverage on the date of service.',
};

/** Settings a tenant may store in `tenant.settings` for disputes. */
export interface TenantDisputeSettings {
  appealPresets?: Partial<AppealPresets>;
  timeZone?: string;
}

/** One ticket per claim and reason: the claim when known, else the adjudication, else the payer claim number. */
export function disputeKey(
  subject: { claimRef?: string | null; adjudicationRef?: string | null; payerClaimNumber?: string | null },
  reason: DisputeReasonCategory,
): string {
  const base =
    subject.claimRef ??
    subject.adjudicationRef ??
    (subject.payerClaimNumber ? `payer-claim:${subject.payerClaimNumber}` : undefined);
  if (!base) {
    throw new ValidationError('A dispute needs a claim, an adjudication or a payer claim number', [
      { field: 'claim', message: 'give claim, adjudication or payerClaimNumber (FIN-11)' },
    ]);
  }
  return `${base}#${reason}`;
}

/** Decimal string → minor units of `currency`, refusing more precision than the currency has (VIEW-03). */
export function parseAmountMinor(value: string, currency: string, field: string): number {
  const digits = minorDigits(currency);
  const pattern = digits > 0 ? new RegExp(`^\\d{1,13}(\\.\\d{1,${digits}})?$`) : /^\d{1,13}$/;
  if (!pattern.test(value)) {
    throw new ValidationError('Invalid amount', [
      { field, message: `a non-negative decimal with at most ${digits} fraction digits, e.g. "120.50"` },
    ]);
  }
  return toMoney(toMicro(value), currency).minor;
}

export function minorToMoney(minor: number | null, currency: string): Money | null {
  if (minor === null) return null;
  const digits = minorDigits(currency);
  return toMoney(BigInt(minor) * 10n ** BigInt(6 - digits), currency);
}

/** Serialises work on one dedupe key across connections until the transaction ends (two workers, one ticket). */
export async function lockDisputeKey(tx: Executor, tenantId: string, key: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`dispute:${tenantId}:${key}`}, 0))`);
}

/** A cached resource of the tenant (any source unless given), or undefined. */
export async function loadCached<T>(
  executor: Executor,
  tenantId: string,
  type: string,
  id: string,
  sourceId?: string | null,
): Promise<{ resource: T; sourceId: string } | undefined> {
  const where = [
    eq(fhirResource.tenantId, tenantId),
    eq(fhirResource.resourceType, type),
    eq(fhirResource.resourceId, id),
    eq(fhirResource.deleted, false),
  ];
  if (sourceId) where.push(eq(fhirResource.sourceId, sourceId));
  const [row] = await executor
    .select({ resource: fhirResource.resource, sourceId: fhirResource.sourceId })
    .from(fhirResource)
    .where(and(...where))
    .orderBy(asc(fhirResource.fetchedAt))
    .limit(1);
  return row ? { resource: row.resource as T, sourceId: row.sourceId } : undefined;
}

/** `Type/id` of a relative (or absolute) literal reference of an allowed type; undefined otherwise. */
export function relativeRef(ref: Reference | undefined, types: readonly string[]): string | undefined {
  const raw = ref?.reference;
  if (!raw || raw.startsWith('#') || raw.startsWith('urn:')) return undefined;
  const parts = raw.split('?')[0]!.split('/');
  const historyAt = parts.lastIndexOf('_history');
  const end = historyAt > 0 ? historyAt : parts.length;
  const type = parts[end - 2];
  const id = parts[end - 1];
  if (!type || !id || !types.includes(type) || !/^[A-Za-z0-9\-.]{1,64}$/.test(id)) return undefined;
  return `${type}/${id}`;
}

async function tenantSettings(executor: Executor, tenantId: string): Promise<Record<string, unknown>> {
  const [row] = await executor.select({ settings: tenant.settings }).from(tenant).where(eq(tenant.id, tenantId));
  return row?.settings ?? {};
}

const presetCache = new WeakMap<Record<string, unknown>, AppealPresets>();

/** Appeal deadline from the tenant's presets (tenant.settings.appealPresets overrides the data file). */
export function deadlineFor(
  settings: Record<string, unknown>,
  payerId: string | null | undefined,
  adjudicationDate: string | null | undefined,
  now: Date,
): { deadline: DeadlineView; presets: AppealPresets } | undefined {
  if (!adjudicationDate) return undefined;
  const s = settings as TenantDisputeSettings;
  // One merge per settings object: a queue page or CSV export reuses it for every row.
  let presets = presetCache.get(settings);
  if (!presets) {
    presets = loadAppealPresets(s.appealPresets);
    presetCache.set(settings, presets);
  }
  const policy = resolveAppealPolicy(presets, payerId ? { payerId } : {});
  const d = computeAppealDeadline(
    { adjudicationDate, policy, now, ...(s.timeZone ? { timeZone: s.timeZone } : {}) },
    presets,
  );
  return { deadline: { ...d, policy: policy.label }, presets };
}

type Adjudication = ExplanationOfBenefit | ClaimResponse;

/** Summary of a cached adjudication (with its Claim when cached, for the billed amount of a ClaimResponse). */
export async function summarizeCached(
  executor: Executor,
  tenantId: string,
  ref: string,
  sourceId?: string | null,
): Promise<ClaimFinancialSummary | undefined> {
  const [type, id] = ref.split('/') as [string, string];
  const cached = await loadCached<Adjudication>(executor, tenantId, type, id, sourceId);
  if (!cached) return undefined;
  const claimRef =
    cached.resource.resourceType === 'ClaimResponse'
      ? relativeRef(cached.resource.request, ['Claim'])
      : relativeRef(cached.resource.claim, ['Claim']);
  const claim = claimRef
    ? await loadCached<Claim>(executor, tenantId, 'Claim', claimRef.split('/')[1]!, cached.sourceId)
    : undefined;
  return summarizeAdjudication(cached.resource, claim?.resource);
}

export interface OpenDisputeOptions {
  origin: DisputeOrigin;
  reasonCodes?: DisputeReasonCodes;
  /** Extra timeline event after creation (e.g. `auto-opened` with the trigger). */
  event?: { type: TicketEventType; data: Record<string, unknown> };
}

export interface OpenDisputeResult {
  created: boolean;
  ticketId: string;
  dedupeKey: string;
}

export class DisputeService {
  private readonly database: Database;
  private readonly clock: Clock;
  private readonly afterCommit: (actor: Actor) => void;

  constructor(deps: { database: Database; clock?: Clock; afterCommit?: (actor: Actor) => void }) {
    this.database = deps.database;
    this.clock = deps.clock ?? systemClock;
    this.afterCommit = deps.afterCommit ?? (() => {});
  }

  private now(): Date {
    return new Date(Math.floor(this.clock.now().getTime()));
  }

  private async command<T>(actor: Actor, work: (tx: Tx, now: Date) => Promise<T>): Promise<T> {
    const now = this.now();
    const result = await this.database.db.transaction((tx) => work(tx, now));
    this.afterCommit(actor);
    return result;
  }

  /** Ticket commands bound to an open transaction (they nest as savepoints), so both rows commit together. */
  private ticketsIn(tx: Tx, now: Date): TicketService {
    return new TicketService({ database: { ...this.database, db: tx }, clock: { now: () => now } });
  }

  /**
   * Opens a dispute inside `tx`: ticket, dispute row, links, events and audit. The dedupe key is locked first,
   * so a second caller with the same claim and reason gets the existing ticket (`created: false`).
   */
  async openIn(
    tx: Tx,
    actor: Actor,
    input: CreateDisputeInput,
    now: Date,
    options: OpenDisputeOptions,
  ): Promise<OpenDisputeResult> {
    const sourceId = input.sourceId ?? null;
    const claimRef = input.claim
      ? formatReference(parseReference(input.claim, { allowedTypes: ['Claim'] as const, field: 'claim' }))
      : null;
    const adjudicationRef = input.adjudication
      ? formatReference(parseReference(input.adjudication, { allowedTypes: ADJUDICATION_TYPES, field: 'adjudication' }))
      : null;
    const payerClaimNumber = input.payerClaimNumber?.trim() || null;
    const key = disputeKey({ claimRef, adjudicationRef, payerClaimNumber }, input.reasonCategory);
    await lockDisputeKey(tx, actor.tenantId, key);
    const [existing] = await tx
      .select({ ticketId: dispute.ticketId })
      .from(dispute)
      .where(and(eq(dispute.tenantId, actor.tenantId), eq(dispute.dedupeKey, key)));
    if (existing) return { created: false, ticketId: existing.ticketId, dedupeKey: key };

    // Fill what the cache knows: patient, coverage, payer and the adjudication date.
    let adjudication: { resource: Adjudication; sourceId: string } | undefined;
    if (adjudicationRef) {
      const [type, id] = adjudicationRef.split('/') as [string, string];
      adjudication = await loadCached<Adjudication>(tx, actor.tenantId, type, id, sourceId);
    }
    let claim: { resource: Claim; sourceId: string } | undefined;
    if (claimRef) claim = await loadCached<Claim>(tx, actor.tenantId, 'Claim', claimRef.split('/')[1]!, sourceId);
    const adj = adjudication?.resource;
    const patient =
      input.patient ??
      relativeRef(adj?.patient, ['Patient']) ??
      relativeRef(claim?.resource.patient, ['Patient']) ??
      null;
    const insurance = adj?.insurance ?? claim?.resource.insurance ?? [];
    const coverage =
      input.coverage ?? relativeRef((insurance.find((i) => i.focal) ?? insurance[0])?.coverage, ['Coverage']);
    const payerId =
      input.payerId ?? adj?.insurer?.identifier?.value ?? relativeRef(adj?.insurer, ['Organization']) ?? null;
    const payerName = input.payerName ?? adj?.insurer?.display ?? null;
    const adjudicationDate = input.adjudicationDate ?? adj?.created?.slice(0, 10) ?? null;
    const currency = (input.currency ?? 'USD').toUpperCase();
    const disputedAmountMinor =
      input.disputedAmount !== undefined ? parseAmountMinor(input.disputedAmount, currency, 'disputedAmount') : null;
    const settings = await tenantSettings(tx, actor.tenantId);
    const deadline = deadlineFor(settings, payerId, adjudicationDate, now);

    const links: LinkInput[] = [];
    const linkSource = (found?: { sourceId: string }) => found?.sourceId ?? sourceId ?? undefined;
    if (claimRef) links.push({ reference: claimRef, role: 'disputed-claim', sourceId: linkSource(claim) });
    if (adjudicationRef)
      links.push({
        reference: adjudicationRef,
        role: 'adjudication',
        sourceId: linkSource(adjudication),
      });
    if (coverage) links.push({ reference: coverage, role: 'coverage', sourceId: sourceId ?? adjudication?.sourceId });
    if (patient) links.push({ reference: patient, role: 'patient', sourceId: sourceId ?? adjudication?.sourceId });

    const reference = claimRef ?? adjudicationRef ?? 'payer claim';
    const created: TicketView = await this.ticketsIn(tx, now).create(actor, {
      subject: input.subject ?? `Claim dispute (${input.reasonCategory}): ${reference}`,
      description: input.description,
      category: 'claim-dispute',
      channel: input.channel ?? 'portal',
      priority: input.priority,
      queue: input.queue ?? 'billing',
      assigneeId: input.assigneeId,
      patient,
      links: links.map((l) => (l.sourceId === undefined ? { reference: l.reference, role: l.role } : l)),
    });
    await tx.insert(dispute).values({
      ticketId: created.id,
      tenantId: actor.tenantId,
      claimRef,
      adjudicationRef,
      sourceId: sourceId ?? adjudication?.sourceId ?? claim?.sourceId ?? null,
      payerClaimNumber,
      payerId,
      payerName,
      disputedAmountMinor,
      currency,
      reasonCategory: input.reasonCategory,
      reasonCodes: options.reasonCodes ?? {},
      stage: 'intake',
      adjudicationDate,
      appealDeadline: deadline ? new Date(deadline.deadline.deadline) : null,
      appealPolicy: deadline?.deadline.policy ?? null,
      dedupeKey: key,
      origin: options.origin,
      createdAt: now,
      updatedAt: now,
    });
    if (options.event) await appendEvent(tx, actor, created.id, options.event.type, now, { data: options.event.data });
    await recordAudit(
      tx,
      actor,
      {
        action: options.origin === 'auto' ? 'dispute.auto-open' : 'dispute.create',
        fhirAction: 'C',
        entityType: 'Dispute',
        entityId: created.id,
        patientRef: patient,
        detail: { reasonCategory: input.reasonCategory, dedupeKey: key },
      },
      now,
    );
    return { created: true, ticketId: created.id, dedupeKey: key };
  }

  async create(actor: Actor, input: CreateDisputeInput): Promise<DisputeView> {
    if (!isDisputeReasonCategory(input.reasonCategory)) {
      throw new ValidationError('Unknown reason category', [
        { field: 'reasonCategory', message: 'see the API schema' },
      ]);
    }
    const billing = seesFullDispute(actor.roles);
    if (!billing) {
      const given = BILLING_ONLY_FIELDS.filter((f) => input[f] !== undefined);
      if (given.length > 0) {
        throw new ForbiddenError(`Only billing sets ${given.join(', ')}`, { fields: given });
      }
      if (!input.claim && !input.adjudication) {
        throw new ValidationError('An agent disputes a claim from the patient view', [
          { field: 'claim', message: 'required: the disputed Claim (or its adjudication when there is no Claim)' },
        ]);
      }
    }
    return this.command(actor, async (tx, now) => {
      const filled = await this.checkSubject(tx, actor, input, billing);
      const result = await this.openIn(tx, actor, filled, now, { origin: 'manual' });
      if (!result.created) {
        throw new ConflictError(
          'A dispute for this claim and reason already exists',
          { ticketId: result.ticketId },
          'duplicate-dispute',
        );
      }
      return this.viewOf(tx, actor, result.ticketId, now, false);
    });
  }

  /**
   * A manual dispute names records of this tenant and one patient: a claim or adjudication that is not in the
   * tenant's cache is 404 for an agent (they dispute what the patient view showed; billing may dispute a claim
   * not yet synced, FIN-11); a claim, adjudication and patient that disagree are 422. Without an amount, the
   * amount the payer withheld is derived from the cached adjudication, as auto-open does.
   */
  private async checkSubject(
    tx: Tx,
    actor: Actor,
    input: CreateDisputeInput,
    billing: boolean,
  ): Promise<CreateDisputeInput> {
    const sourceId = input.sourceId ?? null;
    const claimRef = input.claim
      ? formatReference(parseReference(input.claim, { allowedTypes: ['Claim'] as const, field: 'claim' }))
      : null;
    const adjudicationRef = input.adjudication
      ? formatReference(parseReference(input.adjudication, { allowedTypes: ADJUDICATION_TYPES, field: 'adjudication' }))
      : null;
    const claim = claimRef
      ? await loadCached<Claim>(tx, actor.tenantId, 'Claim', claimRef.split('/')[1]!, sourceId)
      : undefined;
    const [adjType, adjId] = (adjudicationRef ?? '/').split('/') as [string, string];
    const adjudication = adjudicationRef
      ? await loadCached<Adjudication>(tx, actor.tenantId, adjType, adjId, sourceId)
      : undefined;
    if (!billing && claimRef && !claim) throw new NotFoundError('No such claim for this patient', { field: 'claim' });
    if (!billing && adjudicationRef && !adjudication) {
      throw new NotFoundError('No such adjudication for this patient', { field: 'adjudication' });
    }
    // The patient the agent is working for must be the disputed claim's (else its adjudication's) patient.
    // Claim and EOB are not compared with each other: their literal patient references may legitimately differ.
    const subjectPatient = claim
      ? relativeRef(claim.resource.patient, ['Patient'])
      : relativeRef(adjudication?.resource.patient, ['Patient']);
    if (input.patient && subjectPatient) {
      const given = formatReference(
        parseReference(input.patient, { allowedTypes: ['Patient'] as const, field: 'patient' }),
      );
      if (given !== subjectPatient) {
        throw new UnprocessableError(
          `The ${claim ? 'claim' : 'adjudication'} is not this patient's`,
          { fields: [claim ? 'claim' : 'adjudication', 'patient'] },
          'dispute-subject-mismatch',
        );
      }
    }
    if (adjudication && claimRef) {
      const r = adjudication.resource;
      const adjClaim =
        r.resourceType === 'ClaimResponse' ? relativeRef(r.request, ['Claim']) : relativeRef(r.claim, ['Claim']);
      if (adjClaim && adjClaim !== claimRef) {
        throw new UnprocessableError(
          'The adjudication is for another claim',
          { fields: ['adjudication'] },
          'dispute-subject-mismatch',
        );
      }
    }
    if (input.disputedAmount !== undefined || !adjudication) return input;
    const summary = await summarizeCached(tx, actor.tenantId, adjudicationRef!, adjudication.sourceId);
    if (!summary) return input;
    let minor: number | null = null;
    if (input.reasonCategory === 'patient-responsibility-question') {
      minor = summary.amounts.patientResponsibility?.minor ?? null;
    } else {
      const cls = classifyDenial(summary);
      if (cls && cls.category === input.reasonCategory) minor = classifiedAmountMinor(summary, cls);
    }
    if (minor === null) return input;
    return {
      ...input,
      disputedAmount: minorToMoney(minor, summary.currency)!.value,
      currency: summary.currency,
      payerClaimNumber: input.payerClaimNumber ?? summary.payerClaimNumber ?? undefined,
    };
  }

  async get(actor: Actor, ticketId: string): Promise<DisputeView> {
    return this.command(actor, async (tx, now) => {
      const view = await this.viewOf(tx, actor, ticketId, now, true);
      await recordAudit(
        tx,
        actor,
        {
          action: 'dispute.read',
          fhirAction: 'R',
          entityType: 'Dispute',
          entityId: ticketId,
          patientRef: view.patient,
        },
        now,
      );
      return view;
    });
  }

  async update(
    actor: Actor,
    ticketId: string,
    expectedVersion: number | undefined,
    input: UpdateDisputeInput,
  ): Promise<DisputeView> {
    return this.command(actor, async (tx, now) => {
      const { row, tkt } = await this.loadForUpdate(tx, actor, ticketId, expectedVersion);
      const currency = (input.currency ?? row.currency).toUpperCase();
      const patch: Partial<Dispute> = {};
      const changes: Record<string, { from: unknown; to: unknown }> = {};
      const set = <K extends keyof Dispute>(k: K, v: Dispute[K] | undefined) => {
        if (v === undefined || v === row[k]) return;
        patch[k] = v;
        changes[k] = { from: row[k], to: v };
      };
      set('currency', currency);
      if (input.disputedAmount !== undefined)
        set(
          'disputedAmountMinor',
          input.disputedAmount === null ? null : parseAmountMinor(input.disputedAmount, currency, 'disputedAmount'),
        );
      set('payerId', input.payerId);
      set('payerName', input.payerName);
      set('payerClaimNumber', input.payerClaimNumber);
      set('adjudicationDate', input.adjudicationDate);
      if (input.reasonCategory && input.reasonCategory !== row.reasonCategory) {
        set('reasonCategory', input.reasonCategory);
        const key = disputeKey(
          { ...row, payerClaimNumber: patch.payerClaimNumber ?? row.payerClaimNumber },
          input.reasonCategory,
        );
        await lockDisputeKey(tx, actor.tenantId, key);
        const [clash] = await tx
          .select({ ticketId: dispute.ticketId })
          .from(dispute)
          .where(and(eq(dispute.tenantId, actor.tenantId), eq(dispute.dedupeKey, key)));
        if (clash)
          throw new ConflictError(
            'A dispute for this claim and reason already exists',
            { ticketId: clash.ticketId },
            'duplicate-dispute',
          );
        patch.dedupeKey = key;
      }
      if (patch.payerId !== undefined || patch.adjudicationDate !== undefined) {
        const d = deadlineFor(
          await tenantSettings(tx, actor.tenantId),
          patch.payerId ?? row.payerId,
          patch.adjudicationDate ?? row.adjudicationDate,
          now,
        );
        patch.appealDeadline = d ? new Date(d.deadline.deadline) : null;
        patch.appealPolicy = d?.deadline.policy ?? null;
      }
      if (row.claimRef === null && row.adjudicationRef === null && patch.payerClaimNumber === null) {
        throw new ValidationError('A dispute needs a claim, an adjudication or a payer claim number', [
          { field: 'payerClaimNumber', message: 'cannot be removed: it is the only claim identifier (FIN-11)' },
        ]);
      }
      if (Object.keys(changes).length > 0) {
        await this.writeRow(tx, row, { ...patch, updatedAt: now });
        await appendEvent(tx, actor, ticketId, 'dispute-updated', now, { data: { changes } });
      }
      await recordAudit(
        tx,
        actor,
        {
          action: 'dispute.update',
          fhirAction: 'U',
          entityType: 'Dispute',
          entityId: ticketId,
          patientRef: tkt.patientRef,
          detail: { changed: Object.keys(changes) },
        },
        now,
      );
      return this.viewOf(tx, actor, ticketId, now, false);
    });
  }

  async moveStage(
    actor: Actor,
    ticketId: string,
    input: MoveStageInput,
    expectedVersion?: number,
  ): Promise<DisputeView> {
    return this.command(actor, async (tx, now) => {
      const { row, tkt } = await this.loadForUpdate(tx, actor, ticketId, expectedVersion);
      assertDisputeMove({ from: row.stage, to: input.to, ...(input.outcome ? { outcome: input.outcome } : {}) });
      // Decided before any write: a closed ticket refuses the move (409) and nothing is left half-done.
      const statusPath = ticketStatusPath(tkt.status, input.to);
      if (input.recoveredAmount !== undefined && input.to !== 'decided') {
        throw new ValidationError('A recovered amount is only given when the dispute is decided', [
          { field: 'recoveredAmount', message: 'remove it or move to decided' },
        ]);
      }
      const patch: Partial<Dispute> = { stage: input.to, updatedAt: now };
      if (input.to === 'decided') {
        patch.outcome = input.outcome ?? null;
        patch.recoveredAmountMinor =
          input.recoveredAmount !== undefined
            ? parseAmountMinor(input.recoveredAmount, row.currency, 'recoveredAmount')
            : null;
      } else {
        // Reopened by a further appeal: the earlier outcome no longer stands.
        patch.outcome = null;
        patch.recoveredAmountMinor = null;
      }
      await this.writeRow(tx, row, patch);
      await appendEvent(tx, actor, ticketId, 'dispute-stage-changed', now, {
        body: input.note ?? null,
        data: { from: row.stage, to: input.to, ...(input.outcome ? { outcome: input.outcome } : {}) },
      });
      // The ticket follows through TicketService (timeline event + audit per step) in this transaction.
      const tickets = this.ticketsIn(tx, now);
      for (const status of statusPath) {
        await tickets.transition(actor, ticketId, status, { reason: `Dispute stage: ${input.to}` });
      }
      await recordAudit(
        tx,
        actor,
        {
          action: 'dispute.stage',
          fhirAction: 'U',
          entityType: 'Dispute',
          entityId: ticketId,
          patientRef: tkt.patientRef,
          detail: { from: row.stage, to: input.to },
        },
        now,
      );
      return this.viewOf(tx, actor, ticketId, now, false);
    });
  }

  /** Records the payer's decision: moves to `decided` (or corrects the outcome of a decided dispute). */
  async recordOutcome(
    actor: Actor,
    ticketId: string,
    input: { outcome: DisputeOutcome; recoveredAmount?: string | undefined; note?: string | undefined },
  ): Promise<DisputeView> {
    const [current] = await this.database.db
      .select({ stage: dispute.stage })
      .from(dispute)
      .where(and(eq(dispute.ticketId, ticketId), eq(dispute.tenantId, actor.tenantId)));
    if (!current) throw new NotFoundError('Dispute not found');
    if (current.stage !== 'decided') return this.moveStage(actor, ticketId, { to: 'decided', ...input });
    return this.command(actor, async (tx, now) => {
      const { row, tkt } = await this.loadForUpdate(tx, actor, ticketId, undefined);
      const recovered =
        input.recoveredAmount !== undefined
          ? parseAmountMinor(input.recoveredAmount, row.currency, 'recoveredAmount')
          : null;
      await this.writeRow(tx, row, { outcome: input.outcome, recoveredAmountMinor: recovered, updatedAt: now });
      await appendEvent(tx, actor, ticketId, 'dispute-updated', now, {
        body: input.note ?? null,
        data: {
          changes: {
            outcome: { from: row.outcome, to: input.outcome },
            recoveredAmountMinor: { from: row.recoveredAmountMinor, to: recovered },
          },
        },
      });
      await recordAudit(
        tx,
        actor,
        {
          action: 'dispute.outcome',
          fhirAction: 'U',
          entityType: 'Dispute',
          entityId: ticketId,
          patientRef: tkt.patientRef,
          detail: { outcome: input.outcome },
        },
        now,
      );
      return this.viewOf(tx, actor, ticketId, now, false);
    });
  }

  async logPayerContact(actor: Actor, ticketId: string, input: PayerContactInput): Promise<TicketEvent> {
    return this.command(actor, async (tx, now) => {
      const { row, tkt } = await this.loadForUpdate(tx, actor, ticketId, undefined);
      await this.writeRow(tx, row, { updatedAt: now });
      const event = await appendEvent(tx, actor, ticketId, 'payer-contact', now, {
        body: input.summary,
        data: {
          channel: input.channel,
          ...(input.referenceNumber ? { referenceNumber: input.referenceNumber } : {}),
          ...(input.contactName ? { contactName: input.contactName } : {}),
          ...(input.occurredAt ? { occurredAt: input.occurredAt } : {}),
          stage: row.stage,
        },
      });
      await recordAudit(
        tx,
        actor,
        {
          action: 'dispute.payer-contact',
          fhirAction: 'U',
          entityType: 'Dispute',
          entityId: ticketId,
          patientRef: tkt.patientRef,
          detail: { eventId: event.id, channel: input.channel },
        },
        now,
      );
      return event;
    });
  }

  /** The billing work queue (full view only; the route restricts it to billing roles). */
  async list(actor: Actor, query: DisputeQueueQuery): Promise<DisputePage> {
    const limit = Math.min(Math.max(query.limit ?? 25, 1), 200);
    return this.command(actor, async (tx, now) => {
      const { rows, nextCursor } = await this.queuePage(tx, actor, query, limit);
      const settings = await tenantSettings(tx, actor.tenantId);
      const items = rows.map(({ d, t }) => fullView(d, t, settings, now));
      const patients = [...new Set(rows.map((r) => r.t.patientRef).filter((p): p is string => Boolean(p)))];
      const entries: AuditEntry[] = [
        { action: 'dispute.search', fhirAction: 'E', entityType: 'Dispute', detail: { results: items.length } },
        ...patients.map((p) => ({
          action: 'dispute.search',
          fhirAction: 'E' as const,
          entityType: 'Dispute',
          patientRef: p,
        })),
      ];
      await recordAudit(tx, actor, entries, now);
      return { items, nextCursor };
    });
  }

  /** The whole queue as CSV (every page), one audit row per patient in it (AUD-04). */
  async exportCsv(actor: Actor, query: Omit<DisputeQueueQuery, 'cursor' | 'limit'>, maxRows = 10_000): Promise<string> {
    return this.command(actor, async (tx, now) => {
      const settings = await tenantSettings(tx, actor.tenantId);
      const lines = [csvRow(CSV_COLUMNS.map((c) => c.header))];
      const patients = new Set<string>();
      let cursor: string | undefined;
      let count = 0;
      do {
        const page = await this.queuePage(tx, actor, { ...query, cursor }, 200);
        for (const { d, t } of page.rows) {
          if (t.patientRef) patients.add(t.patientRef);
          const v = fullView(d, t, settings, now);
          lines.push(csvRow(CSV_COLUMNS.map((c) => c.value(v))));
          count++;
        }
        cursor = page.nextCursor ?? undefined;
      } while (cursor && count < maxRows);
      await recordAudit(
        tx,
        actor,
        [
          { action: 'dispute.export', fhirAction: 'E', entityType: 'Dispute', detail: { rows: count, format: 'csv' } },
          ...[...patients].map((p) => ({
            action: 'dispute.export',
            fhirAction: 'E' as const,
            entityType: 'Dispute',
            patientRef: p,
          })),
        ],
        now,
      );
      return `${lines.join('\r\n')}\r\n`;
    });
  }

  async bulkAssign(
    actor: Actor,
    ticketIds: readonly string[],
    assigneeId: string | null,
  ): Promise<{ assigned: string[] }> {
    const ids = [...new Set(ticketIds)];
    return this.command(actor, async (tx, now) => {
      const found = await tx
        .select({ ticketId: dispute.ticketId })
        .from(dispute)
        .where(and(eq(dispute.tenantId, actor.tenantId), inArray(dispute.ticketId, ids)));
      const known = new Set(found.map((f) => f.ticketId));
      const missing = ids.filter((id) => !known.has(id));
      if (missing.length > 0)
        throw new NotFoundError('Some disputes were not found; nothing was assigned', { missing });
      const tickets = this.ticketsIn(tx, now);
      for (const id of ids) await tickets.assign(actor, id, assigneeId);
      return { assigned: ids };
    });
  }

  /** Financial summary of a cached EOB or ClaimResponse, shaped by role (VIEW-03, HIPAA-07, FIN-21). */
  async claimSummary(actor: Actor, type: AdjudicationType, id: string, sourceId?: string): Promise<ClaimSummaryView> {
    return this.command(actor, async (tx, now) => {
      const ref = `${type}/${id}`;
      const cached = await loadCached<Adjudication>(tx, actor.tenantId, type, id, sourceId);
      if (!cached) throw new NotFoundError('No such adjudication in the cache');
      const summary = await summarizeCached(tx, actor.tenantId, ref, cached.sourceId);
      const patientRef = relativeRef(cached.resource.patient, ['Patient']) ?? null;
      await recordAudit(
        tx,
        actor,
        { action: 'claim-summary.read', fhirAction: 'R', entityType: type, entityId: id, patientRef },
        now,
      );
      if (seesFullDispute(actor.roles)) {
        return {
          reference: ref,
          view: 'full',
          summary: summary!,
          explanation: explainClaim(summary!, { audience: 'billing' }),
        };
      }
      return {
        reference: ref,
        view: 'agent',
        agent: toAgentView(summary!),
        explanation: explainClaim(summary!, { audience: 'patient' }),
      };
    });
  }

  private async queuePage(tx: Tx, actor: Actor, query: DisputeQueueQuery, limit: number) {
    const where: SQL[] = [eq(dispute.tenantId, actor.tenantId)];
    if (query.stage?.length) where.push(inArray(dispute.stage, query.stage));
    if (query.reasonCategory?.length) where.push(inArray(dispute.reasonCategory, query.reasonCategory));
    if (query.payerId) where.push(eq(dispute.payerId, query.payerId));
    if (query.assigneeId) where.push(eq(ticket.assigneeId, query.assigneeId));
    const instant = (v: string, field: string) => {
      const d = new Date(v);
      if (Number.isNaN(d.getTime()))
        throw new ValidationError('Invalid date', [{ field, message: 'ISO date or instant' }]);
      return d;
    };
    if (query.deadlineFrom)
      where.push(
        sql`${dispute.appealDeadline} >= ${instant(query.deadlineFrom, 'deadlineFrom').toISOString()}::timestamptz`,
      );
    if (query.deadlineTo)
      where.push(
        sql`${dispute.appealDeadline} <= ${instant(query.deadlineTo, 'deadlineTo').toISOString()}::timestamptz`,
      );
    // Amount filters compare minor units; the queue holds one currency per tenant in practice (USD by default).
    if (query.amountMin)
      where.push(sql`${dispute.disputedAmountMinor} >= ${parseAmountMinor(query.amountMin, 'USD', 'amountMin')}`);
    if (query.amountMax)
      where.push(sql`${dispute.disputedAmountMinor} <= ${parseAmountMinor(query.amountMax, 'USD', 'amountMax')}`);
    const byAmount = query.sort === 'amount';
    // Sort keys never null, so (key, id) row comparison gives a stable cursor (index dispute_queue_*_idx).
    const deadlineKey = sql`coalesce(${dispute.appealDeadline}, 'infinity'::timestamptz)`;
    const amountKey = sql`coalesce(${dispute.disputedAmountMinor}, -1)`;
    if (query.cursor) {
      const c = decodeQueueCursor(query.cursor, byAmount ? 'amount' : 'deadline');
      where.push(
        byAmount
          ? sql`(${amountKey}, ${dispute.ticketId}) < (${Number(c.k)}::bigint, ${c.id}::uuid)`
          : sql`(${deadlineKey}, ${dispute.ticketId}) > (${c.k}::timestamptz, ${c.id}::uuid)`,
      );
    }
    const order = byAmount
      ? [sql`${amountKey} desc`, sql`${dispute.ticketId} desc`]
      : [sql`${deadlineKey} asc`, sql`${dispute.ticketId} asc`];
    const rows = await tx
      .select({ d: dispute, t: ticket })
      .from(dispute)
      .innerJoin(ticket, eq(ticket.id, dispute.ticketId))
      .where(and(...where))
      .orderBy(...order)
      .limit(limit + 1);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    let nextCursor: string | null = null;
    if (rows.length > limit && last) {
      const k = byAmount
        ? String(last.d.disputedAmountMinor ?? -1)
        : (last.d.appealDeadline?.toISOString() ?? 'infinity');
      nextCursor = Buffer.from(
        JSON.stringify({ s: byAmount ? 'amount' : 'deadline', k, id: last.d.ticketId }),
      ).toString('base64url');
    }
    return { rows: page, nextCursor };
  }

  private async loadForUpdate(tx: Tx, actor: Actor, ticketId: string, expectedVersion: number | undefined) {
    const [row] = await tx
      .select()
      .from(dispute)
      .where(and(eq(dispute.ticketId, ticketId), eq(dispute.tenantId, actor.tenantId)))
      .for('update');
    if (!row) throw new NotFoundError('Dispute not found');
    if (expectedVersion !== undefined && row.version !== expectedVersion) {
      throw new PreconditionFailedError('The dispute was changed by someone else; reload and retry', {
        currentVersion: row.version,
      });
    }
    const [tkt] = await tx.select().from(ticket).where(eq(ticket.id, ticketId));
    return { row, tkt: tkt! };
  }

  private async writeRow(tx: Tx, current: Dispute, patch: Partial<Dispute>): Promise<Dispute> {
    const [row] = await tx
      .update(dispute)
      .set({ ...patch, version: current.version + 1 })
      .where(and(eq(dispute.ticketId, current.ticketId), eq(dispute.version, current.version)))
      .returning();
    if (!row) throw new PreconditionFailedError('The dispute was changed by someone else; reload and retry');
    return row;
  }

  private async viewOf(tx: Tx, actor: Actor, ticketId: string, now: Date, withSummary: boolean): Promise<DisputeView> {
    const [found] = await tx
      .select({ d: dispute, t: ticket })
      .from(dispute)
      .innerJoin(ticket, eq(ticket.id, dispute.ticketId))
      .where(and(eq(dispute.ticketId, ticketId), eq(dispute.tenantId, actor.tenantId)));
    if (!found) throw new NotFoundError('Dispute not found');
    const settings = await tenantSettings(tx, actor.tenantId);
    const summary =
      withSummary && found.d.adjudicationRef
        ? await summarizeCached(tx, actor.tenantId, found.d.adjudicationRef, found.d.sourceId)
        : undefined;
    const full = fullView(found.d, found.t, settings, now);
    if (seesFullDispute(actor.roles)) {
      if (summary) {
        full.summary = summary;
        full.explanation = explainClaim(summary, { audience: 'billing' });
      }
      return full;
    }
    const agent: AgentDisputeView = {
      view: 'agent',
      ticketId: full.ticketId,
      displayNumber: full.displayNumber,
      ticketStatus: full.ticketStatus,
      patient: full.patient,
      stage: full.stage,
      reason: REASON_TEXT[found.d.reasonCategory as DisputeReasonCategory] ?? 'The claim is being reviewed.',
      appealDeadline: full.appealDeadline
        ? { deadline: full.appealDeadline.deadline, state: full.appealDeadline.state }
        : null,
      outcome: full.outcome,
    };
    if (summary) {
      agent.claim = toAgentView(summary);
      agent.explanation = explainClaim(summary, { audience: 'patient' });
    }
    return agent;
  }
}

function fullView(d: Dispute, t: Ticket, settings: Record<string, unknown>, now: Date): FullDisputeView {
  let appealDeadline: DeadlineView | null = null;
  if (d.appealDeadline) {
    // Recomputed for "now" so daysRemaining and state are current; the stored instant is what the queue sorts on.
    const fresh = deadlineFor(settings, d.payerId, d.adjudicationDate, now);
    appealDeadline = fresh?.deadline ?? {
      deadline: d.appealDeadline.toISOString(),
      daysRemaining: 0,
      state: 'ok',
      policy: d.appealPolicy,
    };
  }
  return {
    view: 'full',
    ticketId: d.ticketId,
    displayNumber: formatTicketNumber(t.number),
    ticketStatus: t.status,
    queue: t.queue,
    assigneeId: t.assigneeId,
    patient: t.patientRef,
    claim: d.claimRef,
    adjudication: d.adjudicationRef,
    sourceId: d.sourceId,
    payerClaimNumber: d.payerClaimNumber,
    payerId: d.payerId,
    payerName: d.payerName,
    disputedAmount: minorToMoney(d.disputedAmountMinor, d.currency),
    reasonCategory: d.reasonCategory,
    reasonCodes: d.reasonCodes,
    stage: d.stage,
    adjudicationDate: d.adjudicationDate,
    appealDeadline,
    outcome: d.outcome,
    recoveredAmount: minorToMoney(d.recoveredAmountMinor, d.currency),
    origin: d.origin,
    reversalDetectedAt: d.reversalDetectedAt?.toISOString() ?? null,
    version: d.version,
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
  };
}

function decodeQueueCursor(cursor: string, sort: 'amount' | 'deadline'): { k: string; id: string } {
  try {
    const p = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as {
      s?: unknown;
      k?: unknown;
      id?: unknown;
    };
    if (p.s !== sort || typeof p.k !== 'string' || typeof p.id !== 'string' || !/^[0-9a-f-]{36}$/i.test(p.id))
      throw new Error('bad');
    if (sort === 'amount' ? !/^-?\d{1,18}$/.test(p.k) : p.k !== 'infinity' && Number.isNaN(Date.parse(p.k)))
      throw new Error('bad');
    return { k: p.k, id: p.id };
  } catch {
    throw new ValidationError('Invalid cursor', [
      { field: 'cursor', message: 'pass back the nextCursor of a previous page with the same sort, unchanged' },
    ]);
  }
}

/** Kept under this name for the dispute modules; the timeline has one writer. */
export const appendEvent = appendTicketEvent;

/**
 * One CSV cell (RFC 4180 quoting). A text cell starting with = + - @ (or tab/CR) is prefixed with `'` so
 * spreadsheet programs do not run it as a formula (OWASP CSV injection).
 */
export function csvCell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return String(value);
  const guarded = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(guarded) || guarded !== guarded.trim() ? `"${guarded.replace(/"/g, '""')}"` : guarded;
}

export function csvRow(cells: ReadonlyArray<string | number | null | undefined>): string {
  return cells.map(csvCell).join(',');
}

const CSV_COLUMNS: { header: string; value: (v: FullDisputeView) => string | number | null }[] = [
  { header: 'ticket', value: (v) => v.displayNumber },
  { header: 'ticket_id', value: (v) => v.ticketId },
  { header: 'stage', value: (v) => v.stage },
  { header: 'reason', value: (v) => v.reasonCategory },
  { header: 'claim', value: (v) => v.claim },
  { header: 'adjudication', value: (v) => v.adjudication },
  { header: 'payer_claim_number', value: (v) => v.payerClaimNumber },
  { header: 'payer_id', value: (v) => v.payerId },
  { header: 'payer_name', value: (v) => v.payerName },
  // Amounts as text with the currency's digits, so a spreadsheet keeps "120.50" exact.
  { header: 'disputed_amount', value: (v) => v.disputedAmount?.value ?? null },
  { header: 'currency', value: (v) => v.disputedAmount?.currency ?? null },
  { header: 'appeal_deadline', value: (v) => v.appealDeadline?.deadline ?? null },
  { header: 'deadline_state', value: (v) => v.appealDeadline?.state ?? null },
  { header: 'assignee_id', value: (v) => v.assigneeId },
  { header: 'ticket_status', value: (v) => v.ticketStatus },
  { header: 'outcome', value: (v) => v.outcome },
  { header: 'recovered_amount', value: (v) => v.recoveredAmount?.value ?? null },
];

/** Open (not decided) disputes about one claim or adjudication, for reversal detection. */
export async function openDisputesFor(
  tx: Executor,
  tenantId: string,
  refs: { claimRef?: string | undefined; adjudicationRef?: string | undefined },
): Promise<Dispute[]> {
  const match: SQL[] = [];
  if (refs.claimRef) match.push(eq(dispute.claimRef, refs.claimRef));
  if (refs.adjudicationRef) match.push(eq(dispute.adjudicationRef, refs.adjudicationRef));
  if (match.length === 0) return [];
  return tx
    .select()
    .from(dispute)
    .where(
      and(
        eq(dispute.tenantId, tenantId),
        ne(dispute.stage, 'decided'),
        isNull(dispute.reversalDetectedAt),
        or(...match),
      ),
    );
}
