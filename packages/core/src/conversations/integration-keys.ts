// Per-tenant named integration credentials for inbound channels (HIPAA-09): an API key stored only
// as its SHA-256, or an HMAC secret (sealed at rest) for signed webhooks with a timestamp and a replay window.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { and, eq, lt } from 'drizzle-orm';
import { verifyWebhookSignature } from '../channels/webhook-signature';
import type { Database, Executor } from '../db/database';
import { type InboundChannel, integrationKey, webhookReplay } from '../db/schema/conversations';
import { ForbiddenError, UnauthorizedError } from '../errors';
import { encryptSecret, type SecretKey, secretFingerprint } from '../secrets/secret-box';
import { integrationSecretAad, openIntegrationSecret, requireSecretKey } from '../secrets/tenant-secrets';

export interface IntegrationPrincipal {
  keyId: string;
  tenantId: string;
  name: string;
  channels: readonly InboundChannel[];
}

export interface CreatedIntegrationKey {
  id: string;
  /** Shown once; only its hash is stored. */
  apiKey: string | null;
  hmacSecret: string | null;
}

export const sha256Hex = (value: string) => createHash('sha256').update(value, 'utf8').digest('hex');
export const newApiKey = () => `fdk_${randomBytes(24).toString('base64url')}`;
export const newHmacSecret = () => randomBytes(32).toString('base64url');

/** The stored columns for an HMAC secret of key `keyId`: sealed and bound to the key, plus its fingerprint. */
export function sealedHmacColumns(keyId: string, secret: string, key: SecretKey) {
  return {
    hmacSecret: encryptSecret(secret, key, integrationSecretAad(keyId)),
    hmacFingerprint: secretFingerprint(secret, key),
  };
}

/**
 * Creates a key; the generated API key and HMAC secret are returned this once (the API key is kept only as
 * its hash, the HMAC secret only sealed with `secretKey`).
 */
export async function createIntegrationKey(
  executor: Database | Executor,
  tenantId: string,
  input: { name: string; channels: readonly InboundChannel[]; apiKey?: boolean; hmac?: boolean },
  secretKey: SecretKey | undefined,
): Promise<CreatedIntegrationKey> {
  const db = 'db' in executor ? executor.db : executor;
  const id = randomUUID();
  const apiKey = input.apiKey === false ? null : newApiKey();
  const hmacSecret = input.hmac ? newHmacSecret() : null;
  await db.insert(integrationKey).values({
    id,
    tenantId,
    name: input.name,
    keyHash: apiKey ? sha256Hex(apiKey) : null,
    ...(hmacSecret ? sealedHmacColumns(id, hmacSecret, requireSecretKey(secretKey)) : {}),
    channels: [...input.channels],
  });
  return { id, apiKey, hmacSecret };
}

function principal(row: typeof integrationKey.$inferSelect, channel: InboundChannel): IntegrationPrincipal {
  if (!row.channels.includes(channel)) {
    throw new ForbiddenError(`This integration key may not post to the ${channel} channel`, { channel });
  }
  return { keyId: row.id, tenantId: row.tenantId, name: row.name, channels: row.channels };
}

export interface InboundCredentials {
  apiKey?: string | null | undefined;
  keyId?: string | null | undefined;
  signature?: string | null | undefined;
}

/**
 * Authenticate an inbound delivery. A signature, when sent, is checked over the raw body with its
 * timestamp inside `toleranceSeconds`; a signature seen before is a replay (shared across servers
 * through `webhook_replay`). Failure reasons are safe to return; they never echo the input.
 */
export async function authenticateInbound(
  database: Database,
  channel: InboundChannel,
  credentials: InboundCredentials,
  rawBody: string,
  now: Date,
  options: { secretKey: SecretKey | undefined; toleranceSeconds?: number },
): Promise<IntegrationPrincipal> {
  const toleranceSeconds = options.toleranceSeconds ?? 300;
  if (credentials.signature || credentials.keyId) {
    if (!credentials.keyId || !/^[0-9a-f-]{36}$/i.test(credentials.keyId)) {
      throw new UnauthorizedError('Send X-Fhirdesk-Key-Id with the signature', { reason: 'missing-key-id' });
    }
    const [row] = await database.db
      .select()
      .from(integrationKey)
      .where(and(eq(integrationKey.id, credentials.keyId), eq(integrationKey.active, true)));
    if (!row?.hmacSecret) throw new UnauthorizedError('Unknown or inactive integration key', { reason: 'unknown-key' });
    const secret = await openIntegrationSecret(database.db, requireSecretKey(options.secretKey), row);
    const verdict = verifyWebhookSignature({
      rawBody,
      header: credentials.signature,
      secrets: [secret!],
      now,
      toleranceSeconds,
    });
    if (!verdict.ok) throw new UnauthorizedError('Webhook signature rejected', { reason: verdict.reason });
    await database.db.delete(webhookReplay).where(lt(webhookReplay.expiresAt, now));
    const remembered = await database.db
      .insert(webhookReplay)
      .values({
        keyId: row.id,
        signature: credentials.signature!,
        expiresAt: new Date(verdict.timestamp.getTime() + toleranceSeconds * 1000),
      })
      .onConflictDoNothing()
      .returning({ keyId: webhookReplay.keyId });
    if (remembered.length === 0) throw new UnauthorizedError('Webhook signature rejected', { reason: 'replayed' });
    return principal(row, channel);
  }
  if (credentials.apiKey) {
    const [row] = await database.db
      .select()
      .from(integrationKey)
      .where(and(eq(integrationKey.keyHash, sha256Hex(credentials.apiKey)), eq(integrationKey.active, true)));
    if (!row) throw new UnauthorizedError('Unknown or inactive API key', { reason: 'unknown-key' });
    return principal(row, channel);
  }
  throw new UnauthorizedError('Send X-Api-Key, or X-Fhirdesk-Key-Id with X-Fhirdesk-Signature', {
    reason: 'missing',
  });
}
