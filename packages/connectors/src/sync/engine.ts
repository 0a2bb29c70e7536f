// The sync engine: load a source, discover it, take the per-source lease, run one mode, record the run.
import { type Actor, type Database, NotFoundError, schema } from '@fhirdesk/core';
import { and, eq, gte, lt, sql } from 'drizzle-orm';
import type { Bundle } from 'fhir/r4';
import { type AccessTokenProvider, createAccessTokenProvider, noAuth } from '../auth/access-token';
import { systemScopes } from '../auth/backend-services';
import { openSourceSecrets } from '../auth/secret-box';
import {
  type SourceConfig,
  type SourceSecrets,
  sourceConfigFromRow,
  sourceSecretsSchema,
} from '../config/source-config';
import { discoverSource, type SourceCapabilities } from '../discovery';
import { ConnectorError } from '../errors';
import { describeUrl, FhirHttp } from '../http/fhir-http';
import { realSleep, type Sleep } from '../http/limiter';
import { syncBulk } from './bulk';
import { reconcile, syncTypeDeletions } from './deletions';
import { type SortedEntries, sortBundle } from './entries';
import { syncOrder, syncTypeByPatient, syncTypeIncremental, syncTypeSliced } from './incremental';
import { type ConnectorLogger, RunContext, type SyncCounts, type SyncHooks, type SyncMode } from './run-context';

const { source, syncRun } = schema;

export interface ConnectorDeps {
  database: Database;
  /** 32-byte key (hex/base64) that decrypts `source.secret` (AES-256-GCM, BS-10). */
  secretKey?: string | Uint8Array | undefined;
  logger?: ConnectorLogger | undefined;
  /** Injectable for tests (small Retry-After waits); defaults to real timers. */
  sleep?: Sleep | undefined;
  now?: (() => Date) | undefined;
  hooks?: SyncHooks | undefined;
  retry?: { baseMs?: number; capMs?: number; maxRetryAfterMs?: number } | undefined;
  /** A `running` run without a heartbeat for this long was left by a dead worker. */
  staleRunMs?: number | undefined;
}

export interface SyncRequest {
  tenantId: string;
  sourceId: string;
  /** Defaults to the source's configured mode. */
  mode?: SyncMode | undefined;
  signal?: AbortSignal | undefined;
}

export interface SyncSummary extends SyncCounts {
  runId: string;
  mode: SyncMode;
  status: 'succeeded' | 'failed' | 'aborted';
  warnings: string[];
  error?: string | undefined;
}

export interface LoadedSource {
  id: string;
  tenantId: string;
  name: string;
  config: SourceConfig;
  secrets: SourceSecrets;
}

/** Reads and validates a source row of the tenant (404 for another tenant's source), decrypting its secrets. */
export async function loadSource(deps: ConnectorDeps, tenantId: string, sourceId: string): Promise<LoadedSource> {
  const rows = await deps.database.db
    .select()
    .from(source)
    .where(and(eq(source.tenantId, tenantId), eq(source.id, sourceId)));
  const row = rows[0];
  if (!row) throw new NotFoundError('Source not found');
  const config = sourceConfigFromRow(row);
  let secrets: SourceSecrets = {};
  if (row.secret) {
    if (!deps.secretKey)
      throw new ConnectorError('config', 'Source has encrypted secrets but no secret key is configured');
    secrets = sourceSecretsSchema.parse(openSourceSecrets(row.id, row.secret, deps.secretKey));
  }
  return { id: row.id, tenantId: row.tenantId, name: row.name, config, secrets };
}

function httpFor(
  deps: ConnectorDeps,
  config: SourceConfig,
  tokens: AccessTokenProvider,
  signal?: AbortSignal,
): FhirHttp {
  return new FhirHttp({
    baseUrl: config.baseUrl,
    tokens,
    concurrency: config.concurrency,
    rateLimit: config.rateLimit,
    timeoutMs: config.timeoutMs,
    maxRetries: config.maxRetries,
    retryBaseMs: deps.retry?.baseMs,
    retryCapMs: deps.retry?.capMs,
    maxRetryAfterMs: deps.retry?.maxRetryAfterMs,
    sleep: deps.sleep,
    signal,
    onRetry: (info) => deps.logger?.warn({ baseUrl: config.baseUrl, ...info }, 'retrying FHIR request'),
  });
}

export interface ConnectedSource {
  http: FhirHttp;
  capabilities: SourceCapabilities;
  tokens: AccessTokenProvider;
}

/**
 * Discovery (EPIC-08) and authentication check for a configuration; writes nothing. The API's
 * "test connection" and source creation call this before saving.
 */
export async function connectSource(
  deps: ConnectorDeps,
  config: SourceConfig,
  secrets: SourceSecrets,
  signal?: AbortSignal,
): Promise<ConnectedSource> {
  const capabilities = await discoverSource(httpFor(deps, config, noAuth, signal), config);
  const tokens = createAccessTokenProvider({
    auth: config.auth,
    secrets,
    discoveredTokenUrl: capabilities.smart.tokenEndpoint,
    scope: systemScopes(config.resourceTypes),
  });
  // Fail early with the token endpoint's own error (BS-08) rather than on the first page.
  await tokens.getToken(signal);
  return { http: httpFor(deps, config, tokens, signal), capabilities, tokens };
}

