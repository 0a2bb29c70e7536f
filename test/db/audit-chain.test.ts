// The audit log is append-only and hash-chained per tenant; tampering is detected and located (ONC-01, ONC-02).
import { randomUUID } from 'node:crypto';
import {
  type Actor,
  AuditSealer,
  type Database,
  recordAudit,
  schema,
  sealAuditChain,
  verifyAuditChain,
} from '@fhirdesk/core';
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestTenant, openTestDatabase, usingPostgres } from '../support/db';

let database: Database;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => database.close());

async function tenantWithEvents(n: number): Promise<{ actor: Actor; ids: string[] }> {
  const tenantId = await createTestTenant(database);
  const actor: Actor = { tenantId, userId: randomUUID(), kind: 'user', roles: ['agent'], requestId: 'req-1' };
  for (let i = 0; i < n; i++) {
    await recordAudit(database.db, actor, {
      action: 'ticket.read',
      fhirAction: 'R',
      entityType: 'Ticket',
      entityId: `t${i}`,
      patientRef: 'Patient/1',
      detail: { i },
    });
  }
  await sealAuditChain(database, tenantId, 7); // small batches exercise batch boundaries
  const rows = await database.db
    .select({ id: schema.auditChain.eventId })
    .from(schema.auditChain)
    .where(eq(schema.auditChain.tenantId, tenantId))
    .orderBy(schema.auditChain.chainPos);
  return { actor, ids: rows.map((r) => r.id) };
}

/** The database's own message for a refused statement (drizzle wraps it as the cause of "Failed query"). */
async function refusal(statement: Promise<unknown>): Promise<string> {
  try {
    await statement;
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? cause.message : String(error);
  }
  return 'no error: the statement was accepted';
}

/** What an attacker with table access (bypassing triggers) would do. */
async function tamper(statement: ReturnType<typeof sql>) {
  await database.db.transaction(async (tx) => {
    await tx.execute(sql`set local session_replication_role = replica`);
    await tx.execute(statement);
  });
}

