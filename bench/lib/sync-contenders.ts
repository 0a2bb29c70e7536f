// The two reference clients of the sync benchmark (issue #3), measured in the same run as fhirdesk:
// - the machine's limit: plain `fetch` of the same pages over N parallel `_lastUpdated` slices, each page
//   written with one COPY into a per-connection staging table merged into `fhir_resource`;
// - a naive client: fhir-kit-client `search` + `nextPage`, one INSERT per resource.
// Both derive the same columns as the engine's cache writer (patientOf, contentHash), so the comparison is
// about fetching and writing, not about doing less per resource.
import { contentHash, patientOf } from '@fhirdesk/core';
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

const COLUMNS =
  'tenant_id, source_id, resource_type, resource_id, version_id, last_updated, last_updated_at, patient_id, resource, content_hash, fetched_at';
const MERGE_SET = `version_id = excluded.version_id, last_updated = excluded.last_updated,
  last_updated_at = excluded.last_updated_at, patient_id = excluded.patient_id, resource = excluded.resource,
  content_hash = excluded.content_hash, fetched_at = excluded.fetched_at, deleted = false, deleted_at = null`;

/** COPY text format: backslash is the only character JSON.stringify output can contain that needs escaping. */
function copyField(value: string | null): string {
  if (value === null) return '\\N';
  return value.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

function copyRows(scope: Scope, resources: Resource[], fetchedAt: string): string {
  let out = '';
  for (const r of resources) {
    const lastUpdated = r.meta?.lastUpdated ?? null;
    out += `${[
      scope.tenantId,
      scope.sourceId,
      r.resourceType,
      r.id,
      r.meta?.versionId ?? null,
      lastUpdated,
      lastUpdated,
      patientOf(r) ?? null,
      JSON.stringify(r),
      contentHash(r),
      fetchedAt,
    ]
      .map(copyField)
      .join('\t')}\n`;
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
 * Returns the resources written.
 */
export async function copyBaseline(
  sql: postgres.Sql,
  baseUrl: string,
  scope: Scope,
  types: readonly string[],
  options: { from: string; slices: number; pageSize: number },
): Promise<number> {
  let written = 0;
  for (const type of types) {
    const probe = await getJson(`${baseUrl}/${type}?_count=1`);
    const until = probe.meta?.lastUpdated ?? new Date().toISOString();
    await Promise.all(
      sliceRanges(options.from, until, options.slices).map(async (range) => {
        const conn = await sql.reserve();
        try {
          await conn.unsafe(
            `create temp table if not exists stage (like fhir_resource including defaults) on commit delete rows`,
          );
          const query = new URLSearchParams({ _count: String(options.pageSize) });
          for (const r of range) query.append('_lastUpdated', r);
          let url: string | undefined = `${baseUrl}/${type}?${query}`;
          while (url) {
            const page = await getJson(url);
            const resources = (page.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));
            if (resources.length > 0) {
              await conn`begin`;
              const copy = await conn.unsafe(`copy stage (${COLUMNS}) from stdin`).writable();
              copy.write(copyRows(scope, resources, new Date().toISOString()));
              copy.end();
              await new Promise<void>((resolve, reject) => {
                copy.on('finish', resolve);
                copy.on('error', reject);
              });
              await conn.unsafe(
                `insert into fhir_resource (${COLUMNS}) select ${COLUMNS} from stage
                 on conflict (tenant_id, source_id, resource_type, resource_id) do update set ${MERGE_SET}
                 where fhir_resource.content_hash <> excluded.content_hash`,
              );
              await conn`commit`;
              written += resources.length;
            }
            url = page.link?.find((l) => l.relation === 'next')?.url;
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
