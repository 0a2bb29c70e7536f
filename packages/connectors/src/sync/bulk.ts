// Bulk Data `$export` client (BULK-01..09): kick-off with `Prefer: respond-async`, poll honouring Retry-After
// and X-Progress, stream NDJSON line by line, apply `deleted[]`, `_since` = previous transactionTime.
import { ConnectorError } from '../errors';
import { describeUrl } from '../http/fhir-http';
import { backoffDelay, parseRetryAfter } from '../http/retry-after';
import type { DeletionMark } from './cache-writer';
import { type SortedEntries, sortResource, summariseOutcome } from './entries';
import type { RunContext } from './run-context';

export const BULK_SCOPE = '$bulk';

/** Reads a small body to its end so the connection is reused (cancelling hangs under some interceptors). */
async function drain(response: Response): Promise<void> {
  await response.arrayBuffer().catch(() => undefined);
}
const BATCH = 500;

interface ManifestFile {
  type: string;
  url: string;
  count?: number;
}

export interface BulkManifest {
  transactionTime: string;
  request: string;
  requiresAccessToken: boolean;
  output: ManifestFile[];
  error?: ManifestFile[];
  deleted?: ManifestFile[];
}

function kickOffPath(ctx: RunContext): string {
  const bulk = ctx.config.bulk ?? { level: 'system' as const };
  if (bulk.level === 'group') {
    if (!bulk.groupId) throw new ConnectorError('config', 'Group export needs bulk.groupId');
    return `Group/${encodeURIComponent(bulk.groupId)}/$export`;
  }
  return bulk.level === 'patient' ? 'Patient/$export' : '$export';
}

async function kickOff(ctx: RunContext, since: string | null): Promise<string> {
  const params = new URLSearchParams({ _type: ctx.config.resourceTypes.join(',') });
  if (since) params.set('_since', since);
  const response = await ctx.http.raw(`${kickOffPath(ctx)}?${params}`, {
    auth: true,
    headers: { accept: 'application/fhir+json', prefer: 'respond-async' },
  });
  await drain(response);
  const location = response.headers.get('content-location');
  if (response.status !== 202 || !location) {
    throw new ConnectorError(
      'bulk-failed',
      `Bulk kick-off answered ${response.status} without a Content-Location (BULK-02)`,
      {
        httpStatus: response.status,
      },
    );
  }
  return ctx.http.absolute(location);
}

/** Polls until the manifest is ready; 404 means the job is gone (expired or cancelled). */
async function poll(ctx: RunContext, statusUrl: string): Promise<BulkManifest> {
  const started = Date.now();
  const bulk = ctx.config.bulk;
  for (let n = 1; ; n++) {
    const response = await ctx.http.raw(statusUrl, { auth: true, headers: { accept: 'application/json' } });
    if (response.status === 200) {
      const manifest = (await response.json()) as BulkManifest;
      if (!manifest || !Array.isArray(manifest.output) || typeof manifest.transactionTime !== 'string') {
        throw new ConnectorError('bulk-failed', 'Bulk manifest is missing output[] or transactionTime (BULK-04)');
      }
      return manifest;
    }
    await drain(response);
    const progress = response.headers.get('x-progress');
    if (progress)
      ctx.logger?.info(
        { sourceId: ctx.sourceId, runId: ctx.runId, progress: progress.slice(0, 100) },
        'bulk export in progress',
      );
    if (Date.now() - started > (bulk?.maxPollMs ?? 6 * 3600_000)) {
      throw new ConnectorError('bulk-failed', 'Bulk export did not complete within the polling limit');
    }
    const delay =
      parseRetryAfter(response.headers.get('retry-after')) ?? backoffDelay(n, bulk?.pollIntervalMs ?? 2000, 60_000);
    try {
      await ctx.sleep(delay, ctx.signal);
    } catch {
      throw new ConnectorError('aborted', 'Sync aborted');
    }
  }
}

/**
 * Streams an NDJSON body line by line, never holding the whole file (BULK-06). A last line without its
 * newline that is not valid JSON means the download was cut: that fails the file instead of dead-lettering.
 */
async function* lines(response: Response): AsyncGenerator<string> {
  if (!response.body) return;
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let at = buffer.indexOf('\n');
      while (at >= 0) {
        const line = buffer.slice(0, at).trim();
        buffer = buffer.slice(at + 1);
        if (line) yield line;
        at = buffer.indexOf('\n');
      }
    }
  } catch (e) {
    if (e instanceof ConnectorError) throw e;
    throw new ConnectorError('unreachable', `Download of ${describeUrl(response.url)} was cut off`, {
      retryable: true,
    });
  }
  buffer += decoder.decode();
  const last = buffer.trim();
  if (!last) return;
  try {
    JSON.parse(last);
  } catch {
    throw new ConnectorError('invalid-body', `Download of ${describeUrl(response.url)} ended inside a line`, {
      retryable: true,
    });
  }
  yield last;
}

