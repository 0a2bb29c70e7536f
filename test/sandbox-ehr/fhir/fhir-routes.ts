// HTTP adapter around @medplum/fhir-router: turns a Request into a FhirRequest, and the router's
// answer into a FHIR HTTP response with what the memory repository leaves out — absolute `fullUrl`s,
// `_count`/`_offset` paging links, ETag/Last-Modified (VER-01) and Location on create (VER-05).
import { getStatus } from '@medplum/core';
import type { FhirRequest, HttpMethod } from '@medplum/fhir-router';
import type { Bundle, Resource } from 'fhir/r4';
import type { SandboxContext } from '../context';
import { isKnownResourceType } from './definitions';
import { FhirHttpError, fhirResponse, operationOutcome } from './outcome';
import { normaliseSearch, type SearchQuery, searchQueryFrom } from './search-params';

const METHODS = new Set<HttpMethod>(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);

/** Handles one request under the FHIR base; `path` is relative to it (e.g. `Patient/123`). */
export async function handleFhirRequest(ctx: SandboxContext, request: Request, path: string): Promise<Response> {
  const method = request.method as HttpMethod;
  if (!METHODS.has(method)) throw new FhirHttpError(405, FhirHttpError.badRequest('Method not allowed').outcome);
  const url = new URL(request.url);
  const segments = path.split('/').filter(Boolean);
  const resourceType = segments[0];
  if (resourceType && !isKnownResourceType(resourceType)) {
    throw FhirHttpError.notFound('Unknown resource type');
  }

  const isSearch =
    resourceType !== undefined &&
    ((method === 'GET' && segments.length === 1) ||
      (method === 'POST' && segments.length === 2 && segments[1] === '_search'));
  if (isSearch) {
    return search(
      ctx,
      request,
      resourceType,
      method === 'POST' ? await formQuery(request, url) : searchQueryFrom(url.searchParams),
    );
  }

  const body = method === 'POST' || method === 'PUT' || method === 'PATCH' ? await jsonBody(request) : undefined;
  const existedBefore =
    method === 'PUT' && resourceType && segments[1] && segments.length === 2
      ? await ctx.repo.readResource(resourceType, segments[1]).then(
          () => true,
          () => false,
        )
      : true;

  const fhirRequest: FhirRequest = {
    method,
    url: path + url.search,
    pathname: '',
    params: {},
    query: {},
    body,
    headers: Object.fromEntries(request.headers),
  };
  const [outcome, resource] = await ctx.router.handleRequest(fhirRequest, ctx.repo);
  let status = getStatus(outcome);
  if (
    status === 404 &&
    method === 'GET' &&
    segments.length === 2 &&
    ctx.repo.isDeleted(resourceType as string, segments[1] as string)
  ) {
    // ERR-03: a read of a deleted resource is 410 Gone (R4 http.html#read).
    throw new FhirHttpError(410, operationOutcome('deleted', 'Resource has been deleted'));
  }
  if (status >= 400 || !resource) {
    return fhirResponse(outcome, status);
  }
  const result = resource as Resource;
  if (result.resourceType === 'Bundle') {
    return fhirResponse(withFullUrls(ctx, result as Bundle), status);
  }
  const headers = versionHeaders(result);
  if (method === 'GET' && matchesEtag(request.headers.get('if-none-match'), headers.ETag)) {
    // VER-02: conditional read.
    return new Response(null, { status: 304, headers });
  }
  if (method === 'PUT' && !existedBefore) status = 201;
  if (status === 201 && result.id && result.meta?.versionId) {
    headers.Location = `${ctx.fhirBaseUrl}/${result.resourceType}/${result.id}/_history/${result.meta.versionId}`;
  }
  return fhirResponse(result, status, headers);
}

