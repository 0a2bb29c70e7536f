// MemoryRepository with the parts a sync/bench target needs: sequential versionIds, server-assigned
// lastUpdated, paging that clones only the page (the library clones every match), a per-query match
// cache so walking `next` links over 50k resources stays O(n) per query, and a deletion log for
// Bulk Data `deleted[]`.
import type { SearchRequest, SortRule, WithId } from '@medplum/core';
import {
  badRequest,
  deepClone,
  evalFhirPath,
  generateId,
  globalSchema,
  matchesSearchRequest,
  notFound,
  OperationOutcomeError,
  preconditionFailed,
} from '@medplum/core';
import type { CreateResourceOptions, UpdateResourceOptions } from '@medplum/fhir-router';
import { MemoryRepository } from '@medplum/fhir-router';
import type { Bundle, Resource } from '@medplum/fhirtypes';

export interface HistoryEntry {
  resource?: Resource;
  request: { method: 'POST' | 'PUT' | 'DELETE'; url: string };
  response: { status: string; etag?: string; lastModified: string };
}

export interface DeletedResource {
  resource: Resource;
  deletedAt: string;
  /** Write order, to order a delete and a write that share one millisecond. */
  seq: number;
}

interface CachedMatches {
  generation: number;
  matches: Resource[];
}

const MATCH_CACHE_SIZE = 32;

export class SandboxRepository extends MemoryRepository {
  /** Bumped on every write; cached search results from older generations are stale. */
  private generation = 0;
  private lastStamp = 0;
  /** Write order of each stored version (`type/id/versionId`), for history ties within one millisecond. */
  private writeSeq = 0;
  private readonly versionSeq = new Map<string, number>();
  private readonly matchCache = new Map<string, CachedMatches>();
  readonly deletions: DeletedResource[] = [];
  private readonly deletedKeys = new Set<string>();

  /** The library's private stores, read directly so search and counts avoid cloning everything. */
  private get store(): Map<string, Map<string, Resource>> {
    // biome-ignore lint/complexity/useLiteralKeys: a TS-private field of MemoryRepository, reachable only this way
    return this['resources'];
  }

  private get versions(): Map<string, Map<string, Resource[]>> {
    // biome-ignore lint/complexity/useLiteralKeys: a TS-private field of MemoryRepository, reachable only this way
    return this['history'];
  }

  /**
   * FHIR create: the server assigns the id (R4 http.html#create) unless the batch processor already
   * resolved one for a `urn:uuid:` placeholder (it passes `assignedId`).
   */
  override createResource<T extends Resource>(resource: T, options?: CreateResourceOptions): Promise<WithId<T>> {
    const id = options?.assignedId && resource.id ? resource.id : this.generateId();
    return this.put({ ...resource, id });
  }

  /** FHIR update, including update-as-create with a client-chosen id (R4 http.html#upsert). */
  override async updateResource<T extends Resource>(resource: T, options?: UpdateResourceOptions): Promise<WithId<T>> {
    if (!resource.id) {
      throw new OperationOutcomeError(badRequest('Missing id'));
    }
    if (options?.ifMatch) {
      const existing = this.store.get(resource.resourceType)?.get(resource.id);
      if (!existing) throw new OperationOutcomeError(notFound);
      if (existing.meta?.versionId !== options.ifMatch) throw new OperationOutcomeError(preconditionFailed);
    }
    return this.put(resource);
  }

  override async deleteResource(resourceType: string, id: string): Promise<void> {
    const existing = this.store.get(resourceType)?.get(id);
    await super.deleteResource(resourceType, id);
    if (existing) {
      this.deletions.push({ resource: existing, deletedAt: this.nextTimestamp(), seq: ++this.writeSeq });
      this.deletedKeys.add(`${resourceType}/${id}`);
      this.generation++;
    }
  }

  /** The library reverses its stored history array in place; this returns a reversed copy instead. */
  override async readHistory<T extends Resource>(resourceType: string, id: string): Promise<Bundle<T>> {
    await this.readResource(resourceType, id);
    const entry = [...((this.versions.get(resourceType)?.get(id) ?? []) as T[])]
      .reverse()
      .map((version) => ({ resource: deepClone(version) }));
    return { resourceType: 'Bundle', type: 'history', ...(entry.length ? { entry } : undefined) };
  }

  override async search<T extends Resource>(searchRequest: SearchRequest<T>): Promise<Bundle<WithId<T>>> {
    const matches = this.matching(searchRequest);
    const offset = searchRequest.offset ?? 0;
    const page =
      searchRequest.count === undefined ? matches.slice(offset) : matches.slice(offset, offset + searchRequest.count);
    return {
      resourceType: 'Bundle',
      type: 'searchset',
      entry: page.length ? page.map((resource) => ({ resource: deepClone(resource) as WithId<T> })) : undefined,
      total: matches.length,
    };
  }

  /** True when the resource existed and its latest operation was a delete (R4 http.html#delete: read gives 410). */
  isDeleted(resourceType: string, id: string): boolean {
    return this.deletedKeys.has(`${resourceType}/${id}`);
  }

