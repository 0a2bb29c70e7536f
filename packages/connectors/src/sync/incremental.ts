// Incremental REST sync (INC-01..03, REST-01..06): `_lastUpdated=ge{checkpoint − overlap}`, `_count` as a hint,
// `link[next]` followed as given until there is none, each page committed with its checkpoint.
import { schema } from '@fhirdesk/core';
import { and, asc, eq } from 'drizzle-orm';
import type { Bundle } from 'fhir/r4';
import type { SearchParams } from 'fhir-kit-client';
import { ConnectorError } from '../errors';
import { describeUrl, type FhirResult } from '../http/fhir-http';
import { serverTime, sortBundle } from './entries';
import type { CheckpointState, RunContext } from './run-context';

const { fhirResource } = schema;

function asBundle(result: FhirResult<unknown>): FhirResult<Bundle> {
  const body = result.body as { resourceType?: unknown };
  if (body?.resourceType !== 'Bundle') {
    throw new ConnectorError('invalid-body', `Expected a searchset Bundle from ${describeUrl(result.url)}`);
  }
  return result as FhirResult<Bundle>;
}

function sinceParam(ctx: RunContext, type: string, since: string | null): string | undefined {
  if (!since || !ctx.capabilities.lastUpdatedTypes.includes(type)) return undefined; // INC-02: full resync
  const t = Date.parse(since) - ctx.config.overlapSeconds * 1000;
  return `ge${new Date(t).toISOString()}`;
}

function baseParams(ctx: RunContext, type: string, since: string | null): SearchParams {
  const params: SearchParams = { ...(ctx.config.searchParams[type] ?? {}) };
  if (ctx.config.pageSize) params._count = ctx.config.pageSize;
  const lastUpdated = sinceParam(ctx, type, since);
  if (lastUpdated) params._lastUpdated = lastUpdated;
  return params;
}

/**
 * Follows one search to its end. `checkpointFor(next, passStartedAt)` says what to store with each page.
 * Returns the pass start (server time of its first page).
 */
async function followSearch(
  ctx: RunContext,
  scope: string,
  type: string,
  first: FhirResult<Bundle>,
  passStartedAt: string | null,
  checkpointFor: (next: string | undefined, passStartedAt: string | null) => CheckpointState,
): Promise<string | null> {
  let page = first;
  const seen = new Set<string>([page.url]);
  let started = passStartedAt ?? serverTime(page.body, page.headers);
  for (;;) {
    const where = describeUrl(page.url);
    const sorted = sortBundle(page.body, type, where);
    for (const w of sorted.warnings) ctx.logger?.warn({ sourceId: ctx.sourceId, runId: ctx.runId }, w);
    const next = page.body.link?.find((l) => l.relation === 'next')?.url;
    if (next && seen.has(ctx.http.absolute(next))) {
      throw new ConnectorError(
        'paging-loop',
        `Server's next link repeats an earlier page of ${type}; stopping (REST-01)`,
      );
    }
    // Only the links are needed after the commit: the parsed page must not stay reachable while the page's
    // transaction runs (see prepareResources).
    const links: Bundle = { resourceType: 'Bundle', type: 'searchset', link: page.body.link ?? [] };
    await ctx.commitPage({
      scope,
      pageUrl: where,
      fetched: sorted.fetched,
      items: sorted.items,
      deadLetters: sorted.deadLetters,
      warnings: sorted.warnings,
      checkpoint: checkpointFor(next, started),
    });
    if (!next) return started;
    const following = await ctx.http.nextPage(links);
    if (!following) return started;
    page = asBundle(following);
    seen.add(page.url);
    started ??= serverTime(page.body, page.headers);
  }
}

/** Type-level search sync of one type, resuming an interrupted pass from its stored next link. */
export async function syncTypeIncremental(ctx: RunContext, type: string): Promise<void> {
  const scope = type;
  const cp = await ctx.loadCheckpoint(scope);
  const since = cp?.since ?? null;
  let first: FhirResult<Bundle> | undefined;
  let passStartedAt: string | null = null;
  if (cp?.cursor) {
    try {
      first = asBundle(await ctx.http.get(cp.cursor));
      passStartedAt = cp.passStartedAt;
    } catch (e) {
      // An expired paging link (servers keep them briefly): restart the pass from the checkpoint.
      if (!(e instanceof ConnectorError) || e.reason === 'aborted' || e.retryable) throw e;
      ctx.logger?.warn(
        { sourceId: ctx.sourceId, type, reason: e.reason },
        'stored next link no longer valid; restarting pass',
      );
    }
  }
  first ??= asBundle(await ctx.http.get(type, baseParams(ctx, type, since)));
  await followSearch(ctx, scope, type, first, passStartedAt, (next, started) =>
    next
      ? { since, passStartedAt: started, cursor: ctx.http.absolute(next) }
      : { since: started ?? since, passStartedAt: null, cursor: null },
  );
}

