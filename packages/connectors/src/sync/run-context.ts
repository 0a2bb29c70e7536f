// Shared state of one sync run: the source, its HTTP client, counters, and the per-page transaction that
// writes resources, dead letters, deletions, the checkpoint, run counters and audit rows together (INC-03).
import { type Actor, type AuditEntry, type Database, recordAudit, schema } from '@fhirdesk/core';
import { and, eq, sql } from 'drizzle-orm';
import type { SourceConfig } from '../config/source-config';
import type { SourceCapabilities } from '../discovery';
import type { FhirHttp } from '../http/fhir-http';
import type { Sleep } from '../http/limiter';
import { type CacheItem, type DeletionMark, markDeleted, prepareResources, writePrepared } from './cache-writer';

const { syncCheckpoint, syncDeadLetter, syncRun } = schema;

export type SyncMode = schema.SyncMode;

/** pino-compatible subset; never given PHI, tokens or keys. */
export interface ConnectorLogger {
  info(obj: Record<string, unknown>, msg?: string): void;
  warn(obj: Record<string, unknown>, msg?: string): void;
}

export interface SyncHooks {
  /** Called inside each page transaction just before commit; throwing rolls the page back (crash tests). */
  beforePageCommit?(info: { runId: string; scope: string; page: number }): void | Promise<void>;
}

export interface SyncCounts {
  fetched: number;
  inserted: number;
  updated: number;
  unchanged: number;
  deadLettered: number;
  deleted: number;
  pages: number;
  retries: number;
}

export interface DeadLetterItem {
  reason: string;
  resourceType?: string | undefined;
  resourceId?: string | undefined;
  payload: unknown;
}

export interface CheckpointState {
  since: string | null;
  passStartedAt: string | null;
  cursor: string | null;
}

export interface PageWrite {
  scope?: string | undefined;
  pageUrl: string;
  fetched: number;
  items: CacheItem[];
  deadLetters: DeadLetterItem[];
  deletions?: DeletionMark[];
  deletedAt?: Date;
  checkpoint?: CheckpointState;
  warnings?: string[];
  /** False for bookkeeping writes (a closing checkpoint) that carry no page of data. */
  countsAsPage?: boolean;
}

export class RunContext {
  readonly counts: SyncCounts = {
    fetched: 0,
    inserted: 0,
    updated: 0,
    unchanged: 0,
    deadLettered: 0,
    deleted: 0,
    pages: 0,
    retries: 0,
  };
  readonly warnings: string[] = [];
  private flushedRetries = 0;
  private readonly warned = new Set<string>();

  constructor(
    readonly database: Database,
    readonly tenantId: string,
    readonly sourceId: string,
    readonly runId: string,
    readonly mode: SyncMode,
    readonly config: SourceConfig,
    readonly http: FhirHttp,
    readonly capabilities: SourceCapabilities,
    readonly actor: Actor,
    readonly sleep: Sleep,
    readonly now: () => Date,
    readonly logger: ConnectorLogger | undefined,
    readonly hooks: SyncHooks | undefined,
  ) {}

  get signal(): AbortSignal | undefined {
    return this.http.signal;
  }

  async loadCheckpoint(scope: string): Promise<CheckpointState | undefined> {
    const rows = await this.database.db
      .select()
      .from(syncCheckpoint)
      .where(
        and(
          eq(syncCheckpoint.tenantId, this.tenantId),
          eq(syncCheckpoint.sourceId, this.sourceId),
          eq(syncCheckpoint.scope, scope),
        ),
      );
    const row = rows[0];
    return row ? { since: row.since, passStartedAt: row.passStartedAt, cursor: row.cursor } : undefined;
  }

  /** Records a run warning (in `sync_run.warnings` and the summary) at most once per run. */
  async warnOnce(message: string): Promise<void> {
    if (this.warned.has(message)) return;
    this.warned.add(message);
    this.logger?.warn({ sourceId: this.sourceId, runId: this.runId }, message);
    await this.commitPage({
      pageUrl: 'warning',
      fetched: 0,
      items: [],
      deadLetters: [],
      warnings: [message],
      countsAsPage: false,
    });
  }

