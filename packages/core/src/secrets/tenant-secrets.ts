// Stored secrets of tenants and integrations (issue #6): sealed with the secret box, each bound to its owner
// (aad) so a sealed value copied to another tenant, name or key does not open. Values written in clear
// before sealing existed are converted by `sealLegacySecrets` (start-up) and, for a row read before that ran
// (an older server in a rolling upgrade wrote it), on read.
import { and, eq, inArray, isNotNull, notLike, sql } from 'drizzle-orm';
import type { Database, Executor } from '../db/database';
import { integrationKey } from '../db/schema/conversations';
import { type TenantSecretName, tenant, tenantSecret } from '../db/schema/tenants';
import { ValidationError } from '../errors';
import { decryptSecret, encryptSecret, isSealedSecret, type SecretKey, secretFingerprint } from './secret-box';

export const tenantSecretAad = (tenantId: string, name: TenantSecretName) => `tenant_secret:${tenantId}:${name}`;
export const integrationSecretAad = (keyId: string) => `integration_key:${keyId}`;

/** The configured key, or a 400 naming the variable: sealing never silently falls back to clear text. */
export function requireSecretKey(key: SecretKey | undefined): SecretKey {
  if (!key) throw new ValidationError('No secret encryption key is configured (FHIRDESK_SECRET_KEY)');
  return key;
}

export interface SecretSummary {
  hasSecret: boolean;
  fingerprint: string | null;
  updatedAt: string | null;
}

export async function writeTenantSecret(
  executor: Executor,
  key: SecretKey,
  tenantId: string,
  name: TenantSecretName,
  plaintext: string,
  now: Date,
): Promise<string> {
  const values = {
    tenantId,
    name,
    sealed: encryptSecret(plaintext, key, tenantSecretAad(tenantId, name)),
    fingerprint: secretFingerprint(plaintext, key),
    updatedAt: now,
  };
  await executor
    .insert(tenantSecret)
    .values(values)
    .onConflictDoUpdate({
      target: [tenantSecret.tenantId, tenantSecret.name],
      set: { sealed: values.sealed, fingerprint: values.fingerprint, updatedAt: now },
    });
  return values.fingerprint;
}

export async function deleteTenantSecrets(executor: Executor, tenantId: string, names: readonly TenantSecretName[]) {
  if (names.length === 0) return;
  await executor
    .delete(tenantSecret)
    .where(and(eq(tenantSecret.tenantId, tenantId), inArray(tenantSecret.name, [...names])));
}

/** Opened secrets of a tenant by name (only those asked for that exist). */
export async function readTenantSecrets(
  executor: Executor,
  key: SecretKey,
  tenantId: string,
  names: readonly TenantSecretName[],
): Promise<Partial<Record<TenantSecretName, string>>> {
  const rows = await executor
    .select()
    .from(tenantSecret)
    .where(and(eq(tenantSecret.tenantId, tenantId), inArray(tenantSecret.name, [...names])));
  const out: Partial<Record<TenantSecretName, string>> = {};
  for (const r of rows) out[r.name] = decryptSecret(r.sealed, key, tenantSecretAad(tenantId, r.name));
  return out;
}

