import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  check,
  customType,
  index,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
  uuid,
} from 'drizzle-orm/pg-core';
import { type ActorKind, type AuditOutcome, actorKinds, auditOutcomes, sqlList } from './enums';
import { tenant } from './tenants';

/** PostgreSQL's 64-bit transaction id, as its decimal text. */
const xid8 = customType<{ data: string; driverData: string }>({ dataType: () => 'xid8' });

/**
 * Append-only audit log. Rows are written inside the transaction of the action they record and
 * sealed into a per-tenant hash chain shortly after (see audit/hash-chain.ts for why sealing is
 * deferred); the chain is kept in `audit_chain`, so rows are never updated. Triggers refuse every UPDATE and
 * DELETE on both tables (migration 0011).
 */
export const auditEvent = pgTable(
  'audit_event',
  {
    id: uuid('id').primaryKey(),
    seq: bigserial('seq', { mode: 'number' }).notNull(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenant.id),
    occurredAt: timestamp('occurred_at', { withTimezone: true, mode: 'date' }).notNull(),
    actorId: uuid('actor_id'),
    actorKind: text('actor_kind').$type<ActorKind>().notNull(),
    /** Client id or integration name for non-human actors; never a person's name. */
    actorLabel: text('actor_label'),
    action: text('action').notNull(),
    entityType: text('entity_type').notNull(),
    entityId: text('entity_id'),
    patientRef: text('patient_ref'),
    outcome: text('outcome').$type<AuditOutcome>().notNull(),
    purpose: text('purpose'),
    requestId: text('request_id'),
    /** Minimal detail: identifiers and codes only, never names or free text (AUD-05). */
    detail: jsonb('detail').$type<Record<string, unknown>>().notNull().default({}),
    /** The inserting transaction (`pg_current_xact_id()`): what the sealer's watermark is compared with. */
    xid: xid8('xid').notNull().default(sql`pg_current_xact_id()`),
  },
  (t) => [
    index('audit_event_tenant_time_idx').on(t.tenantId, t.occurredAt),
    index('audit_event_xid_idx').on(t.tenantId, t.xid),
    index('audit_event_patient_idx').on(t.tenantId, t.patientRef, t.occurredAt),
    check('audit_event_actor_ck', sql.raw(`actor_kind IN (${sqlList(actorKinds)})`)),
    check('audit_event_outcome_ck', sql.raw(`outcome IN (${sqlList(auditOutcomes)})`)),
  ],
);

/** Head of each tenant's chain; its row lock serialises sealers. */
export const auditHead = pgTable('audit_head', {
  tenantId: uuid('tenant_id')
    .primaryKey()
    .references(() => tenant.id),
  chainPos: bigint('chain_pos', { mode: 'number' }).notNull().default(0),
  hash: text('hash').notNull(),
  sealedAt: timestamp('sealed_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  /** Every row of the tenant whose `xid` is below this is sealed (or was rolled back). */
  watermark: xid8('watermark').notNull().default(sql`'0'::xid8`),
});

/**
 * The chain itself, one row per sealed audit row: sealing inserts here instead of updating `audit_event`.
 * No foreign keys: each would cost a check per sealed row, and the chain is verified by hashing anyway.
 */
export const auditChain = pgTable(
  'audit_chain',
  {
    tenantId: uuid('tenant_id').notNull(),
    chainPos: bigint('chain_pos', { mode: 'number' }).notNull(),
    eventId: uuid('event_id').notNull(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [
    primaryKey({ name: 'audit_chain_pk', columns: [t.tenantId, t.chainPos] }),
    unique('audit_chain_event_uq').on(t.eventId),
  ],
);

export type AuditEventRow = typeof auditEvent.$inferSelect;
