// Deletions in REST sync (issue #3): a search never returns what was deleted, so incremental runs read the
// type history (`[type]/_history?_since=`) where the server advertises `history-type`, and a `reconcile` run
// lists every id of each type and marks what the source no longer has (INC-02: set difference, which is only
// sound on a complete listing; BS-09: fewer results are not deletions unless the listing is complete).
import { schema } from '@fhirdesk/core';
import { and, eq } from 'drizzle-orm';
import type { Bundle, BundleEntry } from 'fhir/r4';
import type { SearchParams } from 'fhir-kit-client';
import { ConnectorError } from '../errors';
import { describeUrl, type FhirResult } from '../http/fhir-http';
import type { DeletionMark } from './cache-writer';
import { serverTime } from './entries';
import { syncOrder } from './incremental';
import type { RunContext } from './run-context';

const { fhirResource } = schema;

/** Checkpoint scope of a type's history reads, separate from its search checkpoint. */
export const historyScope = (type: string): string => `${type}#history`;

function asBundle(result: FhirResult<unknown>, what: string): FhirResult<Bundle> {
  const body = result.body as { resourceType?: unknown };
  if (body?.resourceType !== 'Bundle') {
    throw new ConnectorError('invalid-body', `Expected a Bundle for ${what} from ${describeUrl(result.url)}`);
  }
  return result as FhirResult<Bundle>;
}

/** Walks `first` and its `next` links (REST-01: as given, never twice; REST-06 origin rule in FhirHttp). */
async function eachPage(
  ctx: RunContext,
  what: string,
  first: FhirResult<Bundle>,
  visit: (page: FhirResult<Bundle>) => Promise<void>,
): Promise<void> {
  let page = first;
  const seen = new Set<string>([page.url]);
  for (;;) {
    await visit(page);
    const next = page.body.link?.find((l) => l.relation === 'next')?.url;
    if (!next) return;
    if (seen.has(ctx.http.absolute(next))) {
      throw new ConnectorError('paging-loop', `Server's next link repeats an earlier page of ${what}; stopping`);
    }
    const following = await ctx.http.nextPage(page.body);
    if (!following) return;
    page = asBundle(following, what);
    seen.add(page.url);
  }
}

/** `Type/id` or `Type/id/_history/v`, relative or absolute, of the expected type → id. */
function idFromUrl(url: string | undefined, type: string): string | undefined {
  if (!url) return undefined;
  const parts = url.split('?')[0]!.split('/');
  const at = parts.lastIndexOf(type);
  const id = at >= 0 ? parts[at + 1] : undefined;
  return id && /^[A-Za-z0-9\-.]{1,64}$/.test(id) ? id : undefined;
}

function instant(value: string | undefined): Date | undefined {
  if (!value) return undefined;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : new Date(t);
}

/**
 * After a type's search pass: marks what the type history reports deleted since the history checkpoint
 * (minus the overlap), or, without `history-type`, warns once per run that a reconcile is needed.
 * `searchSinceBefore` is the type's search checkpoint as it was before this run's pass.
 */
export async function syncTypeDeletions(
  ctx: RunContext,
  type: string,
  searchSinceBefore: string | null,
): Promise<void> {
  if (!ctx.capabilities.historyTypes.includes(type)) {
    await ctx.warnOnce(`deletions of ${type} cannot be detected incrementally; run a reconcile`);
    return;
  }
  const scope = historyScope(type);
  const since = (await ctx.loadCheckpoint(scope))?.since ?? searchSinceBefore;
  if (!since) {
    // A first full pass holds no deleted resources; history starts where that pass started.
    const after = (await ctx.loadCheckpoint(type))?.since ?? null;
    if (after) {
      await ctx.commitPage({
        scope,
        pageUrl: `${type} history start`,
        fetched: 0,
        items: [],
        deadLetters: [],
        checkpoint: { since: after, passStartedAt: null, cursor: null },
        countsAsPage: false,
      });
    }
    return;
  }
  const params: SearchParams = {
    _since: new Date(Date.parse(since) - ctx.config.overlapSeconds * 1000).toISOString(),
  };
  if (ctx.config.pageSize) params._count = ctx.config.pageSize;
  const first = asBundle(await ctx.http.get(`${type}/_history`, params), `${type} history`);
  const started = serverTime(first.body, first.headers);
  // History is newest first: the first entry seen for an id is its current state, so a delete followed by
  // a re-create (or a write after a delete) leaves the resource live.
  const decided = new Set<string>();
  await eachPage(ctx, `${type} history`, first, async (page) => {
    const pageTime = serverTime(page.body, page.headers);
    const deletions: DeletionMark[] = [];
    for (const entry of (page.body.entry ?? []) as BundleEntry[]) {
      const resource = entry.resource;
      if (resource && resource.resourceType !== type) continue;
      const id = resource?.id ?? idFromUrl(entry.request?.url, type) ?? idFromUrl(entry.fullUrl, type);
      if (!id || decided.has(id)) continue;
      decided.add(id);
      // R4 http.html#history: a delete is an entry with request.method DELETE, or one without a resource.
      if (entry.request?.method === 'DELETE' || !resource) {
        const at = instant(entry.response?.lastModified) ?? instant(pageTime ?? undefined);
        if (!at) {
          await ctx.warnOnce(`${type} history gives no time for a delete; deletions of ${type} were not applied`);
          continue;
        }
        deletions.push({ resourceType: type, resourceId: id, deletedAt: at });
      }
    }
    const next = page.body.link?.find((l) => l.relation === 'next')?.url;
    await ctx.commitPage({
      scope,
      pageUrl: describeUrl(page.url),
      fetched: 0,
      items: [],
      deadLetters: [],
      deletions,
      // The history checkpoint moves only when the whole history pass is read; a failed pass is re-read.
      checkpoint: next
        ? { since, passStartedAt: started, cursor: null }
        : { since: started ?? since, passStartedAt: null, cursor: null },
    });
  });
}

