// Claim disputes (issue 5): one `dispute` row per `claim-dispute` ticket, holding what billing works on.
import { sql } from 'drizzle-orm';
import { bigint, check, index, integer, jsonb, pgTable, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';
import { DISPUTE_OUTCOMES, DISPUTE_STAGES, type DisputeOutcome, type DisputeStage } from '../../disputes/dispute-stage';
import { sqlList } from './enums';
import { source } from './sources';
import { tenant } from './tenants';
import { ticket } from './tickets';

const tstz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/**
 * Reason categories, mirrored from disputes/dispute-reason.ts (`DISPUTE_REASON_CATEGORIES`); that module
 * loads the CARC tables, which drizzle-kit cannot import. A unit test keeps the two lists equal.
 */
export const disputeReasonCategoryList = [
  'denied',
  'underpaid',
  'patient-responsibility-question',
  'coordination-of-benefits',
  'duplicate',
  'eligibility',
] as const;

export const disputeOrigins = ['manual', 'auto'] as const;
export type DisputeOrigin = (typeof disputeOrigins)[number];

export const dispute = pgTable(
  'dispute',
  {
    ticketId: uuid('ticket_id')
      .primaryKey()
      .references(() => ticket.id),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenant.id),
    /** Relative references (`Claim/123`); FIN-11: a Claim may be missing when the EHR does not expose it. */
    claimRef: text('claim_ref'),
    /** The ExplanationOfBenefit or ClaimResponse the dispute is about. */
    adjudicationRef: text('adjudication_ref'),
    sourceId: uuid('source_id').references(() => source.id),
    payerClaimNumber: text('payer_claim_number'),
    payerId: text('payer_id'),
    payerName: text('payer_name'),
    /** VIEW-03: integer minor units with the currency, never a float. */
    disputedAmountMinor: bigint('disputed_amount_minor', { mode: 'number' }),
    currency: text('currency').notNull().default('USD'),
    reasonCategory: text('reason_category').notNull(),
    /** CARC/RARC codes and denial signals behind the reason (codes only, no values). */
    reasonCodes: jsonb('reason_codes').$type<DisputeReasonCodes>().notNull().default({}),
    stage: text('stage').$type<DisputeStage>().notNull().default('intake'),
    adjudicationDate: text('adjudication_date'),
    appealDeadline: tstz('appeal_deadline'),
    appealPolicy: text('appeal_policy'),
    outcome: text('outcome').$type<DisputeOutcome>(),
    recoveredAmountMinor: bigint('recovered_amount_minor', { mode: 'number' }),
    /** One ticket per claim and reason (tenant-unique). */
    dedupeKey: text('dedupe_key').notNull(),
    origin: text('origin').$type<DisputeOrigin>().notNull().default('manual'),
    /** Set once when a later adjudication shows the claim paid; the resolution is proposed, not applied. */
    reversalDetectedAt: tstz('reversal_detected_at'),
    createdAt: tstz('created_at').notNull(),
    updatedAt: tstz('updated_at').notNull(),
    version: integer('version').notNull().default(1),
  },
  (t) => [
    unique('dispute_dedupe_uq').on(t.tenantId, t.dedupeKey),
    // Work queue: by tenant and stage, ordered by deadline or amount.
    index('dispute_queue_deadline_idx').on(t.tenantId, t.stage, t.appealDeadline, t.ticketId),
    index('dispute_queue_amount_idx').on(t.tenantId, t.disputedAmountMinor, t.ticketId),
    index('dispute_claim_idx').on(t.tenantId, t.claimRef),
    index('dispute_adjudication_idx').on(t.tenantId, t.adjudicationRef),
    check(
      'dispute_subject_ck',
      sql`claim_ref IS NOT NULL OR adjudication_ref IS NOT NULL OR payer_claim_number IS NOT NULL`,
    ),
    check('dispute_stage_ck', sql.raw(`stage IN (${sqlList(DISPUTE_STAGES)})`)),
    check('dispute_outcome_ck', sql.raw(`outcome IS NULL OR outcome IN (${sqlList(DISPUTE_OUTCOMES)})`)),
    check('dispute_reason_ck', sql.raw(`reason_category IN (${sqlList(disputeReasonCategoryList)})`)),
    check('dispute_origin_ck', sql.raw(`origin IN (${sqlList(disputeOrigins)})`)),
    check('dispute_amount_ck', sql`disputed_amount_minor IS NULL OR disputed_amount_minor >= 0`),
  ],
);

export interface DisputeReasonCodes {
  carcs?: string[];
  rarcs?: string[];
  signals?: string[];
}

export type Dispute = typeof dispute.$inferSelect;
