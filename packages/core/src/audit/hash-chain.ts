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

/** Seals committed, unsealed rows of one tenant into its chain; returns how many were sealed. */
export async function sealAuditChain(database: Database, tenantId: string, batchSize = 500): Promise<number> {
  let total = 0;
  for (;;) {
    // Four statements in the transaction besides BEGIN/COMMIT at most, three when the head exists: a seal
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
      const rows = await tx
        .select()
        .from(auditEvent)
        .where(and(eq(auditEvent.tenantId, tenantId), isNull(auditEvent.hash)))
        .orderBy(asc(auditEvent.seq))
        .limit(batchSize);
      if (rows.length === 0) return 0;
      let pos = head.chainPos;
      let prev = head.hash;
      const values: { id: string; pos: number; prev: string; hash: string }[] = [];
      for (const row of rows) {
        pos += 1;
        const hash = chainHash(prev, row);
        values.push({ id: row.id, pos, prev, hash });
        prev = hash;
      }
      // The rows (one UPDATE for the batch; the append-only trigger allows exactly this change) and the head
      // in one statement: a data-modifying CTE runs to completion whether or not the outer statement reads it.
      const list = sql.join(
        values.map((v) => sql`(${v.id}::uuid, ${v.pos}::bigint, ${v.prev}, ${v.hash})`),
        sql`, `,
      );
      await tx.execute(sql`
        with sealed as (
          update audit_event as a set chain_pos = v.pos, prev_hash = v.prev, hash = v.hash
          from (values ${list}) as v(id, pos, prev, hash)
          where a.id = v.id and a.hash is null
          returning 1
        )
        update ${auditHead} set chain_pos = ${pos}::bigint, hash = ${prev},
          sealed_at = ${new Date().toISOString()}::timestamptz
        where tenant_id = ${tenantId}`);
      return rows.length;
    });
    total += sealed;
    if (sealed < batchSize) return total;
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