interface Listing {
  type: string;
  ids: Set<string>;
  /** Server time the listing started: resources written after it may be missing from it legitimately. */
  startedAt?: Date | undefined;
  /** For patient-scoped types: only these patients' cached resources are compared. */
  patients?: Set<string>;
  complete: boolean;
}

/** `_elements=id` keeps the listing small; a server that refuses the parameter is asked for whole pages. */
async function firstIdPage(ctx: RunContext, type: string, params: SearchParams): Promise<FhirResult<unknown>> {
  try {
    const page = await ctx.http.get(type, { ...params, _elements: 'id' });
    if ((page.body as { resourceType?: unknown })?.resourceType !== 'OperationOutcome') return page;
  } catch (e) {
    if (!(e instanceof ConnectorError) || e.httpStatus !== 400) throw e;
  }
  return ctx.http.get(type, params);
}

async function listIds(ctx: RunContext, type: string, extra: Record<string, string>, listing: Listing): Promise<void> {
  const params: SearchParams = { ...(ctx.config.searchParams[type] ?? {}), ...extra };
  if (ctx.config.pageSize) params._count = ctx.config.pageSize;
  const first = asBundle(await firstIdPage(ctx, type, params), `${type} ids`);
  const total = typeof first.body.total === 'number' ? first.body.total : undefined;
  listing.startedAt ??= instant(serverTime(first.body, first.headers) ?? undefined);
  let listed = 0;
  await eachPage(ctx, `${type} ids`, first, async (page) => {
    let onPage = 0;
    for (const entry of page.body.entry ?? []) {
      const resource = entry.resource;
      if (resource?.resourceType === 'OperationOutcome' || entry.search?.mode === 'outcome') {
        // BS-09: the server withheld something; absence from this listing proves nothing.
        listing.complete = false;
        continue;
      }
      if (entry.search?.mode === 'include' || resource?.resourceType !== type || !resource.id) continue;
      if (!listing.ids.has(resource.id)) listed++;
      listing.ids.add(resource.id);
      onPage++;
    }
    // A bookkeeping write per page keeps the run's heartbeat fresh during a long listing.
    await ctx.commitPage({ pageUrl: describeUrl(page.url), fetched: onPage, items: [], deadLetters: [] });
  });
  // Offset paging over a changing server can skip entries: fewer ids than the first page's total is partial.
  if (total !== undefined && listed < total) listing.complete = false;
}

/**
 * Reconcile run: list every id of each configured type (patient-scoped types per cached patient), and only
 * when every listing completed, mark cached resources the source no longer has as deleted, all in one
 * transaction. A failed request fails the run before anything is marked.
 */
export async function reconcile(ctx: RunContext): Promise<void> {
  const patients = (
    await ctx.database.db
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
  ).map((r) => r.id);
  const listings: Listing[] = [];
  for (const type of syncOrder(ctx.config.resourceTypes)) {
    const listing: Listing = { type, ids: new Set(), complete: true };
    if (type !== 'Patient' && ctx.config.patientScopedTypes.includes(type)) {
      listing.patients = new Set(patients);
      for (const patient of patients) await listIds(ctx, type, { patient }, listing);
    } else {
      await listIds(ctx, type, {}, listing);
    }
    listings.push(listing);
  }

  const deletions: DeletionMark[] = [];
  const warnings: string[] = [];
  for (const listing of listings) {
    if (!listing.complete || !listing.startedAt) {
      warnings.push(`listing of ${listing.type} ids was incomplete or undated; no ${listing.type} marked deleted`);
      continue;
    }
    const cached = await ctx.database.db
      .select({ id: fhirResource.resourceId, patientId: fhirResource.patientId })
      .from(fhirResource)
      .where(
        and(
          eq(fhirResource.tenantId, ctx.tenantId),
          eq(fhirResource.sourceId, ctx.sourceId),
          eq(fhirResource.resourceType, listing.type),
          eq(fhirResource.deleted, false),
        ),
      );
    for (const row of cached) {
      if (listing.ids.has(row.id)) continue;
      if (listing.patients && !(row.patientId && listing.patients.has(row.patientId))) continue;
      deletions.push({ resourceType: listing.type, resourceId: row.id, deletedAt: listing.startedAt });
    }
  }
  await ctx.commitPage({
    pageUrl: 'reconcile',
    fetched: 0,
    items: [],
    deadLetters: [],
    deletions,
    warnings,
    countsAsPage: false,
  });
}
