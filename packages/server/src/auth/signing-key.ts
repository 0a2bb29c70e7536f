// Where the server's token signing key comes from: FHIRDESK_JWT_SECRET, or in embedded mode a
// development key kept in the data directory (so restarts and the CLI keep working with it).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/config';
import { TokenKeys } from './tokens';

export function loadTokenKeys(config: Config): TokenKeys {
  if (config.FHIRDESK_JWT_SECRET) return new TokenKeys(config.FHIRDESK_JWT_SECRET);
  return new TokenKeys(devKey(config, 'dev-signing-key', 'base64url'), { development: true });
}

/** The key that encrypts connector secrets at rest (BS-10): FHIRDESK_SECRET_KEY, or a development key. */
export function loadSecretKey(config: Config): string {
  return config.FHIRDESK_SECRET_KEY ?? devKey(config, 'dev-secret-key', 'hex');
}

function devKey(config: Config, name: string, encoding: 'hex' | 'base64url'): string {
  const dir = config.FHIRDESK_DATA_DIR;
  const file = join(dir, name);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString(encoding), { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}
