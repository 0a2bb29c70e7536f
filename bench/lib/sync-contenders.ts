// The two reference clients of the sync benchmark (issue #3), measured in the same run as fhirdesk:
// - the machine's limit: plain `fetch` of the same pages over N parallel `_lastUpdated` slices, each page
//   written with one COPY into a per-connection staging table merged into `fhir_resource`;
// - a naive client: fhir-kit-client `search` + `nextPage`, one INSERT per resource.
// Both derive the same columns as the engine's cache writer (patientOf, contentHash), so the comparison is
// about fetching and writing, not about doing less per resource.

import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { canonicalResourceJson, contentHash, hashCanonicalJson, patientOf } from '@fhirdesk/core';
import { Client } from 'fhir-kit-client';
import type postgres from 'postgres';

type Resource = Record<string, unknown> & {
  resourceType: string;
  id: string;
  meta?: { versionId?: string; lastUpdated?: string };
};
interface SearchBundle {
  meta?: { lastUpdated?: string };
  entry?: { resource?: Resource }[];
  link?: { relation: string; url: string }[];
}

export interface Scope {
  tenantId: string;
  sourceId: string;
}

// The staging table holds only what varies per resource; tenant, source and fetch time are constants of the
// merge (as in the engine's cache writer).
const STAGE_COLUMNS =
  'resource_type, resource_id, version_id, last_updated, last_updated_at, patient_id, resource, content_hash';
const MERGE_SET = `version_id = excluded.version_id, last_updated = excluded.last_updated,
  last_updated_at = excluded.last_updated_at, patient_id = excluded.patient_id, resource = excluded.resource,
  content_hash = excluded.content_hash, fetched_at = excluded.fetched_at, deleted = false, deleted_at = null`;

const COPY_SPECIAL = /[\\\t\n\r]/;

/** COPY text format: backslash, tab, newline and carriage return are the characters to escape. */
function copyField(value: string | null): string {
  if (value === null) return '\\N';
  if (!COPY_SPECIAL.test(value)) return value;
  return value.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

/**
 * One COPY line per resource. The canonical JSON is computed anyway for the content hash and is valid JSON of
 * the same resource, so it is also the jsonb value: one serialisation per resource, as in the engine.
 */
function copyRows(resources: Resource[]): string {
  let out = '';
  for (const r of resources) {
    const lastUpdated = r.meta?.lastUpdated ?? null;
    const canonical = canonicalResourceJson(r);
    out += `${copyField(r.resourceType)}\t${copyField(r.id)}\t${copyField(r.meta?.versionId ?? null)}\t${copyField(lastUpdated)}\t${copyField(
      lastUpdated,
    )}\t${copyField(patientOf(r) ?? null)}\t${copyField(canonical)}\t${hashCanonicalJson(canonical)}\n`;
  }
  return out;
}

/** `_lastUpdated` boundaries as the engine computes them (incremental.ts syncTypeSliced). */
export function sliceRanges(from: string, until: string, count: number): string[][] {
  const start = Date.parse(from);
  const step = (Date.parse(until) - start) / count;
  const b = (i: number) => new Date(start + Math.round(i * step)).toISOString();
  return Array.from({ length: count }, (_, i) => {
    const range: string[] = [];
    if (i > 0) range.push(`ge${b(i)}`);
    if (i < count - 1) range.push(`lt${b(i + 1)}`);
    return range;
  });
}

async function getJson(url: string): Promise<SearchBundle> {
  const response = await fetch(url, { headers: { accept: 'application/fhir+json' } });
  if (!response.ok) throw new Error(`HTTP ${response.status} from ${url.split('?')[0]}`);
  return (await response.json()) as SearchBundle;
}

/**
 * The limit: per type, `slices` workers each follow one `_lastUpdated` range; each page is one transaction
 * of COPY into a temp staging table (ON COMMIT DELETE ROWS) and one INSERT … SELECT … ON CONFLICT merge.
 * The staged jsonb is compressed with lz4 where the server has it, as the engine does, so the merged value
 * is compressed once. Returns the resources written.
 */
export async function copyBaseline(
  sql: postgres.Sql,
  baseUrl: string,
  scope: Scope,
  types: readonly string[],
  options: { from: string; slices: number; pageSize: number },
): Promise<number> {
  const [setting] = await sql<{ lz4: boolean }[]>`
    select 'lz4' = any (enumvals) as lz4 from pg_settings where name = 'default_toast_compression'`;
  const stageResource = setting?.lz4 ? 'resource jsonb compression lz4 not null' : 'resource jsonb not null';
  let written = 0;
  for (const type of types) {
    const probe = await getJson(`${baseUrl}/${type}?_count=1`);
    const until = probe.meta?.lastUpdated ?? new Date().toISOString();
    await Promise.all(
      sliceRanges(options.from, until, options.slices).map(async (range) => {
        const conn = await sql.reserve();
        try {
          await conn.unsafe(
            `create temp table if not exists limit_stage (resource_type text not null, resource_id text not null,
              version_id text, last_updated text, last_updated_at timestamptz, patient_id text, ${stageResource},
              content_hash text not null) on commit delete rows`,
          );
          const query = new URLSearchParams({ _count: String(options.pageSize) });
          for (const r of range) query.append('_lastUpdated', r);
          let url: string | undefined = `${baseUrl}/${type}?${query}`;
          while (url) {
            const page = await getJson(url);
            const resources = (page.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));
            // Everything the page's transaction needs, taken before its first await, so the parsed page is
            // garbage while the transaction runs (as in the engine).
            const count = resources.length;
            const data = count > 0 ? copyRows(resources) : '';
            const next = page.link?.find((l) => l.relation === 'next')?.url;
            if (count > 0) {
              await conn`begin`;
              const copy = await conn.unsafe(`copy limit_stage (${STAGE_COLUMNS}) from stdin`).writable();
              await pipeline(Readable.from([data]), copy);
              await conn.unsafe(
                `insert into fhir_resource (tenant_id, source_id, ${STAGE_COLUMNS}, fetched_at)
                 select $1::uuid, $2::uuid, ${STAGE_COLUMNS}, $3::timestamptz from limit_stage
                 on conflict (tenant_id, source_id, resource_type, resource_id) do update set ${MERGE_SET}
                 where fhir_resource.content_hash <> excluded.content_hash`,
                [scope.tenantId, scope.sourceId, new Date().toISOString()],
              );
              await conn`commit`;
              written += count;
            }
            url = next;
          }
        } finally {
          conn.release();
        }
      }),
    );
  }
  return written;
}