function connectorActor(loaded: LoadedSource, requestId: string): Actor {
  const auth = loaded.config.auth;
  const clientId = 'clientId' in auth ? auth.clientId : undefined;
  return {
    tenantId: loaded.tenantId,
    userId: null,
    kind: 'integration',
    roles: [],
    label: clientId ?? `source:${loaded.id}`,
    requestId,
  };
}

async function startRun(
  deps: ConnectorDeps,
  loaded: LoadedSource,
  mode: SyncMode,
  patientId?: string,
): Promise<string> {
  const now = (deps.now ?? (() => new Date()))();
  const insert = async () => {
    const rows = await deps.database.db
      .insert(syncRun)
      .values({
        tenantId: loaded.tenantId,
        sourceId: loaded.id,
        mode,
        startedAt: now,
        heartbeatAt: now,
        patientId: patientId ?? null,
      })
      .returning({ id: syncRun.id });
    return rows[0]!.id;
  };
  const stale = new Date(now.getTime() - (deps.staleRunMs ?? 10 * 60_000));
  if (mode !== 'patient') {
    // Look before inserting: the unique lease index makes an INSERT wait for the holder's open page
    // transaction (it updates the run row), so a busy source would stall this worker for a whole page.
    const holder = await deps.database.db
      .select({ id: syncRun.id })
      .from(syncRun)
      .where(
        and(
          eq(syncRun.tenantId, loaded.tenantId),
          eq(syncRun.sourceId, loaded.id),
          eq(syncRun.status, 'running'),
          sql`${syncRun.mode} <> 'patient'`,
          gte(syncRun.heartbeatAt, stale),
        ),
      )
      .limit(1);
    if (holder.length > 0) throw new ConnectorError('busy', 'Source is already being synced by another worker');
  }
  try {
    return await insert();
  } catch (e) {
    if (mode === 'patient') throw e;
    // The lease is taken: expire it if its worker died, else report the source busy.
    const expired = await deps.database.db
      .update(syncRun)
      .set({ status: 'aborted', finishedAt: now, error: 'worker stopped sending heartbeats' })
      .where(
        and(
          eq(syncRun.tenantId, loaded.tenantId),
          eq(syncRun.sourceId, loaded.id),
          eq(syncRun.status, 'running'),
          sql`${syncRun.mode} <> 'patient'`,
          lt(syncRun.heartbeatAt, stale),
        ),
      )
      .returning({ id: syncRun.id });
    if (expired.length === 0) throw new ConnectorError('busy', 'Source is already being synced by another worker');
    return insert();
  }
}

async function finishRun(
  deps: ConnectorDeps,
  runId: string,
  status: SyncSummary['status'],
  error?: string,
): Promise<void> {
  await deps.database.db
    .update(syncRun)
    .set({ status, finishedAt: (deps.now ?? (() => new Date()))(), error: error ?? null })
    .where(eq(syncRun.id, runId));
}

function safeMessage(e: unknown): string {
  if (e instanceof ConnectorError || e instanceof NotFoundError) return e.message;
  // Unknown errors may embed SQL parameters (PHI); keep their class only.
  return e instanceof Error ? `internal error (${e.name})` : 'internal error';
}

async function execute(
  deps: ConnectorDeps,
  loaded: LoadedSource,
  mode: SyncMode,
  signal: AbortSignal | undefined,
  body: (ctx: RunContext) => Promise<void>,
  patientId?: string,
): Promise<SyncSummary> {
  const runId = await startRun(deps, loaded, mode, patientId);
  let ctx: RunContext | undefined;
  try {
    const connected = await connectSource(deps, loaded.config, loaded.secrets, signal);
    ctx = new RunContext(
      deps.database,
      loaded.tenantId,
      loaded.id,
      runId,
      mode,
      loaded.config,
      connected.http,
      connected.capabilities,
      connectorActor(loaded, runId),
      deps.sleep ?? realSleep,
      deps.now ?? (() => new Date()),
      deps.logger,
      deps.hooks,
    );
    await body(ctx);
    await finishRun(deps, runId, 'succeeded');
    return { runId, mode, status: 'succeeded', ...ctx.counts, warnings: ctx.warnings };
  } catch (e) {
    const aborted = signal?.aborted === true || (e instanceof ConnectorError && e.reason === 'aborted');
    const message = safeMessage(e);
    await finishRun(deps, runId, aborted ? 'aborted' : 'failed', message);
    deps.logger?.warn({ sourceId: loaded.id, runId, mode, error: message }, 'sync run failed');
    if (e instanceof ConnectorError) e.extensions.runId = runId;
    throw e;
  }
}

