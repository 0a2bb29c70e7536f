// Sources of a tenant (issue #3): create/update/delete with a connection test before saving, secrets
// sealed at rest, Backend Services keys generated here (the private key never leaves the server), runs and
// dead letters for integration engineers, and the tenant's public JWKS for EHR registration (BS-01, BS-10).
import { randomUUID } from 'node:crypto';
import {
  type Actor,
  NotFoundError,
  recordAudit,
  type Source,
  schema,
  UnprocessableError,
  ValidationError,
} from '@fhirdesk/core';
import { and, desc, eq, sql } from 'drizzle-orm';
import type { JSONWebKeySet, JWK } from 'jose';
import { type BackendServicesAlg, generateClientKey, publicJwks } from '../auth/backend-services';
import { sealSourceSecrets } from '../auth/secret-box';
import {
  type AuthConfig,
  parseSourceConfig,
  type SourceConfig,
  type SourceConfigInput,
  type SourceKind,
  type SourceSecrets,
} from '../config/source-config';
import { ConnectorError } from '../errors';
import { type ConnectorDeps, connectSource, loadSource } from '../sync/engine';

const { source, syncRun, syncDeadLetter } = schema;

export interface SourceInput {
  name: string;
  kind?: SourceKind | undefined;
  baseUrl: string;
  auth?: Partial<AuthConfig> & { mode: AuthConfig['mode'] };
  secrets?: SourceSecrets | undefined;
  resourceTypes?: string[] | undefined;
  syncMode?: 'incremental' | 'bulk' | undefined;
  schedule?: string | undefined;
  rateLimit?: number | undefined;
  concurrency?: number | undefined;
  /** Remaining connector options (pageSize, overlapSeconds, bulk, timeSlices, …) and SMART launch settings. */
  settings?: Record<string, unknown> | undefined;
  /** Run discovery + authentication before saving (default true). */
  test?: boolean | undefined;
}

