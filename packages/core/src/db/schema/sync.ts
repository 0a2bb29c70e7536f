import { sql } from 'drizzle-orm';
import {
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { sqlList } from './enums';
import { source } from './sources';
import { tenant } from './tenants';

const tstz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** `reconcile` lists every id at the source and marks cached ones it no longer has as deleted. */
export const syncModes = ['incremental', 'patient', 'bulk', 'reconcile'] as const;
export type SyncMode = (typeof syncModes)[number];

export const syncRunStatuses = ['running', 'succeeded', 'failed', 'aborted'] as const;
export type SyncRunStatus = (typeof syncRunStatuses)[number];

/** One execution of a connector against a source; counts are cumulative and updated per page. */
export const syncRun = pgTable(
  'sync_run',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenant.id),
    sourceId: uuid('source_id')
      .notNull()
      .references(() => source.id),
    mode: text('mode').$type<SyncMode>().notNull(),
    status: text('status').$type<SyncRunStatus>().notNull().default('running'),
    startedAt: tstz('started_at').notNull(),
    finishedAt: tstz('finished_at'),
    /** Refreshed on every page; a `running` run whose heartbeat is stale was left by a dead worker. */
    heartbeatAt: tstz('heartbeat_at').notNull(),
    fetched: integer('fetched').notNull().default(0),
    inserted: integer('inserted').notNull().default(0),
    updated: integer('updated').notNull().default(0),
    unchanged: integer('unchanged').notNull().default(0),
    deadLettered: integer('dead_lettered').notNull().default(0),
    deleted: integer('deleted').notNull().default(0),
    pages: integer('pages').notNull().default(0),
    retries: integer('retries').notNull().default(0),
    /** Safe reason only (status, issue codes); never PHI, tokens or assertions. */
    error: text('error'),
    /** Warnings surfaced from searchset OperationOutcomes and Bulk error files (REST-04, BULK-04). */
    warnings: jsonb('warnings').$type<string[]>().notNull().default([]),
    /** Patient id when mode = patient. */
    patientId: text('patient_id'),
  },
  (t) => [
    index('sync_run_source_idx').on(t.tenantId, t.sourceId, t.startedAt.desc()),
    // The lease: one running source-wide run per source, on PostgreSQL and PGlite alike (pg-boss cannot run
    // on PGlite). Patient refreshes are small and idempotent, so they may overlap.
    uniqueIndex('sync_run_one_running_uq')
      .on(t.tenantId, t.sourceId)
      .where(sql`status = 'running' AND mode <> 'patient'`),
    check('sync_run_mode_ck', sql.raw(`mode IN (${sqlList(syncModes)})`)),
    check('sync_run_status_ck', sql.raw(`status IN (${sqlList(syncRunStatuses)})`)),
  ],
);

/**
 * Where the next run resumes, per source and resource type (scope `*` for Bulk). Updated in the same
 * transaction as the page it follows (INC-03). `since` is server time (INC-01); `cursor` is the opaque
 * next link (or iterated patient id) of a pass still in progress; `passStartedAt` becomes `since` when
 * the pass completes.
 */
export const syncCheckpoint = pgTable(
  'sync_checkpoint',
  {
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenant.id),
    sourceId: uuid('source_id')
      .notNull()
      .references(() => source.id),
    scope: text('scope').notNull(),
    since: text('since'),
    passStartedAt: text('pass_started_at'),
    cursor: text('cursor'),
    updatedAt: tstz('updated_at').notNull(),
  },
  (t) => [primaryKey({ name: 'sync_checkpoint_pk', columns: [t.tenantId, t.sourceId, t.scope] })],
);

/** Resources that were not valid FHIR for their type; kept for integration engineers, never retried silently. */
export const syncDeadLetter = pgTable(
  'sync_dead_letter',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenant.id),
    sourceId: uuid('source_id')
      .notNull()
      .references(() => source.id),
    runId: uuid('run_id').references(() => syncRun.id),
    resourceType: text('resource_type'),
    resourceId: text('resource_id'),
    reason: text('reason').notNull(),
    /** The page or NDJSON file URL the item came from. */
    pageUrl: text('page_url'),
    payload: jsonb('payload'),
    createdAt: tstz('created_at').notNull(),
  },
  (t) => [index('sync_dead_letter_source_idx').on(t.tenantId, t.sourceId, t.createdAt)],
);

export type SyncRun = typeof syncRun.$inferSelect;
export type SyncCheckpoint = typeof syncCheckpoint.$inferSelect;
export type SyncDeadLetter = typeof syncDeadLetter.$inferSelect;
