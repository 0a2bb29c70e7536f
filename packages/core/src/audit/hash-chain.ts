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
import { and, asc, eq, gt, sql } from 'drizzle-orm';
import type { Database, Executor } from '../db/database';
import { type AuditEventRow, auditChain, auditEvent, auditHead } from '../db/schema/audit';
import { canonicalJson } from './canonical-json';

export function genesisHash(tenantId: string): string {
  return sha256(`fhirdesk-audit-genesis:${tenantId}`);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Fields of the row that are not its content: its place in the insert order and its transaction. */
type NonContentFields = 'seq' | 'xid';

/** The immutable content of an audit row, in the canonical form that is hashed. */
export function canonicalAuditRow(row: Omit<AuditEventRow, NonContentFields>): string {
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

export function chainHash(prevHash: string, row: Omit<AuditEventRow, NonContentFields>): string {
  return sha256(`${prevHash}\n${canonicalAuditRow(row)}`);
}

/** Rows hashed between two turns of the event loop while sealing. */
const HASH_SLICE = 32;

/** Seals committed, unsealed rows of one tenant into its chain; returns how many were sealed. */
export async function sealAuditChain(database: Database, tenantId: string, batchSize = 500): Promise<number> {
  let total = 0;
  for (;;) {
    const sealed = await sealBatch(database, tenantId, batchSize);
    total += sealed;
    if (sealed < batchSize) return total;
  }
}

/**
 * One seal transaction: at most `batchSize` rows. Unsealed rows are found without a full scan, and without
 * marking rows in `audit_event`:
 * - each row carries the id of the transaction that inserted it (`xid`);
 * - the head keeps a watermark: every row of the tenant with a lower `xid` is sealed (or was rolled back);
 * - the candidates are the rows at or above the watermark that have no chain row, in `seq` order;
 * - a seal that took every candidate raises the watermark to the oldest transaction still running when it
 *   locked the head (`pg_snapshot_xmin`). Every transaction below that had ended then, so its rows were
 *   visible to the candidate query that followed and are in the chain now; a row that commits later has a
 *   higher `xid`, however early it took its `seq`, and is found by a later seal.
 */
async function sealBatch(database: Database, tenantId: string, batchSize: number): Promise<number> {
  return database.db.transaction(async (tx) => {
    const lockHead = () =>
      tx
        .select({
          chainPos: auditHead.chainPos,
          hash: auditHead.hash,
          watermark: auditHead.watermark,
          // This statement's snapshot: taken before the candidate query's, so a safe (lower) bound for it.
          xmin: sql<string>`pg_snapshot_xmin(pg_current_snapshot())::text`,
        })
        .from(auditHead)
        .where(eq(auditHead.tenantId, tenantId))
        .for('update');
    let [head] = await lockHead();
    if (!head) {
      await tx
        .insert(auditHead)
        .values({ tenantId, chainPos: 0, hash: genesisHash(tenantId) })
        .onConflictDoNothing();
      [head] = await lockHead();
    }
    if (!head) return 0;
    // A statement of its own after the lock: in READ COMMITTED it sees every chain row sealed before the lock.
    const rows = await tx
      .select()
      .from(auditEvent)
      .where(
        and(
          eq(auditEvent.tenantId, tenantId),
          sql`${auditEvent.xid} >= ${head.watermark}::xid8`,
          sql`not exists (select 1 from ${auditChain} c where c.event_id = ${auditEvent.id})`,
        ),
      )
      .orderBy(asc(auditEvent.seq))
      .limit(batchSize);
    // With a full batch there may be more candidates: the watermark waits for the batch that takes the last.
    const watermark = rows.length < batchSize ? head.xmin : head.watermark;
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
    if (rows.length === 0 && watermark === head.watermark) return 0;
    // The seal commits without waiting for its WAL to reach the disk. The rows it seals were committed
    // durably by their own transactions; a seal lost in a crash is lost whole (chain rows, head and watermark
    // together) and the next seal redoes it. Waiting for that flush put every audited view committing beside
    // it behind the seal's WAL (IO:WALSync, LWLock:WALWrite in pg_stat_activity; bench:agent-view, issue #4).
    await tx.execute(sql`set local synchronous_commit = off`);
    // The chain rows and the head in one statement: a data-modifying CTE runs to completion whether or not the
    // outer statement reads it. The batch travels as one JSON parameter, so the text is the same for every
    // seal (a new 500-parameter statement per seal was parsed and planned each time; issue #4).
    await tx.execute(sql`
      with sealed as (
        insert into ${auditChain} (tenant_id, chain_pos, event_id, prev_hash, hash)
        select ${tenantId}::uuid, v.pos, v.id, v.prev, v.hash
        from jsonb_to_recordset(${JSON.stringify(values)}::jsonb) as v(id uuid, pos bigint, prev text, hash text)
        returning 1
      )
      update ${auditHead} set chain_pos = ${pos}::bigint, hash = ${prev},
        watermark = greatest(watermark, ${watermark}::xid8), sealed_at = ${new Date().toISOString()}::timestamptz
      where tenant_id = ${tenantId}`);
    return rows.length;
  });
}

export interface ChainBreak {
  chainPos: number;
  auditEventId: string | null;
  reason: 'hash-mismatch' | 'prev-hash-mismatch' | 'missing-position' | 'missing-event' | 'head-mismatch';
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
    const links = await executor
      .select({ link: auditChain, event: auditEvent })
      .from(auditChain)
      // The event's tenant is part of its hashed content: a row moved to another tenant breaks the link.
      .leftJoin(auditEvent, eq(auditEvent.id, auditChain.eventId))
      .where(and(eq(auditChain.tenantId, tenantId), gt(auditChain.chainPos, lastPos)))
      .orderBy(asc(auditChain.chainPos))
      .limit(pageSize);
    for (const { link, event } of links) {
      const broken = (reason: ChainBreak['reason']): Promise<ChainVerification> =>
        withUnsealed(executor, tenantId, {
          ok: false,
          checked,
          unsealed: -1,
          firstBreak: {
            chainPos: reason === 'missing-position' ? expectedPos : link.chainPos,
            auditEventId: link.eventId,
            reason,
          },
        });
      if (link.chainPos !== expectedPos) return broken('missing-position');
      if (link.prevHash !== prev) return broken('prev-hash-mismatch');
      if (!event) return broken('missing-event');
      const hash = chainHash(prev, event);
      if (hash !== link.hash) return broken('hash-mismatch');
      prev = hash;
      expectedPos += 1;
      checked += 1;
      lastPos = link.chainPos;
    }
    if (links.length < pageSize) break;
  }
  const [head] = await executor.select().from(auditHead).where(eq(auditHead.tenantId, tenantId));
  // A head ahead of the last link means links were removed from the end (truncation).
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

/** Counts every row without a chain row, not only those above the watermark: nothing is taken on trust. */
async function withUnsealed(
  executor: Executor,
  tenantId: string,
  result: ChainVerification,
): Promise<ChainVerification> {
  const [row] = await executor
    .select({ n: sql<number>`count(*)::int` })
    .from(auditEvent)
    .where(
      and(
        eq(auditEvent.tenantId, tenantId),
        sql`not exists (select 1 from ${auditChain} c where c.event_id = ${auditEvent.id})`,
      ),
    );
  return { ...result, unsealed: Number(row?.n ?? 0) };
}