async function search(
  ctx: SandboxContext,
  request: Request,
  resourceType: string,
  raw: SearchQuery,
): Promise<Response> {
  const { pageSizeDefault, pageSizeMax } = ctx.options;
  const normalised = normaliseSearch(resourceType, raw, pageSizeDefault, pageSizeMax);
  const fhirRequest: FhirRequest = {
    method: 'GET',
    url: resourceType,
    pathname: '',
    params: {},
    query: normalised.query,
    body: undefined,
    headers: Object.fromEntries(request.headers),
  };
  const [outcome, resource] = await ctx.router.handleRequest(fhirRequest, ctx.repo);
  const status = getStatus(outcome);
  if (status >= 400 || !resource) return fhirResponse(outcome, status >= 400 ? status : 500);
  const bundle = withFullUrls(ctx, resource as Bundle);
  const total = bundle.total ?? 0;
  const { count, offset } = normalised;
  const pageUrl = (pageOffset: number): string => {
    const params = new URLSearchParams(normalised.linkParams);
    params.set('_count', String(count));
    params.set('_offset', String(pageOffset));
    return `${ctx.fhirBaseUrl}/${resourceType}?${params.toString()}`;
  };
  // REST-01: absolute, server-supplied links; clients follow `next` until it is absent.
  bundle.link = [{ relation: 'self', url: pageUrl(offset) }];
  if (count > 0 && offset + count < total) bundle.link.push({ relation: 'next', url: pageUrl(offset + count) });
  if (count > 0 && offset > 0) bundle.link.push({ relation: 'previous', url: pageUrl(Math.max(0, offset - count)) });
  for (const entry of bundle.entry ?? []) {
    entry.search = { mode: 'match' };
    if (normalised.elements && entry.resource) entry.resource = subset(entry.resource, normalised.elements);
  }
  return fhirResponse(bundle, 200);
}

/** `_elements`: mandatory elements plus the named ones, tagged SUBSETTED (R4 search.html#elements). */
function subset(resource: Resource, elements: string[]): Resource {
  const source = resource as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = { resourceType: resource.resourceType, id: resource.id };
  for (const name of elements) if (source[name] !== undefined) out[name] = source[name];
  out.meta = {
    ...resource.meta,
    tag: [
      ...(resource.meta?.tag ?? []),
      { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' },
    ],
  };
  return out as unknown as Resource;
}

function withFullUrls(ctx: SandboxContext, bundle: Bundle): Bundle {
  return {
    resourceType: 'Bundle',
    id: crypto.randomUUID(),
    // INC-01: clients take the first page's meta.lastUpdated as their next checkpoint.
    meta: { lastUpdated: new Date().toISOString() },
    type: bundle.type,
    ...(bundle.total !== undefined ? { total: bundle.total } : {}),
    link: bundle.link,
    entry: bundle.entry?.map((entry) => ({
      ...(entry.resource?.id
        ? { fullUrl: `${ctx.fhirBaseUrl}/${entry.resource.resourceType}/${entry.resource.id}` }
        : {}),
      ...entry,
    })),
  };
}

function versionHeaders(resource: Resource): Record<string, string> {
  const headers: Record<string, string> = {};
  if (resource.meta?.versionId) headers.ETag = `W/"${resource.meta.versionId}"`;
  if (resource.meta?.lastUpdated) headers['Last-Modified'] = new Date(resource.meta.lastUpdated).toUTCString();
  return headers;
}

function matchesEtag(ifNoneMatch: string | null, etag: string | undefined): boolean {
  if (!ifNoneMatch || !etag) return false;
  return ifNoneMatch.split(',').some((tag) => tag.trim() === etag || tag.trim() === etag.slice(2));
}

async function jsonBody(request: Request): Promise<unknown> {
  const text = await request.text();
  if (!text) throw FhirHttpError.badRequest('Missing request body');
  try {
    const body = JSON.parse(text) as unknown;
    if (typeof body !== 'object' || body === null) throw new Error('not an object');
    return body;
  } catch {
    throw FhirHttpError.badRequest('Request body is not valid JSON');
  }
}

/** REST-05: `POST [type]/_search` with a form body; URL parameters are merged in. */
async function formQuery(request: Request, url: URL): Promise<SearchQuery> {
  const type = request.headers.get('content-type') ?? '';
  if (!type.startsWith('application/x-www-form-urlencoded')) {
    throw FhirHttpError.badRequest('_search expects application/x-www-form-urlencoded');
  }
  const merged = new URLSearchParams(url.searchParams);
  for (const [key, value] of new URLSearchParams(await request.text())) merged.append(key, value);
  return searchQueryFrom(merged);
}
