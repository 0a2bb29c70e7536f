// Migrations 0010/0011 move every existing chain out of audit_event into audit_chain: a database sealed the old
// way (chain columns on the row, migration 0009's guard) verifies unchanged afterwards, and its unsealed rows
// are sealed after the moved links (ONC-01, ONC-02). Runs on embedded PGlite, with the same migration files.
import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import {
  chainHash,
  type Database,
  genesisHash,
  migrationsFolder,
  openDatabase,
  sealAuditChain,
  verifyAuditChain,
} from '@fhirdesk/core';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const LAST_OLD = 9; // 0009_audit_guard_when: the last migration with the chain on audit_event
const work = mkdtempSync(join(tmpdir(), 'fhirdesk-chain-migration-'));
const oldMigrations = join(work, 'migrations');
const dataDir = join(work, 'data');
let database: Database;

const tenantId = randomUUID();
const actorId = randomUUID();
/** Audit rows as the old code wrote them; the first three sealed the old way, the last two not yet. */
const rows = Array.from({ length: 5 }, (_, i) => ({
  id: randomUUID(),
  tenantId,
  occurredAt: new Date(Date.UTC(2026, 10, 20, 10, 0, i)),
  actorId,
  actorKind: 'user' as const,
  actorLabel: null,
  action: 'ticket.read',
  entityType: 'Ticket',
  entityId: `t${i}`,
  patientRef: 'Patient/1',
  outcome: 'success' as const,
  purpose: i === 1 ? 'TREAT' : null,
  requestId: `req-${i}`,
  detail: { fhirAction: 'R', i },
}));

beforeAll(async () => {
  // The migrations folder as it was before 0010.
  mkdirSync(join(oldMigrations, 'meta'), { recursive: true });
  const journal = JSON.parse(readFileSync(join(migrationsFolder, 'meta/_journal.json'), 'utf8')) as {
    entries: { idx: number; tag: string }[];
  };
  const kept = journal.entries.filter((e) => e.idx <= LAST_OLD);
  writeFileSync(join(oldMigrations, 'meta/_journal.json'), JSON.stringify({ ...journal, entries: kept }));
  for (const file of readdirSync(migrationsFolder).filter((f) => kept.some((e) => f === `${e.tag}.sql`)))
    copyFileSync(join(migrationsFolder, file), join(oldMigrations, file));
  expect(kept).toHaveLength(LAST_OLD + 1);

  const client = await PGlite.create({ dataDir, extensions: { pg_trgm } });
  const old = drizzle(client);
  await migrate(old, { migrationsFolder: oldMigrations });
  await old.execute(sql`insert into tenant (id, slug, name) values (${tenantId}, ${`t-${tenantId}`}, 'Old clinic')`);
  for (const r of rows) {
    await old.execute(sql`
      insert into audit_event (id, tenant_id, occurred_at, actor_id, actor_kind, actor_label, action, entity_type,
        entity_id, patient_ref, outcome, purpose, request_id, detail)
      values (${r.id}, ${r.tenantId}, ${r.occurredAt.toISOString()}, ${r.actorId}, ${r.actorKind}, ${r.actorLabel},
        ${r.action}, ${r.entityType}, ${r.entityId}, ${r.patientRef}, ${r.outcome}, ${r.purpose}, ${r.requestId},
        ${JSON.stringify(r.detail)}::jsonb)`);
  }
  // The old seal: chain columns set on the row (the only UPDATE 0009's guard allows), then the head.
  let prev = genesisHash(tenantId);
  for (const [i, r] of rows.slice(0, 3).entries()) {
    const hash = chainHash(prev, r);
    await old.execute(
      sql`update audit_event set chain_pos = ${i + 1}, prev_hash = ${prev}, hash = ${hash} where id = ${r.id}`,
    );
    prev = hash;
  }
  await old.execute(sql`insert into audit_head (tenant_id, chain_pos, hash) values (${tenantId}, 3, ${prev})`);
  await client.close();

  database = await openDatabase({ dataDir });
}, 120_000);

afterAll(async () => {
  await database?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('migrations 0010/0011 on a database sealed the old way', () => {
  it('move the links: the old chain verifies, and the unsealed rows are counted', async () => {
    expect(await verifyAuditChain(database.db, tenantId)).toEqual({
      ok: true,
      checked: 3,
      unsealed: 2,
      firstBreak: null,
    });
    const columns = await database.query<{ name: string }>(sql`
      select column_name as name from information_schema.columns
      where table_schema = current_schema() and table_name = 'audit_event'`);
    expect(columns.map((c) => c.name)).not.toContain('chain_pos');
    expect(columns.map((c) => c.name)).toContain('xid');
  });

  it('leave the unsealed rows for the next seal, which continues the moved chain in seq order', async () => {
    expect(await sealAuditChain(database, tenantId)).toBe(2);
    expect(await verifyAuditChain(database.db, tenantId)).toMatchObject({ ok: true, checked: 5, unsealed: 0 });
    const links = await database.query<{ event_id: string; chain_pos: string | number }>(sql`
      select event_id, chain_pos from audit_chain where tenant_id = ${tenantId} order by chain_pos`);
    expect(links.map((l) => l.event_id)).toEqual(rows.map((r) => r.id));
    expect(links.map((l) => Number(l.chain_pos))).toEqual([1, 2, 3, 4, 5]);
  });

  it('leave audit_event refusing every change, the moved rows included', async () => {
    await expect(
      database.db.execute(sql`update audit_event set action = action where id = ${rows[0]!.id}`),
    ).rejects.toThrow();
    await expect(database.db.execute(sql`delete from audit_chain where event_id = ${rows[0]!.id}`)).rejects.toThrow();
  });
});