/**
 * The naive client: fhir-kit-client search then `nextPage` until there is none, one autocommitted
 * INSERT … ON CONFLICT per resource. Stops after `seconds` (the caller extrapolates the rate).
 */
export async function naiveClient(
  sql: postgres.Sql,
  baseUrl: string,
  scope: Scope,
  types: readonly string[],
  options: { pageSize: number; seconds: number },
): Promise<{ written: number; seconds: number; complete: boolean }> {
  const client = new Client({ baseUrl });
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  let written = 0;
  for (const type of types) {
    let page = (await client.search({
      resourceType: type,
      searchParams: { _count: options.pageSize },
    })) as SearchBundle;
    for (;;) {
      for (const entry of page.entry ?? []) {
        const r = entry.resource;
        if (!r) continue;
        const lastUpdated = r.meta?.lastUpdated ?? null;
        await sql`insert into fhir_resource (tenant_id, source_id, resource_type, resource_id, version_id, last_updated,
            last_updated_at, patient_id, resource, content_hash, fetched_at)
          values (${scope.tenantId}, ${scope.sourceId}, ${r.resourceType}, ${r.id}, ${r.meta?.versionId ?? null},
            ${lastUpdated}, ${lastUpdated}, ${patientOf(r) ?? null}, ${sql.json(r as postgres.JSONValue)},
            ${contentHash(r)}, now())
          on conflict (tenant_id, source_id, resource_type, resource_id) do update set
            resource = excluded.resource, content_hash = excluded.content_hash, fetched_at = excluded.fetched_at`;
        written++;
        if (performance.now() > deadline)
          return { written, seconds: (performance.now() - started) / 1000, complete: false };
      }
      const next = (await client.nextPage({ bundle: page as never })) as SearchBundle | false | undefined;
      if (!next) break;
      page = next;
    }
  }
  return { written, seconds: (performance.now() - started) / 1000, complete: true };
}