async function download(ctx: RunContext, manifest: BulkManifest, file: ManifestFile): Promise<Response> {
  // BULK-05: token only when the manifest says so; raw() also withholds it from other origins (REST-06).
  return ctx.http.raw(file.url, {
    auth: manifest.requiresAccessToken === true,
    headers: { accept: 'application/fhir+ndjson', 'accept-encoding': 'gzip' },
  });
}

export async function syncBulk(ctx: RunContext): Promise<void> {
  const cp = await ctx.loadCheckpoint(BULK_SCOPE);
  const since = cp?.since ?? null;
  let statusUrl = cp?.cursor ?? null;
  let manifest: BulkManifest | undefined;
  if (statusUrl) {
    try {
      manifest = await poll(ctx, statusUrl);
    } catch (e) {
      if (!(e instanceof ConnectorError) || e.reason !== 'not-found') throw e;
      statusUrl = null; // expired job: start again from the same `_since`
    }
  }
  if (!statusUrl) {
    statusUrl = await kickOff(ctx, since);
    // Remember the job so a crash resumes polling instead of starting another export.
    await ctx.commitPage({
      scope: BULK_SCOPE,
      pageUrl: describeUrl(statusUrl),
      fetched: 0,
      items: [],
      deadLetters: [],
      checkpoint: { since, passStartedAt: null, cursor: statusUrl },
      countsAsPage: false,
    });
  }
  manifest ??= await poll(ctx, statusUrl);
  const tx = manifest.transactionTime;
  const inProgress = { since, passStartedAt: tx, cursor: statusUrl };

  for (const file of manifest.error ?? []) {
    const response = await download(ctx, manifest, file);
    const warnings: string[] = [];
    for await (const line of lines(response)) {
      try {
        warnings.push(summariseOutcome(JSON.parse(line), 'bulk error file'));
      } catch {
        warnings.push('unparseable line in bulk error file');
      }
    }
    if (warnings.length > 0)
      await ctx.commitPage({
        scope: BULK_SCOPE,
        pageUrl: describeUrl(file.url),
        fetched: 0,
        items: [],
        deadLetters: [],
        warnings,
        checkpoint: inProgress,
      });
  }

  for (const file of manifest.output) {
    const response = await download(ctx, manifest, file);
    const where = describeUrl(file.url);
    let batch: SortedEntries = { items: [], deadLetters: [], warnings: [], fetched: 0 };
    const flush = async () => {
      await ctx.commitPage({ scope: BULK_SCOPE, pageUrl: where, ...batch, checkpoint: inProgress });
      batch = { items: [], deadLetters: [], warnings: [], fetched: 0 };
    };
    for await (const line of lines(response)) {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        batch.fetched++;
        batch.deadLetters.push({ reason: 'invalid JSON line', resourceType: file.type, payload: null });
        continue;
      }
      sortResource(value, file.type, batch);
      if (batch.fetched >= BATCH) await flush();
    }
    if (batch.fetched > 0) await flush();
  }

  const deletions: DeletionMark[] = [];
  for (const file of manifest.deleted ?? []) {
    const response = await download(ctx, manifest, file);
    for await (const line of lines(response)) {
      try {
        const bundle = JSON.parse(line) as { entry?: { request?: { method?: string; url?: string } }[] };
        for (const entry of bundle.entry ?? []) {
          if (entry.request?.method !== 'DELETE' || !entry.request.url) continue;
          const [resourceType, resourceId] = entry.request.url.replace(/^\/+/, '').split('/');
          if (resourceType && resourceId) deletions.push({ resourceType, resourceId });
        }
      } catch {
        ctx.warnings.push('unparseable line in bulk deleted file');
      }
    }
  }
  // The last write closes the export: deletions and the new `_since` commit together.
  await ctx.commitPage({
    scope: BULK_SCOPE,
    pageUrl: describeUrl(statusUrl),
    fetched: 0,
    items: [],
    deadLetters: [],
    deletions,
    deletedAt: new Date(tx),
    checkpoint: { since: tx, passStartedAt: null, cursor: null },
    countsAsPage: false,
  });
  // BULK-07: let the server drop the files; failure here does not fail the run.
  await ctx.http.raw(statusUrl, { method: 'DELETE', auth: true }).then(
    (r) => drain(r),
    () => undefined,
  );
}
