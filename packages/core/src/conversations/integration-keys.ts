// Per-tenant named integration credentials for inbound channels (HIPAA-09): an API key stored only
// as its SHA-256, or an HMAC secret for signed webhooks with a timestamp and a replay window.
import { createHash, randomBytes } from 'node:crypto';
import { and, eq, lt } from 'drizzle-orm';
import { verifyWebhookSignature } from '../channels/webhook-signature';
import type { Database } from '../db/database';
import { type InboundChannel, integrationKey, webhookReplay } from '../db/schema/conversations';
import { ForbiddenError, UnauthorizedError } from '../errors';

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

const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest('hex');

export async function createIntegrationKey(
  database: Database,
  tenantId: string,
  input: { name: string; channels: readonly InboundChannel[]; apiKey?: boolean; hmac?: boolean },
): Promise<CreatedIntegrationKey> {
  const apiKey = input.apiKey === false ? null : `fdk_${randomBytes(24).toString('base64url')}`;
  const hmacSecret = input.hmac ? randomBytes(32).toString('base64url') : null;
  const [row] = await database.db
    .insert(integrationKey)
    .values({
      tenantId,
      name: input.name,
      keyHash: apiKey ? sha256(apiKey) : null,
      hmacSecret,
      channels: [...input.channels],
    })
    .returning({ id: integrationKey.id });
  return { id: row!.id, apiKey, hmacSecret };
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
  toleranceSeconds = 300,
): Promise<IntegrationPrincipal> {
  if (credentials.signature || credentials.keyId) {
    if (!credentials.keyId || !/^[0-9a-f-]{36}$/i.test(credentials.keyId)) {
      throw new UnauthorizedError('Send X-Fhirdesk-Key-Id with the signature', { reason: 'missing-key-id' });
    }
    const [row] = await database.db
      .select()
      .from(integrationKey)
      .where(and(eq(integrationKey.id, credentials.keyId), eq(integrationKey.active, true)));
    if (!row?.hmacSecret) throw new UnauthorizedError('Unknown or inactive integration key', { reason: 'unknown-key' });
    const verdict = verifyWebhookSignature({
      rawBody,
      header: credentials.signature,
      secrets: [row.hmacSecret],
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
      .where(and(eq(integrationKey.keyHash, sha256(credentials.apiKey)), eq(integrationKey.active, true)));
    if (!row) throw new UnauthorizedError('Unknown or inactive API key', { reason: 'unknown-key' });
    return principal(row, channel);
  }
  throw new UnauthorizedError('Send X-Api-Key, or X-Fhirdesk-Key-Id with X-Fhirdesk-Signature', {
    reason: 'missing',
  });
}
