// Where the server's token signing key comes from: FHIRDESK_JWT_SECRET, or in embedded mode a
// development key kept in the data directory (so restarts and the CLI keep working with it).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/config';
import { TokenKeys } from './tokens';

export function loadTokenKeys(config: Config): TokenKeys {
  if (config.FHIRDESK_JWT_SECRET) return new TokenKeys(config.FHIRDESK_JWT_SECRET);
  const dir = config.FHIRDESK_DATA_DIR;
  const file = join(dir, 'dev-signing-key');
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600 });
  return new TokenKeys(readFileSync(file, 'utf8').trim(), { development: true });
}
