// What every CLI command needs: configuration, the database and a way to print.
import { type Database, openDatabase } from '@fhirdesk/core';
import { type Config, loadConfig } from '../config/config';

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  /** Progress on one overwritten line when stderr is a terminal. */
  progress(line: string): void;
}

export const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  progress: (line) => {
    if (process.stderr.isTTY) process.stderr.write(`\r\x1b[2K${line}`);
  },
};

/** Exit codes scripts can rely on. */
export const EXIT = { ok: 0, failure: 1, usage: 2, notFound: 3, upstream: 4 } as const;

export class UsageError extends Error {}

export async function withDatabase<T>(
  env: NodeJS.ProcessEnv,
  work: (database: Database, config: Config) => Promise<T>,
): Promise<T> {
  const config = loadConfig(env);
  const database = await openDatabase({ url: config.DATABASE_URL, dataDir: config.FHIRDESK_DATA_DIR, max: 4 });
  try {
    return await work(database, config);
  } finally {
    await database.close();
  }
}