/**
 * Types whose search needs `patient` (Epic, ORA-02): iterate the source's cached patients in id order; the
 * cursor is the last patient finished, so a resumed pass redoes at most one patient (idempotent upserts).
 */
export async function syncTypeByPatient(ctx: RunContext, type: string): Promise<void> {
  const scope = type;
  const cp = await ctx.loadCheckpoint(scope);
  const since = cp?.since ?? null;
  let passStartedAt = cp?.cursor ? cp.passStartedAt : null;
  const patients = await ctx.database.db
    .select({ id: fhirResource.resourceId })
    .from(fhirResource)
    .where(
      and(
        eq(fhirResource.tenantId, ctx.tenantId),
        eq(fhirResource.sourceId, ctx.sourceId),
        eq(fhirResource.resourceType, 'Patient'),
        eq(fhirResource.deleted, false),
      ),
    )
    .orderBy(asc(fhirResource.resourceId));
  let done = cp?.cursor ?? null;
  for (const { id } of patients) {
    if (done !== null && id <= done) continue;
    const first = asBundle(await ctx.http.get(type, { ...baseParams(ctx, type, since), patient: id }));
    const previous = done;
    passStartedAt = await followSearch(ctx, scope, type, first, passStartedAt, (next, started) => ({
      since,
      passStartedAt: started,
      cursor: next ? previous : id,
    }));
    done = id;
  }
  await ctx.commitPage({
    scope,
    pageUrl: `${type} by patient`,
    fetched: 0,
    items: [],
    deadLetters: [],
    checkpoint: { since: passStartedAt ?? since, passStartedAt: null, cursor: null },
    countsAsPage: false,
  });
}

async function pool(limit: number, tasks: (() => Promise<void>)[]): Promise<void> {
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (next < tasks.length && failed === undefined) {
      const task = tasks[next++]!;
      try {
        await task();
      } catch (e) {
        failed ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  if (failed !== undefined) throw failed;
}

/**
 * First full sync of a type in parallel `_lastUpdated` slices (settings.timeSlices): slice i covers
 * [b(i), b(i+1)) with open ends at both extremes, so every resource falls in exactly one slice. Each slice
 * checkpoints under its own scope; the type's checkpoint becomes the server time taken before slicing.
 */
export async function syncTypeSliced(ctx: RunContext, type: string): Promise<void> {
  const slicing = ctx.config.timeSlices;
  const cp = await ctx.loadCheckpoint(type);
  if (!slicing || cp?.since || cp?.cursor || !ctx.capabilities.lastUpdatedTypes.includes(type)) {
    return syncTypeIncremental(ctx, type);
  }
  const probe = asBundle(await ctx.http.get(type, { _count: 1 }));
  const until = serverTime(probe.body, probe.headers);
  const from = Date.parse(slicing.from);
  if (!until || Date.parse(until) <= from) return syncTypeIncremental(ctx, type);
  const step = (Date.parse(until) - from) / slicing.count;
  const boundary = (i: number) => new Date(from + Math.round(i * step)).toISOString();
  const tasks = Array.from({ length: slicing.count }, (_, i) => async () => {
    const scope = `${type}#slice-${i + 1}-of-${slicing.count}`;
    const sliceCp = await ctx.loadCheckpoint(scope);
    if (sliceCp?.since && !sliceCp.cursor) return; // finished before a crash
    const range: string[] = [];
    if (i > 0) range.push(`ge${boundary(i)}`);
    if (i < slicing.count - 1) range.push(`lt${boundary(i + 1)}`);
    const params: SearchParams = { ...baseParams(ctx, type, null), _lastUpdated: range };
    const first = sliceCp?.cursor
      ? asBundle(await ctx.http.get(sliceCp.cursor))
      : asBundle(await ctx.http.get(type, params));
    await followSearch(ctx, scope, type, first, sliceCp?.passStartedAt ?? null, (next, started) =>
      next
        ? { since: null, passStartedAt: started, cursor: ctx.http.absolute(next) }
        : { since: started ?? until, passStartedAt: null, cursor: null },
    );
  });
  await pool(ctx.config.concurrency, tasks);
  await ctx.commitPage({
    scope: type,
    pageUrl: `${type} time slices`,
    fetched: 0,
    items: [],
    deadLetters: [],
    checkpoint: { since: until, passStartedAt: null, cursor: null },
    countsAsPage: false,
  });
}

/** Resource types in sync order: Patient first (patient-scoped types iterate it). */
export function syncOrder(types: readonly string[]): string[] {
  return [...types].sort((a, b) => (a === 'Patient' ? -1 : b === 'Patient' ? 1 : 0));
}
