// A throw-away PostgreSQL database per benchmark run, so a run never touches anyone's data and
// leaves nothing behind (dropped on success, failure and Ctrl-C).
import postgres from 'postgres';

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export interface ScratchDatabase {
  name: string;
  /** URL of the scratch database (same server and credentials as the admin URL). */
  url: string;
  /** Drops the database, disconnecting any session still attached; safe to call twice. */
  drop(): Promise<void>;
}

export async function createScratchDatabase(adminUrl: string, name: string): Promise<ScratchDatabase> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`Invalid database name: ${name}`);
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.unsafe(`create database ${name}`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    name,
    url: url.toString(),
    async drop() {
      if (dropped) return;
      dropped = true;
      const client = postgres(adminUrl, { max: 1, onnotice: () => {} });
      try {
        // WITH (FORCE) (PostgreSQL 13+) ends sessions a crashed server child may have left open.
        await client.unsafe(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end({ timeout: 5 });
      }
    },
  };
}

/** Hides the password of a database URL for printing. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}
