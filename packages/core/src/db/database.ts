// One data-access layer over two drivers: postgres.js (DATABASE_URL) and embedded PGlite.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { type SQL, sql } from 'drizzle-orm';
import { type PgDatabase, PgDialect, type PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import * as schema from './schema/index';

export type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
/** A transaction handle; every core service accepts one so callers can compose commands atomically. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
export type Executor = Db | Tx;

export const migrationsFolder = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../migrations');

export interface Database {
  db: Db;
  kind: 'postgres' | 'pglite';
  /**
   * Rows of a raw SQL statement, whatever the driver's result shape. `prepare` makes PostgreSQL keep the
   * statement per connection (sent once, then only its parameters): for hot, large statements.
   */
  query<T extends Record<string, unknown>>(statement: SQL, executor?: Executor, options?: QueryOptions): Promise<T[]>;
  /**
   * Rows of a statement already rendered to text and parameters (a hot statement whose text is rendered once,
   * e.g. `patientViewFastQuery`); outside any transaction.
   */
  queryText<T extends Record<string, unknown>>(
    query: { sql: string; params: readonly unknown[] },
    options?: QueryOptions,
  ): Promise<T[]>;
  close(): Promise<void>;
}

/** Rows of a drizzle `execute()` result inside a transaction: postgres.js returns an array, PGlite `{ rows }`. */
export function rowsOf<T>(result: unknown): T[] {
  return Array.isArray(result) ? (result as T[]) : ((result as { rows: T[] }).rows ?? []);
}

export interface QueryOptions {
  prepare?: boolean;
}

export interface DatabaseOptions {
  /** postgres:// URL; when absent, embedded PGlite is used. */
  url?: string | undefined;
  /** PGlite data directory; `memory://` (or undefined with `inMemory`) keeps it in memory. */
  dataDir?: string | undefined;
  /** Pool size for PostgreSQL (default DEFAULT_POOL_SIZE). */
  max?: number;
  migrate?: boolean;
}

const MIGRATION_LOCK = 7_314_159_265;

/**
 * PostgreSQL runs few statements at once best: with more backends busy than about twice its cores it spends
 * the difference switching between them. On the 2-core reference machine (bench:agent-view, issue #4, the
 * server against the same statements sent directly) a pool of 4–6 gave 0.70–0.80 of the direct throughput,
 * 10 gave 0.64 and 20 gave 0.54–0.60, with PostgreSQL's CPU per view 0.59 / 0.68 / 0.73 ms. Requests beyond
 * the pool wait in postgres.js's queue (pipelined on the open connections), not in PostgreSQL. Six leaves room
 * for a sync page transaction and the audit sealer beside the requests; size it to about twice the database's
 * cores plus two (FHIRDESK_DB_POOL_SIZE).
 */
export const DEFAULT_POOL_SIZE = 6;

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.url) return openPostgres(options.url, options);
  return openPglite(options.dataDir ?? 'memory://', options);
}

async function openPostgres(url: string, options: DatabaseOptions): Promise<Database> {
  if (options.migrate !== false) {
    // A single connection holding a session advisory lock: several servers starting at once
    // must not apply the same migration twice.
    const admin = postgres(url, { max: 1, onnotice: () => {} });
    try {
      await admin`select pg_advisory_lock(${MIGRATION_LOCK})`;
      await migratePostgres(drizzlePostgres(admin), { migrationsFolder });
      await admin`select pg_advisory_unlock(${MIGRATION_LOCK})`;
    } finally {
      await admin.end();
    }
  }
  const client = postgres(url, { max: options.max ?? DEFAULT_POOL_SIZE, onnotice: () => {} });
  const db = drizzlePostgres(client, { schema }) as unknown as Db;
  const dialect = new PgDialect();
  return {
    db,
    kind: 'postgres',
    async query<T extends Record<string, unknown>>(statement: SQL, executor?: Executor, options?: QueryOptions) {
      if (options?.prepare && !executor) {
        // drizzle's execute() sends the text unprepared every time; the same rendering, but prepared.
        const query = dialect.sqlToQuery(statement);
        return (await client.unsafe(query.sql, query.params as never[], { prepare: true })) as unknown as T[];
      }
      const result = await (executor ?? db).execute(statement);
      return result as unknown as T[];
    },
    async queryText<T extends Record<string, unknown>>(
      query: { sql: string; params: readonly unknown[] },
      options?: QueryOptions,
    ) {
      const rows = await client.unsafe(query.sql, query.params as never[], { prepare: options?.prepare ?? false });
      return rows as unknown as T[];
    },
    close: () => client.end({ timeout: 5 }),
  };
}

async function openPglite(dataDir: string, options: DatabaseOptions): Promise<Database> {
  if (dataDir !== 'memory://' && !existsSync(dataDir)) mkdirSync(dataDir, { recursive: true });
  const client = await PGlite.create({ dataDir, extensions: { pg_trgm } });
  const db = drizzlePglite(client, { schema }) as unknown as Db;
  if (options.migrate !== false) await migratePglite(drizzlePglite(client), { migrationsFolder });
  return {
    db,
    kind: 'pglite',
    async query<T extends Record<string, unknown>>(statement: SQL, executor?: Executor) {
      const result = (await (executor ?? db).execute(statement)) as unknown as { rows: T[] };
      return result.rows;
    },
    async queryText<T extends Record<string, unknown>>(query: { sql: string; params: readonly unknown[] }) {
      // PGlite keeps no prepared statements across queries; the option only matters on a server.
      return (await client.query<T>(query.sql, query.params as unknown[])).rows;
    },
    close: () => client.close(),
  };
}

/** True when the migrations table lists every migration in the folder (readiness). */
export async function migrationsApplied(database: Database): Promise<boolean> {
  const { readFileSync } = await import('node:fs');
  const journal = JSON.parse(readFileSync(resolve(migrationsFolder, 'meta/_journal.json'), 'utf8')) as {
    entries: unknown[];
  };
  const rows = await database.query<{ n: number | string }>(
    sql`select count(*)::int as n from drizzle.__drizzle_migrations`,
  );
  return Number(rows[0]?.n ?? 0) >= journal.entries.length;
}