/** A source as shown to API users: never the secret, only whether one is stored. */
export interface SourceView {
  id: string;
  name: string;
  kind: string;
  baseUrl: string | null;
  auth: Record<string, unknown>;
  hasSecret: boolean;
  resourceTypes: string[];
  syncMode: string;
  schedule: string | null;
  rateLimit: number | null;
  concurrency: number;
  settings: Record<string, unknown>;
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface ConnectionTest {
  ok: true;
  fhirVersion: string | undefined;
  resourceTypes: string[];
  lastUpdatedTypes: string[];
  /** Types whose deletions incremental runs can read from `_history`; the others need a reconcile run. */
  historyTypes: string[];
  bulkExport: boolean;
  tokenEndpoint: string | undefined;
}

export function sourceView(row: Source): SourceView {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    baseUrl: row.baseUrl,
    auth: row.auth,
    hasSecret: Boolean(row.secret),
    resourceTypes: row.resourceTypes,
    syncMode: row.syncMode,
    schedule: row.schedule,
    rateLimit: row.rateLimit,
    concurrency: row.concurrency,
    settings: row.settings,
    enabled: row.enabled,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** Why a connection test failed, phrased for the person configuring the source (no secrets, no PHI). */
function refuse(error: unknown): never {
  if (error instanceof ConnectorError) {
    throw new UnprocessableError(
      `The source failed its connection test: ${error.message}`,
      { reason: error.reason },
      'source-test-failed',
    );
  }
  throw error;
}

export class SourceService {
  constructor(
    private readonly deps: ConnectorDeps,
    private readonly afterCommit: (actor: Actor) => void = () => {},
  ) {}

  private get database() {
    return this.deps.database;
  }

  private secretKey(): string | Uint8Array {
    if (!this.deps.secretKey) throw new ValidationError('No secret encryption key is configured (FHIRDESK_SECRET_KEY)');
    return this.deps.secretKey;
  }

  async list(actor: Actor): Promise<SourceView[]> {
    const rows = await this.database.db
      .select()
      .from(source)
      .where(eq(source.tenantId, actor.tenantId))
      .orderBy(source.name);
    return rows.map(sourceView);
  }

  async get(actor: Actor, id: string): Promise<SourceView> {
    return sourceView(await this.row(actor.tenantId, id));
  }

  private async row(tenantId: string, id: string): Promise<Source> {
    const [row] = await this.database.db
      .select()
      .from(source)
      .where(and(eq(source.tenantId, tenantId), eq(source.id, id)));
    if (!row) throw new NotFoundError('Source not found');
    return row;
  }

  /** Validates, generates a Backend Services key when needed, tests the connection, then saves. */
  async create(actor: Actor, input: SourceInput): Promise<SourceView> {
    const id = randomUUID();
    const secrets: SourceSecrets = { ...(input.secrets ?? {}) };
    let auth = (input.auth ?? { mode: 'none' }) as Record<string, unknown>;
    if (auth.mode === 'backend-services' && !secrets.privateJwk) {
      const alg = (auth.alg as BackendServicesAlg | undefined) ?? 'ES384';
      const key = await generateClientKey(alg);
      secrets.privateJwk = key.privateJwk as Record<string, unknown>;
      auth = { ...auth, alg, kid: key.kid, publicJwk: key.publicJwk };
    }
    const config = this.parse({ ...input, auth: auth as SourceInput['auth'] });
    if (input.test !== false) await this.test(config, secrets);
    const now = new Date();
    const [row] = await this.database.db.transaction(async (tx) => {
      const inserted = await tx
        .insert(source)
        .values({
          id,
          tenantId: actor.tenantId,
          name: input.name,
          kind: config.kind,
          baseUrl: config.baseUrl,
          auth,
          secret: Object.keys(secrets).length > 0 ? sealSourceSecrets(id, secrets, this.secretKey()) : null,
          resourceTypes: config.resourceTypes,
          syncMode: config.syncMode,
          schedule: config.schedule ?? null,
          rateLimit: config.rateLimit ?? null,
          concurrency: config.concurrency,
          settings: input.settings ?? {},
          createdAt: now,
          updatedAt: now,
        })
        .returning();
      await recordAudit(tx, actor, {
        action: 'source.create',
        fhirAction: 'C',
        entityType: 'Source',
        entityId: id,
        detail: { kind: config.kind, authMode: config.auth.mode },
      });
      return inserted;
    });
    this.afterCommit(actor);
    return sourceView(row!);
  }

  async update(
    actor: Actor,
    id: string,
    patch: Partial<SourceInput> & { enabled?: boolean | undefined },
  ): Promise<SourceView> {
    const current = await this.row(actor.tenantId, id);
    const merged: SourceInput = {
      name: patch.name ?? current.name,
      kind: (patch.kind ?? current.kind) as SourceKind,
      baseUrl: patch.baseUrl ?? current.baseUrl ?? '',
      auth: (patch.auth ?? current.auth) as SourceInput['auth'],
      resourceTypes: patch.resourceTypes ?? current.resourceTypes,
      syncMode: (patch.syncMode ?? current.syncMode) as SourceInput['syncMode'],
      schedule: patch.schedule ?? current.schedule ?? undefined,
      rateLimit: patch.rateLimit ?? current.rateLimit ?? undefined,
      concurrency: patch.concurrency ?? current.concurrency,
      settings: patch.settings ?? current.settings,
    };
    const config = this.parse(merged);
    const connectionChanged =
      patch.baseUrl !== undefined ||
      patch.auth !== undefined ||
      patch.secrets !== undefined ||
      patch.resourceTypes !== undefined;
    let secretValue = current.secret;
    if (patch.secrets) secretValue = sealSourceSecrets(id, patch.secrets, this.secretKey());
    if (connectionChanged && patch.test !== false) {
      const loaded = patch.secrets ? patch.secrets : (await loadSource(this.deps, actor.tenantId, id)).secrets;
      await this.test(config, loaded);
    }
    const [row] = await this.database.db.transaction(async (tx) => {
      const updated = await tx
        .update(source)
        .set({
          name: merged.name,
          kind: config.kind,
          baseUrl: config.baseUrl,
          auth: merged.auth as Record<string, unknown>,
          secret: secretValue,
          resourceTypes: config.resourceTypes,
          syncMode: config.syncMode,
          schedule: config.schedule ?? null,
          rateLimit: config.rateLimit ?? null,
          concurrency: config.concurrency,
          settings: merged.settings ?? {},
          enabled: patch.enabled ?? current.enabled,
          updatedAt: new Date(),
        })
        .where(and(eq(source.id, id), eq(source.tenantId, actor.tenantId)))
        .returning();
      await recordAudit(tx, actor, {
        action: 'source.update',
        fhirAction: 'U',
        entityType: 'Source',
        entityId: id,
        detail: { fields: Object.keys(patch).filter((k) => k !== 'secrets') },
      });
      return updated;
    });
    this.afterCommit(actor);
    return sourceView(row!);
  }

  /**
   * Deletes a source that never synced; a source with cached data or runs is disabled and its secrets are
   * destroyed instead, so links and the audit trail keep pointing at something real.
   */
  async remove(actor: Actor, id: string): Promise<{ deleted: boolean; disabled: boolean }> {
    await this.row(actor.tenantId, id);
    const result = await this.database.db.transaction(async (tx) => {
      const [usage] = await tx
        .select({
          cached: sql<number>`(select count(*)::int from fhir_resource where source_id = ${id})`,
          runs: sql<number>`(select count(*)::int from sync_run where source_id = ${id})`,
          links: sql<number>`(select count(*)::int from ticket_link where source_id = ${id})`,
        })
        .from(sql`(select 1) as one`);
      const inUse = Number(usage?.cached ?? 0) + Number(usage?.runs ?? 0) + Number(usage?.links ?? 0) > 0;
      if (inUse) {
        await tx.update(source).set({ enabled: false, secret: null, updatedAt: new Date() }).where(eq(source.id, id));
      } else {
        await tx.delete(syncDeadLetter).where(eq(syncDeadLetter.sourceId, id));
        await tx.delete(schema.syncCheckpoint).where(eq(schema.syncCheckpoint.sourceId, id));
        await tx.delete(source).where(eq(source.id, id));
      }
      await recordAudit(tx, actor, {
        action: inUse ? 'source.disable' : 'source.delete',
        fhirAction: 'D',
        entityType: 'Source',
        entityId: id,
      });
      return { deleted: !inUse, disabled: inUse };
    });
    this.afterCommit(actor);
    return result;
  }

  /** Discovery and authentication against the stored configuration; writes nothing. */
  async testStored(actor: Actor, id: string): Promise<ConnectionTest> {
    const loaded = await loadSource(this.deps, actor.tenantId, id);
    return this.test(loaded.config, loaded.secrets);
  }

  private async test(config: SourceConfig, secrets: SourceSecrets): Promise<ConnectionTest> {
    try {
      const connected = await connectSource(this.deps, config, secrets);
      if (config.auth.mode !== 'none') await connected.tokens.getToken();
      return {
        ok: true,
        fhirVersion: connected.capabilities.fhirVersion,
        resourceTypes: Object.keys(connected.capabilities.searchParams).filter((t) => config.resourceTypes.includes(t)),
        lastUpdatedTypes: connected.capabilities.lastUpdatedTypes.filter((t) => config.resourceTypes.includes(t)),
        historyTypes: connected.capabilities.historyTypes.filter((t) => config.resourceTypes.includes(t)),
        bulkExport: connected.capabilities.bulkExport,
        tokenEndpoint: connected.capabilities.smart.tokenEndpoint,
      };
    } catch (error) {
      return refuse(error);
    }
  }

  private parse(input: SourceInput): SourceConfig {
    try {
      return parseSourceConfig({
        ...(input.settings as Partial<SourceConfigInput>),
        kind: input.kind,
        baseUrl: input.baseUrl,
        auth: input.auth as AuthConfig,
        resourceTypes: input.resourceTypes,
        syncMode: input.syncMode,
        schedule: input.schedule,
        rateLimit: input.rateLimit,
        concurrency: input.concurrency,
      } as SourceConfigInput);
    } catch (error) {
      const issues = (error as { issues?: { path: PropertyKey[]; message: string }[] }).issues;
      if (issues)
        throw new ValidationError(
          'The source configuration is invalid',
          issues.map((i) => ({ field: i.path.map(String).join('.'), message: i.message })),
        );
      throw error;
    }
  }

  async runs(actor: Actor, id: string, limit = 50) {
    await this.row(actor.tenantId, id);
    return this.database.db
      .select()
      .from(syncRun)
      .where(and(eq(syncRun.tenantId, actor.tenantId), eq(syncRun.sourceId, id)))
      .orderBy(desc(syncRun.startedAt))
      .limit(limit);
  }

  async deadLetters(actor: Actor, id: string, limit = 100) {
    await this.row(actor.tenantId, id);
    return this.database.db
      .select()
      .from(syncDeadLetter)
      .where(and(eq(syncDeadLetter.tenantId, actor.tenantId), eq(syncDeadLetter.sourceId, id)))
      .limit(limit);
  }

  /** Public keys of the tenant's Backend Services sources, for the EHR to register (BS-01; EPIC-02). */
  async jwks(tenantId: string): Promise<JSONWebKeySet> {
    const rows = await this.database.db
      .select({ auth: source.auth })
      .from(source)
      .where(and(eq(source.tenantId, tenantId), eq(source.enabled, true)));
    const keys = rows.map((r) => r.auth.publicJwk).filter((k): k is JWK => typeof k === 'object' && k !== null);
    return publicJwks(keys);
  }
}
