// Per-tenant hash chain over the audit log (ONC-02: hash = SHA-256(prev_hash ‖ canonical(row))).
//
// Why sealing is deferred: every audited read and write appends an audit row. Chaining inside that
// transaction would need the tenant's chain head locked until commit, serialising every request of a
// tenant behind one row lock. Instead rows are inserted unsealed inside the action's transaction
// (so a failed action leaves no audit row and a committed one always has it), and a sealer assigns
// chain positions and hashes to committed rows in order shortly after. The sealer holds the head row
// lock only for its own short transaction; any number of sealers may run, they serialise on that row.
// A tampered, deleted or reordered sealed row breaks the chain; the unsealed tail is reported.
import { createHash } from 'node:crypto';
import { and, asc, eq, gt, isNull, sql } from 'drizzle-orm';
import type { Database, Executor } from '../db/database';
import { type AuditEventRow, auditEvent, auditHead } from '../db/schema/audit';
import { canonicalJson } from './canonical-json';

export function genesisHash(tenantId: string): string {
  return sha256(`fhirdesk-audit-genesis:${tenantId}`);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

type ChainFields = 'chainPos' | 'prevHash' | 'hash' | 'seq';

/** The immutable content of an audit row, in the canonical form that is hashed. */
export function canonicalAuditRow(row: Omit<AuditEventRow, ChainFields>): string {
  return canonicalJson({
    id: row.id,
    tenantId: row.tenantId,
    occurredAt: row.occurredAt.toISOString(),
    actorId: row.actorId,
    actorKind: row.actorKind,
    actorLabel: row.actorLabel,
    action: row.action,
    entityType: row.entityType,
    entityId: row.entityId,
    patientRef: row.patientRef,
    outcome: row.outcome,
    purpose: row.purpose,
    requestId: row.requestId,
    detail: row.detail,
  });
}

export function chainHash(prevHash: string, row: Omit<AuditEventRow, ChainFields>): string {
  return sha256(`${prevHash}\n${canonicalAuditRow(row)}`);
}

/** Rows hashed between two turns of the event loop while sealing. */
const HASH_SLICE = 32;

/** Seals committed, unsealed rows of one tenant into its chain; returns how many were sealed. */
export async function sealAuditChain(database: Database, tenantId: string, batchSize = 500): Promise<number> {
  return (await sealAuditRows(database, tenantId, { batchSize })).sealed;
}

export interface SealOptions {
  batchSize?: number;
  /**
   * Look only at rows with a higher `seq`. The unsealed-row index keeps an entry for every row sealed since
   * the table's last VACUUM, and a scan from the start of the tenant's range reads them all: with autovacuum
   * behind (or off), 450k of them made each seal read 2,000 index pages (6 ms) while views waited beside it
   * (bench:agent-view, issue #4). A row below the floor that commits later is only found by a seal without
   * one, so callers that pass a floor must also seal without one now and then (AuditSealer does).
   */
  afterSeq?: number;
}

export interface SealResult {
  sealed: number;
  /** Highest `seq` sealed by this call, if it sealed anything. */
  lastSeq: number | null;
}

/** `sealAuditChain` with a floor, reporting how far it got. */
export async function sealAuditRows(
  database: Database,
  tenantId: string,
  options: SealOptions = {},
): Promise<SealResult> {
  const batchSize = options.batchSize ?? 500;
  const unsealed = and(
    eq(auditEvent.tenantId, tenantId),
    isNull(auditEvent.hash),
    options.afterSeq === undefined ? undefined : gt(auditEvent.seq, options.afterSeq),
  );
  let total = 0;
  let lastSeq: number | null = null;
  for (;;) {
    // Five statements in the transaction besides BEGIN/COMMIT at most, four when the head exists: a seal
    // runs a few times a second under load (bench:agent-view, issue #4).
    const sealed = await database.db.transaction(async (tx) => {
      const lockHead = () => tx.select().from(auditHead).where(eq(auditHead.tenantId, tenantId)).for('update');
      let [head] = await lockHead();
      if (!head) {
        await tx
          .insert(auditHead)
          .values({ tenantId, chainPos: 0, hash: genesisHash(tenantId) })
          .onConflictDoNothing();
        [head] = await lockHead();
      }
      if (!head) return 0;
      // A statement of its own after the lock: in READ COMMITTED it sees every row sealed before the lock.
      const rows = await tx.select().from(auditEvent).where(unsealed).orderBy(asc(auditEvent.seq)).limit(batchSize);
      if (rows.length === 0) return 0;
      const batchLast = rows[rows.length - 1]!.seq;
      if (lastSeq === null || batchLast > lastSeq) lastSeq = batchLast;
      let pos = head.chainPos;
      let prev = head.hash;
      const values: { id: string; pos: number; prev: string; hash: string }[] = [];
      for (const [i, row] of rows.entries()) {
        // Hashing a quarter second's rows took 2-3 ms of the event loop the audited requests share: let them
        // in every few dozen rows.
        if (i > 0 && i % HASH_SLICE === 0) await new Promise<void>((resolve) => setImmediate(resolve));
        pos += 1;
        const hash = chainHash(prev, row);
        values.push({ id: row.id, pos, prev, hash });
        prev = hash;
      }
      // The seal commits without waiting for its WAL to reach the disk. The rows it seals were committed
      // durably by their own transactions; a seal lost in a crash is lost whole (rows and head together) and
      // the next seal redoes it. Waiting for that flush put every audited view committing beside it behind
      // the seal's WAL (IO:WALSync, LWLock:WALWrite in pg_stat_activity; bench:agent-view, issue #4).
      await tx.execute(sql`set local synchronous_commit = off`);
      // The rows (one UPDATE for the batch; the append-only trigger allows exactly this change) and the head
      // in one statement: a data-modifying CTE runs to completion whether or not the outer statement reads it.
      // The batch travels as one JSON parameter, so the text is the same for every batch: four parameters per
      // row made a new 500-parameter statement to parse and plan for every seal, and building it stalled the
      // event loop beside the views it audits (bench:agent-view, issue #4).
      await tx.execute(sql`
        with v as (
          select * from jsonb_to_recordset(${JSON.stringify(values)}::jsonb)
            as v(id uuid, pos bigint, prev text, hash text)
        ),
        sealed as (
          update audit_event as a set chain_pos = v.pos, prev_hash = v.prev, hash = v.hash
          from v
          where a.id = v.id and a.hash is null
          returning 1
        )
        update ${auditHead} set chain_pos = ${pos}::bigint, hash = ${prev},
          sealed_at = ${new Date().toISOString()}::timestamptz
        where tenant_id = ${tenantId}`);
      return rows.length;
    });
    total += sealed;
    if (sealed < batchSize) return { sealed: total, lastSeq };
  }
}

export interface ChainBreak {
  chainPos: number;
  auditEventId: string | null;
  reason: 'hash-mismatch' | 'prev-hash-mismatch' | 'missing-position' | 'head-mismatch';
}

export interface ChainVerification {
  ok: boolean;
  /** Sealed rows checked. */
  checked: number;
  /** Committed rows not yet sealed (normally a few, for a few milliseconds). */
  unsealed: number;
  firstBreak: ChainBreak | null;
}

/** Recomputes the tenant's chain from the genesis hash and reports the first broken link. */
export async function verifyAuditChain(
  executor: Executor,
  tenantId: string,
  pageSize = 2000,
): Promise<ChainVerification> {
  let prev = genesisHash(tenantId);
  let expectedPos = 1;
  let checked = 0;
  let lastPos = 0;
  for (;;) {
    const rows = await executor
      .select()
      .from(auditEvent)
      .where(and(eq(auditEvent.tenantId, tenantId), gt(auditEvent.chainPos, lastPos)))
      .orderBy(asc(auditEvent.chainPos))
      .limit(pageSize);
    for (const row of rows) {
      const pos = row.chainPos ?? 0;
      const broken = (reason: ChainBreak['reason']): ChainVerification => ({
        ok: false,
        checked,
        unsealed: -1,
        firstBreak: { chainPos: reason === 'missing-position' ? expectedPos : pos, auditEventId: row.id, reason },
      });
      if (pos !== expectedPos) return withUnsealed(executor, tenantId, broken('missing-position'));
      if (row.prevHash !== prev) return withUnsealed(executor, tenantId, broken('prev-hash-mismatch'));
      const hash = chainHash(prev, row);
      if (hash !== row.hash) return withUnsealed(executor, tenantId, broken('hash-mismatch'));
      prev = hash;
      expectedPos += 1;
      checked += 1;
      lastPos = pos;
    }
    if (rows.length < pageSize) break;
  }
  const [head] = await executor.select().from(auditHead).where(eq(auditHead.tenantId, tenantId));
  // A head ahead of the last row means sealed rows were removed from the end (truncation).
  if (head && (head.chainPos !== checked || head.hash !== prev)) {
    return withUnsealed(executor, tenantId, {
      ok: false,
      checked,
      unsealed: -1,
      firstBreak: { chainPos: checked + 1, auditEventId: null, reason: 'head-mismatch' },
    });
  }
  return withUnsealed(executor, tenantId, { ok: true, checked, unsealed: -1, firstBreak: null });
}

async function withUnsealed(
  executor: Executor,
  tenantId: string,
  result: ChainVerification,
): Promise<ChainVerification> {
  const [row] = await executor
    .select({ n: sql<number>`count(*)::int` })
    .from(auditEvent)
    .where(and(eq(auditEvent.tenantId, tenantId), isNull(auditEvent.hash)));
  return { ...result, unsealed: Number(row?.n ?? 0) };
}
