// The audit log is append-only and hash-chained per tenant; tampering is detected and located (ONC-01, ONC-02).
import { randomUUID } from 'node:crypto';
import { type Actor, type Database, recordAudit, schema, sealAuditChain, verifyAuditChain } from '@fhirdesk/core';
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTenant, openTestDatabase } from '../support/db';

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
    .select({ id: schema.auditEvent.id })
    .from(schema.auditEvent)
    .where(eq(schema.auditEvent.tenantId, tenantId))
    .orderBy(schema.auditEvent.chainPos);
  return { actor, ids: rows.map((r) => r.id) };
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

  it('detects a modified row and names it as the first broken link', async () => {
    const { actor, ids } = await tenantWithEvents(10);
    await tamper(sql`update audit_event set patient_ref = 'Patient/2' where id = ${ids[4]}`);
    const result = await verifyAuditChain(database.db, actor.tenantId);
    expect(result.ok).toBe(false);
    expect(result.firstBreak).toEqual({ chainPos: 5, auditEventId: ids[4], reason: 'hash-mismatch' });
  });

  it('detects a deleted row in the middle and a truncated tail', async () => {
    const mid = await tenantWithEvents(6);
    await tamper(sql`delete from audit_event where id = ${mid.ids[2]}`);
    expect((await verifyAuditChain(database.db, mid.actor.tenantId)).firstBreak).toMatchObject({
      chainPos: 3,
      reason: 'missing-position',
    });
    const tail = await tenantWithEvents(6);
    await tamper(sql`delete from audit_event where id = ${tail.ids[5]}`);
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
    const strip = ({ id: _i, seq: _s, ...rest }: (typeof rows)[number]) => rest;
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
      .from(schema.auditEvent)
      .where(and(eq(schema.auditEvent.tenantId, actor.tenantId)));
    expect(Number(positions[0]!.n)).toBe(30);
  });
});