  /** One transaction: resources, dead letters, deletions, checkpoint, run counters, audit (INC-03, AUD-07). */
  async commitPage({ items, ...page }: PageWrite): Promise<void> {
    // Before the transaction and before any await: from here on the parsed resources are garbage (see
    // prepareResources), so `items` must not be used below.
    const prepared = prepareResources(items);
    const fetchedAt = this.now();
    const pageNo = this.counts.pages + 1;
    // Taken before the transaction so concurrent slices never count the same retry twice.
    const retries = this.http.retries - this.flushedRetries;
    this.flushedRetries = this.http.retries;
    const delta = await this.database.db.transaction(async (tx) => {
      const written = await writePrepared(
        tx,
        { tenantId: this.tenantId, sourceId: this.sourceId },
        prepared,
        fetchedAt,
      );
      const deleted =
        page.deletions && page.deletions.length > 0
          ? await markDeleted(
              tx,
              { tenantId: this.tenantId, sourceId: this.sourceId },
              page.deletions,
              page.deletedAt ?? fetchedAt,
            )
          : 0;
      const d = {
        fetched: page.fetched,
        inserted: written.inserted,
        updated: written.updated,
        unchanged: written.unchanged,
        deadLettered: page.deadLetters.length,
        deleted,
        retries,
      };
      // The remaining statements do not depend on each other: issued together, they travel pipelined on
      // postgres.js (one wait instead of four per page); PGlite runs them one after another.
      const statements: Promise<unknown>[] = [];
      if (page.deadLetters.length > 0) {
        statements.push(
          tx.insert(syncDeadLetter).values(
            page.deadLetters.map((d) => ({
              tenantId: this.tenantId,
              sourceId: this.sourceId,
              runId: this.runId,
              resourceType: d.resourceType ?? null,
              resourceId: d.resourceId ?? null,
              reason: d.reason,
              pageUrl: page.pageUrl,
              payload: (d.payload ?? null) as Record<string, unknown> | null,
              createdAt: fetchedAt,
            })),
          ),
        );
      }
      if (page.scope && page.checkpoint) {
        const values = { ...page.checkpoint, updatedAt: fetchedAt };
        statements.push(
          tx
            .insert(syncCheckpoint)
            .values({ tenantId: this.tenantId, sourceId: this.sourceId, scope: page.scope, ...values })
            .onConflictDoUpdate({
              target: [syncCheckpoint.tenantId, syncCheckpoint.sourceId, syncCheckpoint.scope],
              set: values,
            }),
        );
      }
      statements.push(
        tx
          .update(syncRun)
          .set({
            fetched: sql`${syncRun.fetched} + ${d.fetched}`,
            inserted: sql`${syncRun.inserted} + ${d.inserted}`,
            updated: sql`${syncRun.updated} + ${d.updated}`,
            unchanged: sql`${syncRun.unchanged} + ${d.unchanged}`,
            deadLettered: sql`${syncRun.deadLettered} + ${d.deadLettered}`,
            deleted: sql`${syncRun.deleted} + ${d.deleted}`,
            pages: sql`${syncRun.pages} + ${page.countsAsPage === false ? 0 : 1}`,
            retries: sql`${syncRun.retries} + ${d.retries}`,
            heartbeatAt: fetchedAt,
            ...(page.warnings && page.warnings.length > 0
              ? { warnings: sql`${syncRun.warnings} || ${JSON.stringify(page.warnings)}::jsonb` }
              : {}),
          })
          .where(eq(syncRun.id, this.runId)),
      );
      // AUD-07: one event per patient per batch, client agent, no human user.
      const entries: AuditEntry[] = written.patientIds.map((patientId) => ({
        action: 'connector.sync',
        fhirAction: 'R',
        entityType: 'Source',
        entityId: this.sourceId,
        patientRef: `Patient/${patientId}`,
        detail: { runId: this.runId, mode: this.mode, page: pageNo },
      }));
      if (entries.length > 0) statements.push(recordAudit(tx, this.actor, entries, fetchedAt));
      // Wait for all of them before failing, so the rollback never overtakes a statement still in flight.
      const failed = (await Promise.allSettled(statements)).find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
      await this.hooks?.beforePageCommit?.({ runId: this.runId, scope: page.scope ?? '', page: pageNo });
      return d;
    });
    this.counts.fetched += delta.fetched;
    this.counts.inserted += delta.inserted;
    this.counts.updated += delta.updated;
    this.counts.unchanged += delta.unchanged;
    this.counts.deadLettered += delta.deadLettered;
    this.counts.deleted += delta.deleted;
    this.counts.retries += delta.retries;
    if (page.countsAsPage !== false) this.counts.pages++;
    if (page.warnings) this.warnings.push(...page.warnings);
  }
}