export async function tenantSecretSummaries(
  executor: Executor,
  tenantId: string,
): Promise<Partial<Record<TenantSecretName, SecretSummary>>> {
  const rows = await executor
    .select({ name: tenantSecret.name, fingerprint: tenantSecret.fingerprint, updatedAt: tenantSecret.updatedAt })
    .from(tenantSecret)
    .where(eq(tenantSecret.tenantId, tenantId));
  const out: Partial<Record<TenantSecretName, SecretSummary>> = {};
  for (const r of rows)
    out[r.name] = { hasSecret: true, fingerprint: r.fingerprint, updatedAt: r.updatedAt.toISOString() };
  return out;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Moves clear-text secrets out of one tenant's settings (`outbound.email.auth.pass`, `outbound.webhook.secret`,
 * `slaWebhook.secret`, as written before issue #6 sealed them) into `tenant_secret`, in the caller's
 * transaction with the tenant row locked. Returns whether anything moved.
 */
export async function sealLegacyTenantSettings(
  executor: Executor,
  key: SecretKey,
  tenantId: string,
  now: Date,
): Promise<boolean> {
  const [row] = await executor
    .select({ settings: tenant.settings })
    .from(tenant)
    .where(eq(tenant.id, tenantId))
    .for('update');
  if (!row) return false;
  const settings = structuredClone(row.settings ?? {}) as Json;
  const moved: [TenantSecretName, string][] = [];
  const outbound = settings.outbound;
  if (isObject(outbound)) {
    const email = outbound.email;
    if (isObject(email) && isObject(email.auth) && typeof email.auth.pass === 'string') {
      moved.push(['outbound.email.password', email.auth.pass]);
      delete email.auth.pass;
    }
    const webhook = outbound.webhook;
    if (isObject(webhook) && typeof webhook.secret === 'string') {
      moved.push(['outbound.webhook.secret', webhook.secret]);
      delete webhook.secret;
    }
  }
  const sla = settings.slaWebhook;
  if (isObject(sla) && typeof sla.secret === 'string') {
    moved.push(['sla.webhook.secret', sla.secret]);
    delete sla.secret;
  }
  if (moved.length === 0) return false;
  for (const [name, value] of moved) await writeTenantSecret(executor, key, tenantId, name, value, now);
  await executor.update(tenant).set({ settings }).where(eq(tenant.id, tenantId));
  return true;
}

/** Seals one integration key's clear-text HMAC secret in place (only if it is still the value read). */
export async function sealLegacyIntegrationSecret(
  executor: Executor,
  key: SecretKey,
  keyId: string,
  plaintext: string,
): Promise<void> {
  await executor
    .update(integrationKey)
    .set({
      hmacSecret: encryptSecret(plaintext, key, integrationSecretAad(keyId)),
      hmacFingerprint: secretFingerprint(plaintext, key),
    })
    .where(and(eq(integrationKey.id, keyId), eq(integrationKey.hmacSecret, plaintext)));
}

/** Opens an integration key's HMAC secret; a clear-text legacy value is used once and sealed in place. */
export async function openIntegrationSecret(
  executor: Executor,
  key: SecretKey,
  row: { id: string; hmacSecret: string | null },
): Promise<string | null> {
  if (!row.hmacSecret) return null;
  if (isSealedSecret(row.hmacSecret)) return decryptSecret(row.hmacSecret, key, integrationSecretAad(row.id));
  await sealLegacyIntegrationSecret(executor, key, row.id, row.hmacSecret);
  return row.hmacSecret;
}

/**
 * Start-up pass (every server, idempotent): seals every clear-text secret left from before issue #6.
 * A SQL migration cannot do this because the key is not, and must never be, in the database.
 */
export async function sealLegacySecrets(
  database: Database,
  key: SecretKey,
  now: Date = new Date(),
): Promise<{ integrationKeys: number; tenants: number }> {
  const legacyKeys = await database.db
    .select({ id: integrationKey.id, hmacSecret: integrationKey.hmacSecret })
    .from(integrationKey)
    .where(and(isNotNull(integrationKey.hmacSecret), notLike(integrationKey.hmacSecret, 'v1.%')));
  for (const k of legacyKeys) await sealLegacyIntegrationSecret(database.db, key, k.id, k.hmacSecret!);
  // Only tenants whose settings still carry one of the legacy keys (jsonb path tests, no decrypting).
  const tenants = await database.db
    .select({ id: tenant.id })
    .from(tenant)
    .where(
      sql`jsonb_typeof(${tenant.settings} #> '{outbound,email,auth,pass}') = 'string'
        or jsonb_typeof(${tenant.settings} #> '{outbound,webhook,secret}') = 'string'
        or jsonb_typeof(${tenant.settings} #> '{slaWebhook,secret}') = 'string'`,
    );
  let moved = 0;
  for (const t of tenants) {
    if (await database.db.transaction((tx) => sealLegacyTenantSettings(tx, key, t.id, now))) moved++;
  }
  return { integrationKeys: legacyKeys.length, tenants: moved };
}
