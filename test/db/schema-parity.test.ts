// The same migration files must produce the same schema on embedded PGlite and on PostgreSQL.
import { type Database, openDatabase } from '@fhirdesk/core';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function describeSchema(database: Database) {
  const columns = await database.query<Record<string, unknown>>(sql`
    select table_name, column_name, data_type, is_nullable, column_default
    from information_schema.columns where table_schema = 'public' order by table_name, column_name`);
  const indexes = await database.query<Record<string, unknown>>(sql`
    select tablename, indexname, indexdef from pg_indexes where schemaname = 'public' order by tablename, indexname`);
  const constraints = await database.query<Record<string, unknown>>(sql`
    select conrelid::regclass::text as tbl, conname, pg_get_constraintdef(oid) as def
    from pg_constraint where connamespace = 'public'::regnamespace
      -- PostgreSQL 18 (PGlite) also lists NOT NULL as constraints; nullability is compared via the columns.
      and contype <> 'n' order by 1, 2`);
  const triggers = await database.query<Record<string, unknown>>(sql`
    select event_object_table, trigger_name, event_manipulation, action_timing
    from information_schema.triggers where trigger_schema = 'public' order by 1, 2, 3`);
  return { columns, indexes, constraints, triggers };
}

let pglite: Database;
let server: Database;
let admin: ReturnType<typeof postgres>;
const dbName = `fhirdesk_parity_${process.pid}_${Date.now()}`;

beforeAll(async () => {
  admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${dbName}"`);
  const url = new URL(serverUrl);
  url.pathname = `/${dbName}`;
  server = await openDatabase({ url: url.toString(), max: 2 });
  pglite = await openDatabase({ dataDir: 'memory://' });
});
afterAll(async () => {
  await server?.close();
  await pglite?.close();
  await admin?.unsafe(`drop database if exists "${dbName}" with (force)`);
  await admin?.end();
});

describe('migrations', () => {
  it('produce identical tables, columns, indexes, constraints and triggers on PGlite and PostgreSQL', async () => {
    const [a, b] = await Promise.all([describeSchema(pglite), describeSchema(server)]);
    expect(a.columns.length).toBeGreaterThan(50);
    expect(a.triggers.length).toBeGreaterThanOrEqual(4);
    expect(a).toEqual(b);
  });
});
