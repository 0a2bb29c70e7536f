// Where the server's token signing key comes from: FHIRDESK_JWT_SECRET, or in embedded mode a
// development key kept in the data directory (so restarts and the CLI keep working with it).
import { hkdfSync, randomBytes } from 'node:crypto';
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

/**
 * The HS256 key of CSAT survey links. Derived from FHIRDESK_JWT_SECRET (HKDF, its own label) so the
 * links in queued messages outlive restarts and verify on every server, without ever being valid
 * API tokens; embedded mode keeps a development key in the data directory.
 */
export function loadSurveyKey(config: Config): Uint8Array {
  const secret = config.FHIRDESK_JWT_SECRET ?? devKey(config, 'dev-survey-key', 'base64url');
  return new Uint8Array(hkdfSync('sha256', secret, 'fhirdesk', 'fhirdesk-survey-link', 32));
}

function devKey(config: Config, name: string, encoding: 'hex' | 'base64url'): string {
  const dir = config.FHIRDESK_DATA_DIR;
  const file = join(dir, name);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString(encoding), { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}