  /**
   * Type history (R4 http.html#history): every stored version and every delete of a type, newest first,
   * optionally only those after `since`. A delete is an entry with `request.method` DELETE and no resource.
   */
  typeHistory(resourceType: string, since?: string): HistoryEntry[] {
    const entries: { at: string; seq: number; entry: HistoryEntry }[] = [];
    const after = (at: string) => since === undefined || at > since;
    for (const list of this.versions.get(resourceType)?.values() ?? []) {
      for (const version of list) {
        const at = version.meta?.lastUpdated ?? '';
        if (!after(at)) continue;
        const created = version.meta?.versionId === '1';
        entries.push({
          at,
          seq: this.versionSeq.get(`${resourceType}/${version.id}/${version.meta?.versionId}`) ?? 0,
          entry: {
            resource: deepClone(version),
            request: {
              method: created ? 'POST' : 'PUT',
              url: created ? resourceType : `${resourceType}/${version.id}`,
            },
            response: { status: created ? '201' : '200', etag: `W/"${version.meta?.versionId}"`, lastModified: at },
          },
        });
      }
    }
    for (const { resource, deletedAt, seq } of this.deletions) {
      if (resource.resourceType !== resourceType || !after(deletedAt)) continue;
      entries.push({
        at: deletedAt,
        seq,
        entry: {
          request: { method: 'DELETE', url: `${resourceType}/${resource.id}` },
          response: { status: '204', lastModified: deletedAt },
        },
      });
    }
    entries.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : b.seq - a.seq));
    return entries.map((e) => e.entry);
  }

  /** Number of current (not deleted) resources per type. */
  counts(): Record<string, number> {
    const result: Record<string, number> = {};
    for (const [type, resources] of this.store) {
      if (resources.size > 0) result[type] = resources.size;
    }
    return result;
  }

  /** Current resources of a type, uncloned: callers must not mutate them. */
  currentResources(type: string): Iterable<Resource> {
    return this.store.get(type)?.values() ?? [];
  }

  resourceTypes(): string[] {
    return [...this.store.keys()].filter((type) => (this.store.get(type)?.size ?? 0) > 0);
  }

  /** Matches for a request without paging, uncloned, memoised until the next write. */
  private matching(searchRequest: SearchRequest): Resource[] {
    const key = JSON.stringify([
      searchRequest.resourceType,
      searchRequest.filters ?? [],
      searchRequest.sortRules ?? [],
    ]);
    const cached = this.matchCache.get(key);
    if (cached && cached.generation === this.generation) return cached.matches;

    const matches: Resource[] = [];
    for (const resource of this.currentResources(searchRequest.resourceType)) {
      if (matchesSearchRequest(resource, searchRequest)) matches.push(resource);
    }
    // Array.prototype.sort is stable, so ties keep insertion order and pages stay deterministic.
    for (const rule of [...(searchRequest.sortRules ?? [])].reverse()) {
      const keyOf = sortKey(rule);
      const sign = rule.descending ? -1 : 1;
      const keyed = matches.map((resource) => ({ resource, sortValue: keyOf(resource) }));
      keyed.sort((a, b) => (a.sortValue < b.sortValue ? -sign : a.sortValue > b.sortValue ? sign : 0));
      keyed.forEach((item, i) => {
        matches[i] = item.resource;
      });
    }
    if (this.matchCache.size >= MATCH_CACHE_SIZE) {
      const oldest = this.matchCache.keys().next().value;
      if (oldest !== undefined) this.matchCache.delete(oldest);
    }
    this.matchCache.set(key, { generation: this.generation, matches });
    return matches;
  }

  private put<T extends Resource>(resource: T): Promise<WithId<T>> {
    const id = resource.id as string;
    this.deletedKeys.delete(`${resource.resourceType}/${id}`);
    const previous = this.versions.get(resource.resourceType)?.get(id) ?? [];
    const lastVersion = Number(previous[previous.length - 1]?.meta?.versionId ?? '0');
    // The server owns meta.versionId and meta.lastUpdated (R4 resource.html#Meta); published values
    // from fixtures are replaced so `_lastUpdated` reflects this server's clock.
    const stored = {
      ...resource,
      meta: {
        ...resource.meta,
        versionId: String(Number.isFinite(lastVersion) ? lastVersion + 1 : previous.length + 1),
        lastUpdated: this.nextTimestamp(),
      },
    };
    this.generation++;
    this.versionSeq.set(`${stored.resourceType}/${id}/${stored.meta.versionId}`, ++this.writeSeq);
    return super.createResource(stored);
  }

  /** Wall-clock instant, never earlier than the previous one, so `_lastUpdated` order follows write order. */
  private nextTimestamp(): string {
    this.lastStamp = Math.max(Date.now(), this.lastStamp);
    return new Date(this.lastStamp).toISOString();
  }

  override generateId(): string {
    return generateId();
  }
}

function sortKey(rule: SortRule): (resource: Resource) => string {
  if (rule.code === '_lastUpdated') return (resource) => resource.meta?.lastUpdated ?? '';
  if (rule.code === '_id') return (resource) => resource.id ?? '';
  return (resource) => {
    const expression = searchExpression(resource.resourceType, rule.code);
    return expression ? JSON.stringify(evalFhirPath(expression, resource)) : '';
  };
}

function searchExpression(resourceType: string, code: string): string | undefined {
  return globalSchema.types[resourceType]?.searchParams?.[code]?.expression;
}