/**
 * Runs one sync of a source in its configured mode (or `mode`): incremental search (plus type history for
 * deletions), Bulk `$export`, or `reconcile` (full id listing; marks what the source no longer has).
 * Records a `sync_run`; throws a `ConnectorError` (with `extensions.runId`) when the run fails, leaving the
 * checkpoint at the last committed page.
 */
export async function runSync(deps: ConnectorDeps, request: SyncRequest): Promise<SyncSummary> {
  const loaded = await loadSource(deps, request.tenantId, request.sourceId);
  const mode = request.mode ?? loaded.config.syncMode;
  if (mode === 'patient') throw new ConnectorError('config', 'Patient mode needs a patient: use refreshPatient');
  return execute(deps, loaded, mode, request.signal, async (ctx) => {
    if (mode === 'bulk') return syncBulk(ctx);
    if (mode === 'reconcile') return reconcile(ctx);
    for (const type of syncOrder(ctx.config.resourceTypes)) {
      const sinceBefore = (await ctx.loadCheckpoint(type))?.since ?? null;
      if (type !== 'Patient' && ctx.config.patientScopedTypes.includes(type)) await syncTypeByPatient(ctx, type);
      else if (ctx.config.timeSlices) await syncTypeSliced(ctx, type);
      else await syncTypeIncremental(ctx, type);
      // After the pass, so a delete racing the search is still read from history (checked against versions).
      await syncTypeDeletions(ctx, type, sinceBefore);
    }
  });
}

export interface RefreshPatientRequest {
  tenantId: string;
  sourceId: string;
  /** Patient id on the source (as published). */
  patientId: string;
  signal?: AbortSignal | undefined;
}

const PATIENT_LINKED = new Set(['Coverage', 'Claim', 'ClaimResponse', 'ExplanationOfBenefit', 'Account']);
const REFERENCED = new Set(['Organization', 'Practitioner']);

function collectReferences(value: unknown, out: Map<string, Set<string>>): void {
  if (Array.isArray(value)) {
    for (const v of value) collectReferences(v, out);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'reference' && typeof v === 'string') {
        const m = /^(Organization|Practitioner)\/([A-Za-z0-9\-.]{1,64})$/.exec(v);
        if (m) out.set(m[1]!, (out.get(m[1]!) ?? new Set()).add(m[2]!));
      } else collectReferences(v, out);
    }
  }
}

/**
 * Patient-scoped refresh for the agent view: the patient and all of its financial context (Coverage, Claim,
 * ClaimResponse, EOB, Account) plus the Organizations and Practitioners they reference, committed together.
 * Touches no checkpoint; never marks anything deleted (BS-09: fewer results ≠ deleted).
 */
export async function refreshPatient(deps: ConnectorDeps, request: RefreshPatientRequest): Promise<SyncSummary> {
  const loaded = await loadSource(deps, request.tenantId, request.sourceId);
  return execute(
    deps,
    loaded,
    'patient',
    request.signal,
    async (ctx) => {
      const all: SortedEntries = { items: [], deadLetters: [], warnings: [], fetched: 0 };
      const add = (s: SortedEntries) => {
        all.items.push(...s.items);
        all.deadLetters.push(...s.deadLetters);
        all.warnings.push(...s.warnings);
        all.fetched += s.fetched;
      };
      const searchAll = async (type: string, params: Record<string, string>) => {
        let page = await ctx.http.get<Bundle>(type, params);
        const seen = new Set<string>([page.url]);
        for (;;) {
          if (page.body?.resourceType !== 'Bundle')
            throw new ConnectorError('invalid-body', `Expected a Bundle for ${type}`);
          add(sortBundle(page.body, type, describeUrl(page.url)));
          const next = await ctx.http.nextPage(page.body);
          if (!next) return;
          if (seen.has(next.url))
            throw new ConnectorError('paging-loop', `Server's next link repeats an earlier page of ${type}`);
          seen.add(next.url);
          page = next as typeof page;
        }
      };
      await searchAll('Patient', { _id: request.patientId });
      if (!all.items.some((i) => i.resource.resourceType === 'Patient')) {
        throw new ConnectorError('not-found', 'Patient not found on the source');
      }
      for (const type of ctx.config.resourceTypes) {
        if (!PATIENT_LINKED.has(type)) continue;
        await searchAll(type, { ...flat(ctx.config.searchParams[type]), patient: request.patientId });
      }
      const refs = new Map<string, Set<string>>();
      collectReferences(
        all.items.map((i) => i.resource),
        refs,
      );
      for (const [type, ids] of refs) {
        if (!REFERENCED.has(type) || !ctx.config.resourceTypes.includes(type)) continue;
        const list = [...ids];
        for (let i = 0; i < list.length; i += 50) await searchAll(type, { _id: list.slice(i, i + 50).join(',') });
      }
      await ctx.commitPage({ pageUrl: `Patient refresh`, ...all });
    },
    request.patientId,
  );
}

function flat(params: Record<string, string | string[]> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(params ?? {})) out[k] = Array.isArray(v) ? v.join(',') : v;
  return out;
}
