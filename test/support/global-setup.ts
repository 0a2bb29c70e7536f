// With DATABASE_URL set, every run gets its own fresh database on that server (created here,
// migrated once, dropped at the end), so runs never see each other's rows and tests can assume
// a known schema. Without it, each test file opens embedded PGlite in memory (see db.ts).

import { openDatabase } from '@fhirdesk/core';
import postgres from 'postgres';

export default async function setup({ provide }: { provide: (key: 'testDatabaseUrl', value: string) => void }) {
  const base = process.env.DATABASE_URL;
  if (!base) {
    provide('testDatabaseUrl', '');
    return;
  }
  const name = `fhirdesk_test_${process.pid}_${Date.now()}`;
  const admin = postgres(base, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}"`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  const database = await openDatabase({ url: url.toString(), max: 1 });
  await database.close();
  provide('testDatabaseUrl', url.toString());
  return async () => {
    await admin.unsafe(`drop database if exists "${name}" with (force)`);
    await admin.end();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    testDatabaseUrl: string;
  }
}
