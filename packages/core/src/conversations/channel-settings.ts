// Admin settings of a tenant's channels (issue #6): reply transports (`tenant.settings.outbound`), the
// tenant's SLA webhook (`tenant.settings.slaWebhook`) and inbound integration keys. Secrets go to the secret
// box (`tenant_secret`, sealed `integration_key.hmac_secret`), never into settings JSON, responses, audit
// detail or logs: views carry `hasSecret` and a keyed fingerprint only. Every change is audited.
import { and, asc, eq } from 'drizzle-orm';
import { recordAudit } from '../audit/record';
import type { Actor, Clock } from '../context/actor';
import { systemClock } from '../context/actor';
import type { Database, Tx } from '../db/database';
import { type InboundChannel, integrationKey, type OutboundChannel } from '../db/schema/conversations';
import { type TenantSecretName, tenant } from '../db/schema/tenants';
import { NotFoundError, ValidationError } from '../errors';
import type { SecretKey } from '../secrets/secret-box';
import {
  deleteTenantSecrets,
  readTenantSecrets,
  requireSecretKey,
  type SecretSummary,
  sealLegacyTenantSettings,
  tenantSecretSummaries,
  writeTenantSecret,
} from '../secrets/tenant-secrets';
import {
  type CreatedIntegrationKey,
  createIntegrationKey,
  newApiKey,
  newHmacSecret,
  sealedHmacColumns,
  sha256Hex,
} from './integration-keys';

/** SMTP transport settings without the password (that one is a tenant secret). */
export interface EmailTransportSettings {
  host: string;
  port: number;
  secure: boolean;
  from: string;
  replyDomain: string;
  replyLocalPart?: string | undefined;
  timeoutMs?: number | undefined;
  auth?: { user: string } | undefined;
}

export interface WebhookTransportSettings {
  url: string;
  channels: OutboundChannel[];
  timeoutMs?: number | undefined;
}

export interface OutboundSettingsInput {
  /** Omitted or null: no email transport. `auth.pass` omitted keeps the stored password. */
  email?: (Omit<EmailTransportSettings, 'auth'> & { auth?: { user: string; pass?: string | undefined } }) | null;
  /** Omitted or null: no webhook transport. `secret` omitted keeps the stored one. */
  webhook?: (WebhookTransportSettings & { secret?: string | undefined }) | null;
}

export interface SlaWebhookInput {
  url: string;
  /** Omitted keeps the stored one (required the first time). */
  secret?: string | undefined;
}

export interface ChannelSettingsView {
  outbound: {
    email: (Omit<EmailTransportSettings, 'auth'> & { auth: { user: string; password: SecretSummary } | null }) | null;
    webhook: (WebhookTransportSettings & { secret: SecretSummary }) | null;
  };
  /** `tenant`: this tenant's own webhook; `deployment`: FHIRDESK_SLA_WEBHOOK_URL; `none`: notices are not posted. */
  slaWebhook: { origin: 'tenant'; url: string; secret: SecretSummary } | { origin: 'deployment' | 'none' };
}

export interface IntegrationKeyView {
  id: string;
  name: string;
  channels: InboundChannel[];
  active: boolean;
  hasApiKey: boolean;
  hmac: { hasSecret: boolean; fingerprint: string | null };
  createdAt: string;
  rotatedAt: string | null;
}

export interface RotateIntegrationKeyInput {
  /** Issue a new API key (returned once); default: when the key has one. */
  apiKey?: boolean | undefined;
  /** Generate a new HMAC secret (returned once); default: when the key has one and `hmacSecret` is not sent. */
  hmac?: boolean | undefined;
  /** An HMAC secret chosen by the admin (≥ 32 characters); stored sealed, never echoed. */
  hmacSecret?: string | undefined;
}

export interface ResolvedOutbound {
  email?: (EmailTransportSettings & { auth?: { user: string; pass: string } }) | undefined;
  webhook?: (WebhookTransportSettings & { secret: string }) | undefined;
}

