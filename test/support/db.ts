// The database of a test file: the run's PostgreSQL database (CI) or an in-memory PGlite.
import { randomUUID } from 'node:crypto';
import { type Database, openDatabase, schema } from '@fhirdesk/core';
import { inject } from 'vitest';

const { tenant } = schema;

export async function openTestDatabase(): Promise<Database> {
  const url = inject('testDatabaseUrl');
  return openDatabase(url ? { url, max: 10, migrate: false } : { dataDir: 'memory://' });
}

export const usingPostgres = (): boolean => Boolean(inject('testDatabaseUrl'));

/** A fresh tenant per test keeps tests isolated on a shared database. */
export async function createTestTenant(database: Database, name = 'Test clinic'): Promise<string> {
  const id = randomUUID();
  await database.db.insert(tenant).values({ id, slug: `t-${id}`, name });
  return id;
}