describe('audit hash chain', () => {
  it('seals rows in order and verifies a clean chain', async () => {
    const { actor } = await tenantWithEvents(20);
    const result = await verifyAuditChain(database.db, actor.tenantId, 6);
    expect(result).toEqual({ ok: true, checked: 20, unsealed: 0, firstBreak: null });
  });

  it('keeps chains per tenant independent', async () => {
    const a = await tenantWithEvents(3);
    const b = await tenantWithEvents(4);
    expect((await verifyAuditChain(database.db, a.actor.tenantId)).checked).toBe(3);
    expect((await verifyAuditChain(database.db, b.actor.tenantId)).checked).toBe(4);
  });

  it('refuses UPDATE and DELETE of audit rows and timeline events through the triggers', async () => {
    const { ids } = await tenantWithEvents(2);
    await expect(database.db.execute(sql`update audit_event set action = 'x' where id = ${ids[0]}`)).rejects.toThrow();
    await expect(database.db.execute(sql`delete from audit_event where id = ${ids[0]}`)).rejects.toThrow();
  });

  it('refuses every change to an audit row and to a chain link, sealed or not, even to the same value (ONC-01)', async () => {
    const { actor } = await tenantWithEvents(0);
    const other = await createTestTenant(database);
    await recordAudit(database.db, actor, {
      action: 'ticket.read',
      fhirAction: 'R',
      entityType: 'Ticket',
      entityId: 't1',
      patientRef: 'Patient/1',
      purpose: 'TREAT',
      detail: { i: 1 },
    });
    const [row] = await database.db
      .select({ id: schema.auditEvent.id })
      .from(schema.auditEvent)
      .where(eq(schema.auditEvent.tenantId, actor.tenantId));
    const id = row!.id;
    // Every column the tables have, read from the catalogue, so a column added later is tried too.
    const columnsOf = (table: string) =>
      database.query<{ name: string; type: string }>(sql`
        select column_name as name, data_type as type from information_schema.columns
        where table_schema = current_schema() and table_name = ${table} order by ordinal_position`);
    const changed = (name: string, type: string) => {
      const column = sql.identifier(name);
      if (name === 'tenant_id') return sql`${other}::uuid`;
      if (type === 'uuid') return sql`gen_random_uuid()`;
      if (type === 'bigint' || type === 'integer') return sql`coalesce(${column}, 0) + 1`;
      if (type.startsWith('timestamp')) return sql`${column} + interval '1 second'`;
      if (type === 'jsonb') return sql`${column} || '{"changed":true}'::jsonb`;
      if (type === 'text') return sql`coalesce(${column}, '') || 'x'`;
      if (type === 'xid8') return sql`'1'::xid8`;
      throw new Error(`no test value for ${name} (${type}): add one`);
    };
    const tryEveryColumn = async (table: string, where: ReturnType<typeof sql>, state: string) => {
      const columns = await columnsOf(table);
      for (const c of columns) {
        const error = await refusal(
          database.db.execute(
            sql`update ${sql.identifier(table)} set ${sql.identifier(c.name)} = ${changed(c.name, c.type)} where ${where}`,
          ),
        );
        expect(error, `change of ${table}.${c.name} on ${state}`).toMatch(/cannot be changed/);
      }
      return columns.length;
    };
    expect(await tryEveryColumn('audit_event', sql`id = ${id}`, 'an unsealed row')).toBeGreaterThanOrEqual(15);
    expect(await refusal(database.db.execute(sql`update audit_event set action = action where id = ${id}`))).toMatch(
      /cannot be changed/,
    );
    expect(await sealAuditChain(database, actor.tenantId)).toBe(1);
    expect(await verifyAuditChain(database.db, actor.tenantId)).toMatchObject({ ok: true, checked: 1 });
    await tryEveryColumn('audit_event', sql`id = ${id}`, 'a sealed row');
    expect(await tryEveryColumn('audit_chain', sql`event_id = ${id}`, 'a chain link')).toBe(5);
    expect(await refusal(database.db.execute(sql`delete from audit_event where id = ${id}`))).toMatch(
      /audit_event is append-only/,
    );
    expect(await refusal(database.db.execute(sql`delete from audit_chain where event_id = ${id}`))).toMatch(
      /audit_chain is append-only/,
    );
    expect(await verifyAuditChain(database.db, actor.tenantId)).toMatchObject({ ok: true, checked: 1 });
  });

  it("refuses an audit row written with another transaction's id, which would hide it below the watermark", async () => {
    const { actor } = await tenantWithEvents(1);
    const error = await refusal(
      database.db.execute(sql`
        insert into audit_event (id, tenant_id, occurred_at, actor_kind, action, entity_type, outcome, xid)
        values (gen_random_uuid(), ${actor.tenantId}, now(), 'user', 'ticket.read', 'Ticket', 'success', '1')`),
    );
    expect(error).toMatch(/audit_event_xid_ck/);
    expect(await verifyAuditChain(database.db, actor.tenantId)).toMatchObject({ ok: true, checked: 1, unsealed: 0 });
  });

  it('detects a modified row and names it as the first broken link', async () => {
    const { actor, ids } = await tenantWithEvents(10);
    // The xid check (audit_event_xid_ck) holds for any write, so the attacker sets it too; it is not hashed.
    await tamper(
      sql`update audit_event set patient_ref = 'Patient/2', xid = pg_current_xact_id() where id = ${ids[4]}`,
    );
    const result = await verifyAuditChain(database.db, actor.tenantId);
    expect(result.ok).toBe(false);
    expect(result.firstBreak).toEqual({ chainPos: 5, auditEventId: ids[4], reason: 'hash-mismatch' });
  });

  it('detects a deleted row, a deleted link in the middle and a truncated tail', async () => {
    const row = await tenantWithEvents(6);
    await tamper(sql`delete from audit_event where id = ${row.ids[2]}`);
    expect((await verifyAuditChain(database.db, row.actor.tenantId)).firstBreak).toEqual({
      chainPos: 3,
      auditEventId: row.ids[2],
      reason: 'missing-event',
    });
    const mid = await tenantWithEvents(6);
    await tamper(sql`delete from audit_chain where event_id = ${mid.ids[2]}`);
    expect(await verifyAuditChain(database.db, mid.actor.tenantId)).toMatchObject({
      ok: false,
      unsealed: 1,
      firstBreak: { chainPos: 3, reason: 'missing-position' },
    });
    const tail = await tenantWithEvents(6);
    await tamper(sql`delete from audit_chain where event_id = ${tail.ids[5]}`);
    expect((await verifyAuditChain(database.db, tail.actor.tenantId)).firstBreak).toMatchObject({
      chainPos: 6,
      reason: 'head-mismatch',
    });
  });

  it('reports committed but unsealed rows, and seals them on the next run', async () => {
    const { actor } = await tenantWithEvents(2);
    await recordAudit(database.db, actor, { action: 'ticket.read', fhirAction: 'R', entityType: 'Ticket' });
    expect(await verifyAuditChain(database.db, actor.tenantId)).toMatchObject({ ok: true, checked: 2, unsealed: 1 });
    expect(await sealAuditChain(database, actor.tenantId)).toBe(1);
    expect(await verifyAuditChain(database.db, actor.tenantId)).toMatchObject({ ok: true, checked: 3, unsealed: 0 });
  });

  it('writes a large batch (one JSON parameter) exactly as one-by-one rows, in list order, and seals it (AUD-07)', async () => {
    const { actor } = await tenantWithEvents(0);
    const integration: Actor = { ...actor, userId: null, kind: 'integration', label: 'source:x', requestId: 'run-1' };
    const entries = Array.from({ length: 40 }, (_, i) => ({
      action: 'connector.sync',
      fhirAction: 'R' as const,
      entityType: 'Source',
      entityId: 'src-1',
      patientRef: `Patient/p${String(i).padStart(2, '0')}`,
      ...(i % 3 === 0 ? { purpose: 'TREAT', outcome: 'failure' as const } : {}),
      detail: { runId: 'run-1', page: i, mode: 'incremental' },
    }));
    const at = new Date('2026-11-20T10:11:12.345Z');
    await recordAudit(database.db, integration, entries, at);
    for (const e of entries.slice(0, 3)) await recordAudit(database.db, integration, e, at);
    const rows = await database.db
      .select()
      .from(schema.auditEvent)
      .where(eq(schema.auditEvent.tenantId, actor.tenantId))
      .orderBy(schema.auditEvent.seq);
    expect(rows.length).toBe(43);
    const strip = ({ id: _i, seq: _s, xid: _x, ...rest }: (typeof rows)[number]) => rest;
    // The batch rows equal the rows the one-entry (drizzle) path writes for the same entries.
    expect(rows.slice(0, 3).map(strip)).toEqual(rows.slice(40).map(strip));
    expect(rows.slice(0, 40).map((r) => r.patientRef)).toEqual(entries.map((e) => e.patientRef));
    expect(rows[0]).toMatchObject({
      actorId: null,
      actorKind: 'integration',
      actorLabel: 'source:x',
      requestId: 'run-1',
      occurredAt: at,
      outcome: 'failure',
      purpose: 'TREAT',
      detail: { fhirAction: 'R', runId: 'run-1', page: 0, mode: 'incremental' },
    });
    expect(new Set(rows.map((r) => r.id)).size).toBe(43);
    expect(await sealAuditChain(database, actor.tenantId)).toBe(43);
    expect(await verifyAuditChain(database.db, actor.tenantId)).toMatchObject({ ok: true, checked: 43 });
  });

  it('never double-seals when sealers race', async () => {
    const { actor } = await tenantWithEvents(0);
    for (let i = 0; i < 30; i++)
      await recordAudit(database.db, actor, { action: 'ticket.read', fhirAction: 'R', entityType: 'Ticket' });
    const sealed = await Promise.all([
      sealAuditChain(database, actor.tenantId, 5),
      sealAuditChain(database, actor.tenantId, 5),
      sealAuditChain(database, actor.tenantId, 5),
    ]);
    expect(sealed.reduce((a, b) => a + b, 0)).toBe(30);
    expect(await verifyAuditChain(database.db, actor.tenantId)).toMatchObject({ ok: true, checked: 30 });
    const positions = await database.db
      .select({ n: sql<number>`count(distinct chain_pos)::int` })
      .from(schema.auditChain)
      .where(and(eq(schema.auditChain.tenantId, actor.tenantId)));
    expect(Number(positions[0]!.n)).toBe(30);
  });

  // PGlite runs one transaction at a time: a transaction held open beside a seal needs PostgreSQL.
  it.runIf(usingPostgres())(
    'a row whose transaction commits after later rows were sealed is sealed by the next scheduled seal',
    async () => {
      const { actor } = await tenantWithEvents(0);
      const read = () =>
        recordAudit(database.db, actor, { action: 'ticket.read', fhirAction: 'R', entityType: 'Ticket' });
      const sealer = new AuditSealer(database, { delayMs: 1 });
      await read();
      let commitLate!: () => void;
      const lateCommitted = database.db.transaction(async (tx) => {
        // Takes its seq and xid now, commits only after the rows below were sealed.
        await recordAudit(tx, actor, {
          action: 'ticket.read',
          fhirAction: 'R',
          entityType: 'Ticket',
          entityId: 'late',
        });
        await new Promise<void>((resolve) => {
          commitLate = resolve;
        });
      });
      await vi.waitFor(() => expect(commitLate).toBeTypeOf('function'));
      for (let i = 0; i < 3; i++) await read();
      expect(await sealer.sealNow(actor.tenantId)).toBe(4);
      expect(await sealer.sealNow(actor.tenantId)).toBe(0);
      commitLate();
      await lateCommitted;
      await read();
      sealer.schedule(actor.tenantId);
      await vi.waitFor(async () =>
        expect(await verifyAuditChain(database.db, actor.tenantId)).toMatchObject({
          ok: true,
          checked: 6,
          unsealed: 0,
        }),
      );
      const chain = await database.db
        .select({ entityId: schema.auditEvent.entityId })
        .from(schema.auditChain)
        .innerJoin(schema.auditEvent, eq(schema.auditEvent.id, schema.auditChain.eventId))
        .where(eq(schema.auditChain.tenantId, actor.tenantId))
        .orderBy(schema.auditChain.chainPos);
      // The late row after the four sealed without it, and before the read that followed its commit (seq order).
      expect(chain.map((l) => l.entityId)).toEqual([null, null, null, null, 'late', null]);
    },
  );

  it('after a seal that took every row, puts the watermark past every row written so far', async () => {
    const { actor } = await tenantWithEvents(3);
    const [head] = await database.query<{ watermark: string }>(sql`
      select watermark::text as watermark from audit_head where tenant_id = ${actor.tenantId}`);
    const [rows] = await database.query<{ max: string }>(sql`
      select max(xid)::text as max from audit_event where tenant_id = ${actor.tenantId}`);
    expect(BigInt(head!.watermark)).toBeGreaterThan(BigInt(rows!.max));
  });
});