const none: SecretSummary = { hasSecret: false, fingerprint: null, updatedAt: null };
type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export class ChannelSettingsService {
  private readonly clock: Clock;
  constructor(
    private readonly deps: {
      database: Database;
      secretKey?: SecretKey | undefined;
      /** Whether the deployment has FHIRDESK_SLA_WEBHOOK_URL (shown as the fallback origin). */
      deploymentSlaWebhook?: boolean | undefined;
      clock?: Clock | undefined;
      afterCommit?: ((actor: Actor) => void) | undefined;
    },
  ) {
    this.clock = deps.clock ?? systemClock;
  }

  async get(actor: Actor): Promise<ChannelSettingsView> {
    const view = await this.deps.database.db.transaction(async (tx) => {
      const view = await this.viewOf(tx, actor.tenantId);
      await recordAudit(
        tx,
        actor,
        { action: 'tenant.channel-settings.read', fhirAction: 'R', entityType: 'Tenant', entityId: actor.tenantId },
        this.clock.now(),
      );
      return view;
    });
    this.deps.afterCommit?.(actor);
    return view;
  }

  async setOutbound(actor: Actor, input: OutboundSettingsInput): Promise<ChannelSettingsView> {
    return this.change(actor, async (tx, settings, secrets, now) => {
      const key = () => requireSecretKey(this.deps.secretKey);
      const rotated: TenantSecretName[] = [];
      const removed: TenantSecretName[] = [];
      const outbound: Json = {};
      if (input.email) {
        const { auth, ...rest } = input.email;
        outbound.email = { ...rest, ...(auth ? { auth: { user: auth.user } } : {}) };
        if (auth?.pass !== undefined) {
          await writeTenantSecret(tx, key(), actor.tenantId, 'outbound.email.password', auth.pass, now);
          rotated.push('outbound.email.password');
        } else if (auth && !secrets['outbound.email.password']) {
          throw new ValidationError('The SMTP password is required the first time', [
            { field: 'email.auth.pass', message: 'send the password; none is stored' },
          ]);
        } else if (!auth) removed.push('outbound.email.password');
      } else removed.push('outbound.email.password');
      if (input.webhook) {
        const { secret, ...rest } = input.webhook;
        outbound.webhook = rest;
        if (secret !== undefined) {
          await writeTenantSecret(tx, key(), actor.tenantId, 'outbound.webhook.secret', secret, now);
          rotated.push('outbound.webhook.secret');
        } else if (!secrets['outbound.webhook.secret']) {
          throw new ValidationError('The webhook secret is required the first time', [
            { field: 'webhook.secret', message: 'send the signing secret; none is stored' },
          ]);
        }
      } else removed.push('outbound.webhook.secret');
      const gone = removed.filter((n) => secrets[n]);
      await deleteTenantSecrets(tx, actor.tenantId, gone);
      settings.outbound = outbound;
      return {
        section: 'outbound',
        detail: {
          email: Boolean(input.email),
          webhook: Boolean(input.webhook),
          secretsRotated: rotated,
          secretsRemoved: gone,
        },
      };
    });
  }

  /** The tenant's own SLA webhook; `null` removes it, so notices go to the deployment's webhook again. */
  async setSlaWebhook(actor: Actor, input: SlaWebhookInput | null): Promise<ChannelSettingsView> {
    return this.change(actor, async (tx, settings, secrets, now) => {
      if (!input) {
        delete settings.slaWebhook;
        await deleteTenantSecrets(tx, actor.tenantId, ['sla.webhook.secret']);
        return { section: 'slaWebhook', detail: { removed: true } };
      }
      if (input.secret !== undefined) {
        const key = requireSecretKey(this.deps.secretKey);
        await writeTenantSecret(tx, key, actor.tenantId, 'sla.webhook.secret', input.secret, now);
      } else if (!secrets['sla.webhook.secret']) {
        throw new ValidationError('The SLA webhook secret is required the first time', [
          { field: 'secret', message: 'send the signing secret; none is stored' },
        ]);
      }
      settings.slaWebhook = { url: input.url };
      return { section: 'slaWebhook', detail: { secretRotated: input.secret !== undefined } };
    });
  }

  async listIntegrationKeys(actor: Actor): Promise<IntegrationKeyView[]> {
    const rows = await this.deps.database.db
      .select()
      .from(integrationKey)
      .where(eq(integrationKey.tenantId, actor.tenantId))
      .orderBy(asc(integrationKey.name));
    return rows.map(keyView);
  }

  async createIntegrationKey(
    actor: Actor,
    input: { name: string; channels: readonly InboundChannel[]; apiKey?: boolean; hmac?: boolean },
  ): Promise<CreatedIntegrationKey> {
    const now = this.clock.now();
    const created = await this.deps.database.db.transaction(async (tx) => {
      const [clash] = await tx
        .select({ id: integrationKey.id })
        .from(integrationKey)
        .where(and(eq(integrationKey.tenantId, actor.tenantId), eq(integrationKey.name, input.name)));
      if (clash) {
        throw new ValidationError('An integration key with this name exists', [
          { field: 'name', message: 'choose another name, or rotate the existing key' },
        ]);
      }
      const made = await createIntegrationKey(tx, actor.tenantId, input, this.deps.secretKey);
      await recordAudit(
        tx,
        actor,
        {
          action: 'integration-key.create',
          fhirAction: 'C',
          entityType: 'IntegrationKey',
          entityId: made.id,
          detail: { channels: [...input.channels], apiKey: Boolean(made.apiKey), hmac: Boolean(made.hmacSecret) },
        },
        now,
      );
      return made;
    });
    this.deps.afterCommit?.(actor);
    return created;
  }

  /**
   * Replaces a key's API key and/or HMAC secret. The old ones stop working with this commit (no overlap):
   * providers that need a window create a second key, switch, then deactivate the first.
   */
  async rotateIntegrationKey(
    actor: Actor,
    id: string,
    input: RotateIntegrationKeyInput,
  ): Promise<CreatedIntegrationKey & { key: IntegrationKeyView }> {
    const now = this.clock.now();
    const result = await this.deps.database.db.transaction(async (tx) => {
      const [row] = await tx
        .select()
        .from(integrationKey)
        .where(and(eq(integrationKey.id, id), eq(integrationKey.tenantId, actor.tenantId)))
        .for('update');
      if (!row) throw new NotFoundError('Integration key not found');
      if (input.hmac && input.hmacSecret !== undefined) {
        throw new ValidationError('Send either hmac: true (generate) or hmacSecret (your own), not both', [
          { field: 'hmacSecret', message: 'conflicts with hmac: true' },
        ]);
      }
      const rotateApiKey = input.apiKey ?? row.keyHash !== null;
      const generateHmac = input.hmac ?? (input.hmacSecret === undefined && row.hmacSecret !== null);
      if (!rotateApiKey && !generateHmac && input.hmacSecret === undefined) {
        throw new ValidationError('Nothing to rotate', [
          { field: 'body', message: 'ask for apiKey, hmac or send hmacSecret' },
        ]);
      }
      const apiKey = rotateApiKey ? newApiKey() : null;
      const hmacSecret = generateHmac ? newHmacSecret() : null;
      const secret = hmacSecret ?? input.hmacSecret;
      const [updated] = await tx
        .update(integrationKey)
        .set({
          ...(apiKey ? { keyHash: sha256Hex(apiKey) } : {}),
          ...(secret !== undefined ? sealedHmacColumns(id, secret, requireSecretKey(this.deps.secretKey)) : {}),
          rotatedAt: now,
        })
        .where(eq(integrationKey.id, id))
        .returning();
      await recordAudit(
        tx,
        actor,
        {
          action: 'integration-key.rotate',
          fhirAction: 'U',
          entityType: 'IntegrationKey',
          entityId: id,
          detail: { apiKey: Boolean(apiKey), hmac: secret !== undefined },
        },
        now,
      );
      return { id, apiKey, hmacSecret, key: keyView(updated!) };
    });
    this.deps.afterCommit?.(actor);
    return result;
  }

  /** Transport settings with their secrets opened, for the delivery worker (never for a response). */
  async resolveOutbound(tenantId: string): Promise<ResolvedOutbound | null> {
    const { database } = this.deps;
    const key = requireSecretKey(this.deps.secretKey);
    let [row] = await database.db.select({ settings: tenant.settings }).from(tenant).where(eq(tenant.id, tenantId));
    if (!row || !isObject(row.settings.outbound)) return null;
    if (hasLegacySecret(row.settings)) {
      // Written in clear before sealing (or by an older server): seal now, then read the sealed copy.
      await database.db.transaction((tx) => sealLegacyTenantSettings(tx, key, tenantId, this.clock.now()));
      [row] = await database.db.select({ settings: tenant.settings }).from(tenant).where(eq(tenant.id, tenantId));
    }
    const outbound = row!.settings.outbound as Json;
    const secrets = await readTenantSecrets(database.db, key, tenantId, [
      'outbound.email.password',
      'outbound.webhook.secret',
    ]);
    const resolved: ResolvedOutbound = {};
    if (isObject(outbound.email)) {
      const email = outbound.email as unknown as EmailTransportSettings;
      const pass = secrets['outbound.email.password'];
      resolved.email = {
        ...email,
        ...(email.auth ? { auth: { user: email.auth.user, pass: pass ?? '' } } : {}),
      } as ResolvedOutbound['email'];
    }
    if (isObject(outbound.webhook)) {
      resolved.webhook = {
        ...(outbound.webhook as unknown as WebhookTransportSettings),
        secret: secrets['outbound.webhook.secret'] ?? '',
      };
    }
    return resolved;
  }

  /** The tenant's own SLA webhook with its secret opened, or null (then the deployment's applies). */
  async resolveSlaWebhook(tenantId: string): Promise<{ url: string; secret: string } | null> {
    const { database } = this.deps;
    const [row] = await database.db.select({ settings: tenant.settings }).from(tenant).where(eq(tenant.id, tenantId));
    const sla = row?.settings.slaWebhook;
    if (!isObject(sla) || typeof sla.url !== 'string') return null;
    const key = requireSecretKey(this.deps.secretKey);
    if (typeof sla.secret === 'string') {
      await database.db.transaction((tx) => sealLegacyTenantSettings(tx, key, tenantId, this.clock.now()));
    }
    const secrets = await readTenantSecrets(database.db, key, tenantId, ['sla.webhook.secret']);
    const secret = secrets['sla.webhook.secret'];
    return secret ? { url: sla.url, secret } : null;
  }

  private async change(
    actor: Actor,
    apply: (
      tx: Tx,
      settings: Json,
      secrets: Partial<Record<TenantSecretName, SecretSummary>>,
      now: Date,
    ) => Promise<{ section: string; detail: Record<string, unknown> }>,
  ): Promise<ChannelSettingsView> {
    const now = this.clock.now();
    const view = await this.deps.database.db.transaction(async (tx) => {
      if (this.deps.secretKey) await sealLegacyTenantSettings(tx, this.deps.secretKey, actor.tenantId, now);
      const [row] = await tx
        .select({ settings: tenant.settings })
        .from(tenant)
        .where(eq(tenant.id, actor.tenantId))
        .for('update');
      if (!row) throw new NotFoundError('Tenant not found');
      const settings = structuredClone(row.settings ?? {}) as Json;
      const { section, detail } = await apply(tx, settings, await tenantSecretSummaries(tx, actor.tenantId), now);
      await tx.update(tenant).set({ settings }).where(eq(tenant.id, actor.tenantId));
      // Which parts changed and which secrets were rotated, never their values (AUD-05).
      await recordAudit(
        tx,
        actor,
        {
          action: 'tenant.channel-settings.change',
          fhirAction: 'U',
          entityType: 'Tenant',
          entityId: actor.tenantId,
          detail: { section, ...detail },
        },
        now,
      );
      return this.viewOf(tx, actor.tenantId);
    });
    this.deps.afterCommit?.(actor);
    return view;
  }

  private async viewOf(tx: Tx, tenantId: string): Promise<ChannelSettingsView> {
    const [row] = await tx.select({ settings: tenant.settings }).from(tenant).where(eq(tenant.id, tenantId));
    if (!row) throw new NotFoundError('Tenant not found');
    const secrets = await tenantSecretSummaries(tx, tenantId);
    const outbound = isObject(row.settings.outbound) ? row.settings.outbound : {};
    const email = isObject(outbound.email) ? (outbound.email as unknown as EmailTransportSettings) : null;
    const webhook = isObject(outbound.webhook) ? (outbound.webhook as unknown as WebhookTransportSettings) : null;
    const sla = row.settings.slaWebhook;
    // Whitelisted fields only: a legacy clear-text value still in the JSON is never copied into a view.
    return {
      outbound: {
        email: email
          ? {
              host: email.host,
              port: email.port,
              secure: email.secure,
              from: email.from,
              replyDomain: email.replyDomain,
              ...(email.replyLocalPart ? { replyLocalPart: email.replyLocalPart } : {}),
              ...(email.timeoutMs ? { timeoutMs: email.timeoutMs } : {}),
              auth: email.auth
                ? { user: email.auth.user, password: secrets['outbound.email.password'] ?? legacySummary(email.auth) }
                : null,
            }
          : null,
        webhook: webhook
          ? {
              url: webhook.url,
              channels: webhook.channels,
              ...(webhook.timeoutMs ? { timeoutMs: webhook.timeoutMs } : {}),
              secret: secrets['outbound.webhook.secret'] ?? legacySummary(webhook),
            }
          : null,
      },
      slaWebhook:
        isObject(sla) && typeof sla.url === 'string'
          ? { origin: 'tenant', url: sla.url, secret: secrets['sla.webhook.secret'] ?? legacySummary(sla) }
          : { origin: this.deps.deploymentSlaWebhook ? 'deployment' : 'none' },
    };
  }
}

function legacySummary(section: unknown): SecretSummary {
  const legacy = isObject(section) && (typeof section.pass === 'string' || typeof section.secret === 'string');
  return legacy ? { hasSecret: true, fingerprint: null, updatedAt: null } : none;
}

function hasLegacySecret(settings: Json): boolean {
  const outbound = settings.outbound;
  if (!isObject(outbound)) return false;
  const email = outbound.email;
  const webhook = outbound.webhook;
  return (
    (isObject(email) && isObject(email.auth) && typeof email.auth.pass === 'string') ||
    (isObject(webhook) && typeof webhook.secret === 'string')
  );
}

function keyView(r: typeof integrationKey.$inferSelect): IntegrationKeyView {
  return {
    id: r.id,
    name: r.name,
    channels: r.channels,
    active: r.active,
    hasApiKey: r.keyHash !== null,
    hmac: { hasSecret: r.hmacSecret !== null, fingerprint: r.hmacFingerprint },
    createdAt: r.createdAt.toISOString(),
    rotatedAt: r.rotatedAt?.toISOString() ?? null,
  };
}
