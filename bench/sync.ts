// `npm run bench:sync` (issue #3): resources/s of a full fhirdesk sync (runSync, incremental mode, from an
// empty cache) of ≥ 50,000 financial resources from a local FHIR server into PostgreSQL, beside two clients
// measured in the same run against the same server: (a) the machine's limit — plain fetch over 4 parallel
// `_lastUpdated` slices, one COPY + merge per page — and (b) a naive fhir-kit-client with one INSERT per
// resource. Then the peak RSS of a Bulk `$export` sync of a 1,000,000-line NDJSON file (BULK-06: streamed).
// The last line of output is one JSON object with the figures.
//
// Environment: DATABASE_URL (admin URL; default postgres://postgres@127.0.0.1:5432/postgres),
// BENCH_SCALE (multiplies the resource and NDJSON line counts; default 1), BENCH_SYNC_RESOURCES (default
// 50,000 × scale), BENCH_BULK_LINES (default 1,000,000 × scale; 0 skips the memory phase), BENCH_PAGE_SIZE
// (default 500), BENCH_SLICES (default 4), BENCH_ROUNDS (limit/fhirdesk rounds, alternating; default 2),
// BENCH_NAIVE_SECONDS (the naive client runs this long and is extrapolated; default 20),
// BENCH_SYNC_SERVER (`static` (default) or `sandbox`: see bench/lib/fhir-page-server-process.ts for why;
// the Bulk phase needs `static`).
//
// Fairness: all three read the same server (a child process), derive the same columns per resource
// (patientOf, contentHash) and write into an emptied `fhir_resource`. fhirdesk additionally writes what the
// product needs per page: the checkpoint, `sync_run` counters and one audit row per patient (AUD-07).
// Because the machine is shared, each figure also gets its CPU cost (client + FHIR server + PostgreSQL
// ms per 1,000 resources); `cpu_ratio` = limit's cost ÷ fhirdesk's cost is less sensitive to other load.
// `peak_rss_mb` is the Bulk child's peak RSS (the parent's, during the REST phases, when the Bulk phase is
// skipped); `bulk_rss_growth_mb` is that peak minus its RSS after the first 50,000 lines (warm pools/JIT).
// Data: 11 resources per patient, `meta.lastUpdated` spread evenly over the past 365 days; the engine's
// source row has `settings.timeSlices = { from: oldest − 1 s, count: 4 }`, concurrency 4, pageSize 500.

import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { openDatabase, schema } from '@fhirdesk/core';
import postgres from 'postgres';
import { runSync, type SyncSummary } from '../packages/connectors/src/index';
import type { BulkMemoryResult } from './lib/bulk-memory-process';
import { localPostgresCpuMs, ownCpuMs } from './lib/cpu';
import { formatNumber, formatTable, ratio, round } from './lib/report';
import { formatBytes, PeakRssSampler } from './lib/rss';
import { createScratchDatabase, DEFAULT_DATABASE_URL, redactUrl, type ScratchDatabase } from './lib/scratch-database';
import { copyBaseline, naiveClient } from './lib/sync-contenders';
import { RESOURCES_PER_PATIENT, SYNC_TYPES } from './lib/sync-data';
import { type SyncSandbox, startSyncSandbox } from './lib/sync-sandbox';

const SCALE = envNumber('BENCH_SCALE', 1);
const RESOURCES = envNumber('BENCH_SYNC_RESOURCES', Math.round(50_000 * SCALE));
const BULK_LINES = envNumber('BENCH_BULK_LINES', Math.round(1_000_000 * SCALE), true);
const PAGE_SIZE = envNumber('BENCH_PAGE_SIZE', 500);
const SLICES = envNumber('BENCH_SLICES', 4);
const ROUNDS = envNumber('BENCH_ROUNDS', 2);
const NAIVE_SECONDS = envNumber('BENCH_NAIVE_SECONDS', 20);
const SERVER = process.env.BENCH_SYNC_SERVER === 'sandbox' ? 'sandbox' : 'static';
const ADMIN_URL = process.env.DATABASE_URL || DEFAULT_DATABASE_URL;
const SPREAD_DAYS = 365;

// Targets from issue #3.
const TARGET_LIMIT_RATIO = 0.8;
const TARGET_NAIVE_RATIO = 5;
const TARGET_BULK_GROWTH_MB = 100;

const { tenant, source } = schema;
const say = (line: string) => process.stdout.write(`${line}\n`);
const MB = 1024 * 1024;

function envNumber(name: string, fallback: number, allowZero = false): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0))
    throw new Error(`${name} must be a positive number, got "${raw}"`);
  return value;
}

interface Timed {
  resources: number;
  seconds: number;
  perSecond: number;
  clientCpuMs: number;
  postgresCpuMs: number | null;
  serverCpuMs: number;
}

async function timed(server: SyncSandbox, body: () => Promise<number>): Promise<Timed> {
  const cpu0 = ownCpuMs();
  const pg0 = localPostgresCpuMs();
  const srv0 = (await server.stats()).cpuMs;
  const t0 = performance.now();
  const resources = await body();
  const seconds = (performance.now() - t0) / 1000;
  const pg1 = localPostgresCpuMs();
  return {
    resources,
    seconds,
    perSecond: resources / seconds,
    clientCpuMs: ownCpuMs() - cpu0,
    postgresCpuMs: pg0 === null || pg1 === null ? null : pg1 - pg0,
    serverCpuMs: (await server.stats()).cpuMs - srv0,
  };
}

/** Client + FHIR server + PostgreSQL CPU ms per 1,000 resources (PostgreSQL: whole local server, approximate). */
const cpuPer1k = (t: Timed) => ((t.clientCpuMs + t.serverCpuMs + (t.postgresCpuMs ?? 0)) / t.resources) * 1000;

const describe = (t: Timed) =>
  `${t.resources} resources in ${t.seconds.toFixed(2)} s = ${formatNumber(t.perSecond)}/s ` +
  `(CPU ms per 1k resources: client ${formatNumber((t.clientCpuMs / t.resources) * 1000)}, ` +
  `server ${formatNumber((t.serverCpuMs / t.resources) * 1000)}, ` +
  `postgres ${t.postgresCpuMs === null ? 'n/a' : formatNumber((t.postgresCpuMs / t.resources) * 1000)})`;

async function runBulkMemory(url: string, tenantId: string, sourceId: string): Promise<BulkMemoryResult> {
  const entry = fileURLToPath(new URL('./lib/bulk-memory-process.ts', import.meta.url));
  const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const child = fork(entry, [], {
    execArgv: ['--import', tsxLoader],
    env: {
      ...process.env,
      BENCH_BULK_DATABASE_URL: url,
      BENCH_BULK_TENANT_ID: tenantId,
      BENCH_BULK_SOURCE_ID: sourceId,
      BENCH_BULK_WARM_LINES: String(Math.min(50_000, Math.round(BULK_LINES / 10))),
      BENCH_BULK_TOTAL_LINES: String(BULK_LINES),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (m: BulkMemoryResult) => resolve(m));
    child.once('exit', (code) => reject(new Error(`bulk memory child exited with code ${code} without a result`)));
  });
}

async function main(): Promise<void> {
  let scratch: ScratchDatabase | undefined;
  let server: SyncSandbox | undefined;
  let sql: postgres.Sql | undefined;
  let database: Awaited<ReturnType<typeof openDatabase>> | undefined;
  const cleanup = async () => {
    await server?.stop().catch(() => {});
    await sql?.end({ timeout: 5 }).catch(() => {});
    await database?.close().catch(() => {});
    await scratch?.drop().catch(() => {});
  };
  const onSignal = () => void cleanup().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    const patients = Math.ceil(RESOURCES / RESOURCES_PER_PATIENT);
    say(
      `sync benchmark: ${patients * RESOURCES_PER_PATIENT} resources (${SYNC_TYPES.join(', ')}), page size ${PAGE_SIZE}, ${SLICES} slices, server ${SERVER}`,
    );
    scratch = await createScratchDatabase(ADMIN_URL, `fhirdesk_bench_sync_${process.pid}`);
    say(`database ${scratch.name} on ${redactUrl(ADMIN_URL)}: migrating`);
    database = await openDatabase({ url: scratch.url, max: 10 });
    sql = postgres(scratch.url, { max: SLICES + 2, onnotice: () => {} });
    const tenantId = randomUUID();
    await database.db.insert(tenant).values({ id: tenantId, slug: `bench-${tenantId}`, name: 'Bench clinic' });

    say(`starting the FHIR server (${SERVER}) and loading ${patients * RESOURCES_PER_PATIENT} resources…`);
    server = await startSyncSandbox({
      patients,
      pageSizeMax: PAGE_SIZE,
      spreadDays: SPREAD_DAYS,
      server: SERVER,
      bulkLines: BULK_LINES,
    });
    const total = Object.values(server.counts).reduce((a, b) => a + b, 0);
    say(
      `server ${server.fhirBaseUrl}: ${JSON.stringify(server.counts)} loaded in ${(server.loadMs / 1000).toFixed(1)} s, lastUpdated ${server.firstUpdated} … ${server.lastUpdated}`,
    );
    // Slices start just before the oldest resource (an operator sets `timeSlices.from` to the EHR's go-live).
    const from = new Date(Date.parse(server.firstUpdated) - 1000).toISOString();

    const newSource = async (
      name: string,
      settings: Record<string, unknown>,
      extra: Partial<typeof source.$inferInsert> = {},
    ) => {
      const [row] = await database!.db
        .insert(source)
        .values({
          tenantId,
          name,
          kind: 'fhir-r4',
          baseUrl: server!.fhirBaseUrl,
          auth: { mode: 'none' },
          resourceTypes: [...SYNC_TYPES],
          syncMode: 'incremental',
          concurrency: SLICES,
          settings,
          ...extra,
        })
        .returning({ id: source.id });
      return row!.id;
    };
    /** Each contender must leave exactly the server's resources in the cache, or its rate means nothing. */
    const verify = async (sourceId: string, expected: number) => {
      const [row] = await sql!<
        { n: number }[]
      >`select count(*)::int as n from fhir_resource where source_id = ${sourceId}`;
      if (row!.n !== expected)
        throw new Error(`cache holds ${row!.n} resources of source ${sourceId}, expected ${expected}`);
    };
    const reset = async () => {
      await sql!`truncate fhir_resource`;
      await sql!`vacuum analyze fhir_resource`;
    };

    const limitRuns: Timed[] = [];
    const fhirdeskRuns: Timed[] = [];
    const summaries: SyncSummary[] = [];
    const rss = new PeakRssSampler().start();
    const runLimit = async () => {
      await reset();
      const sourceId = await newSource(`limit ${limitRuns.length + 1}`, {});
      const t = await timed(server!, () =>
        copyBaseline(sql!, server!.fhirBaseUrl, { tenantId, sourceId }, SYNC_TYPES, {
          from,
          slices: SLICES,
          pageSize: PAGE_SIZE,
        }),
      );
      await verify(sourceId, total);
      say(`  limit (fetch + COPY, ${SLICES} slices): ${describe(t)}`);
      limitRuns.push(t);
    };
    const runFhirdesk = async () => {
      await reset();
      const sourceId = await newSource(`fhirdesk ${fhirdeskRuns.length + 1}`, {
        pageSize: PAGE_SIZE,
        timeSlices: { from, count: SLICES },
      });
      let summary: SyncSummary | undefined;
      const t = await timed(server!, async () => {
        summary = await runSync({ database: database! }, { tenantId, sourceId, mode: 'incremental' });
        return summary.fetched;
      });
      summaries.push(summary!);
      await verify(sourceId, total);
      say(
        `  fhirdesk runSync (incremental, timeSlices ${SLICES}): ${describe(t)}; ${summary!.pages} pages, inserted ${summary!.inserted}, status ${summary!.status}`,
      );
      fhirdeskRuns.push(t);
    };

    // Alternating rounds (limit, fhirdesk, fhirdesk, limit, …) so a burst of load from other users of the
    // machine hits both; each keeps its best round.
    say(`phase 1: limit and fhirdesk, ${ROUNDS} rounds each, alternating`);
    for (let i = 0; i < ROUNDS; i++) {
      if (i % 2 === 0) {
        await runLimit();
        await runFhirdesk();
      } else {
        await runFhirdesk();
        await runLimit();
      }
    }
    const syncPeakRss = rss.stop();

    say(`phase 2: naive client (fhir-kit-client + one INSERT per resource), up to ${NAIVE_SECONDS} s, extrapolated`);
    await reset();
    const naiveSource = await newSource('naive', {});
    let naiveComplete = false;
    const naive = await timed(server, async () => {
      const r = await naiveClient(sql!, server!.fhirBaseUrl, { tenantId, sourceId: naiveSource }, SYNC_TYPES, {
        pageSize: PAGE_SIZE,
        seconds: NAIVE_SECONDS,
      });
      naiveComplete = r.complete;
      return r.written;
    });
    say(
      `  naive: ${describe(naive)}${naiveComplete ? '' : ` (stopped after ${NAIVE_SECONDS} s; a full sync of ${total} would take ~${formatNumber(total / naive.perSecond)} s)`}`,
    );

    let bulk: BulkMemoryResult | undefined;
    if (BULK_LINES > 0 && SERVER !== 'static')
      say('phase 3 skipped: the Bulk NDJSON file is served by the static server only');
    if (BULK_LINES > 0 && SERVER === 'static') {
      say(`phase 3: Bulk $export of ${BULK_LINES} NDJSON lines through runSync (mode bulk) in a fresh process`);
      await reset();
      const bulkSource = await newSource(
        'bulk',
        // timeoutMs: the engine's per-request timeout also bounds the streamed NDJSON body (see docs), so a
        // file that takes longer than 30 s to download would be cut off; the bench gives it an hour.
        { bulk: { level: 'system', pollIntervalMs: 100 }, timeoutMs: 3_600_000 },
        { resourceTypes: ['Organization'], syncMode: 'bulk' },
      );
      bulk = await runBulkMemory(scratch.url, tenantId, bulkSource);
      say(
        `  bulk: ${bulk.status}${bulk.error ? ` (${bulk.error})` : ''}, ${bulk.fetched} lines in ${bulk.seconds.toFixed(1)} s ` +
          `(${formatNumber(bulk.fetched / bulk.seconds)}/s); RSS start ${formatBytes(bulk.rssStartBytes)}, ` +
          `warm ${formatBytes(bulk.rssWarmBytes)}, peak ${formatBytes(bulk.rssPeakBytes)} (kernel high-water ${formatBytes(bulk.maxRssBytes)})`,
      );
      say(
        `  bulk RSS by lines committed: ${bulk.curve.map((c) => `${c.lines}: ${formatBytes(c.rssBytes)}`).join(', ')}`,
      );
    }

    const best = (runs: Timed[]) => runs.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
    const limit = best(limitRuns);
    const fhirdesk = best(fhirdeskRuns);
    const growthMb = bulk ? (bulk.rssPeakBytes - bulk.rssWarmBytes) / MB : Number.NaN;
    const peakRssMb = (bulk ? bulk.rssPeakBytes : syncPeakRss) / MB;
    say('');
    say(
      formatTable([
        {
          figure: 'full sync (vs limit)',
          value: fhirdesk.perSecond,
          unit: 'res/s',
          baseline: { label: 'fetch+COPY', value: limit.perSecond },
          target: `ratio ≥ ${TARGET_LIMIT_RATIO}`,
          pass: ratio(fhirdesk.perSecond, limit.perSecond) >= TARGET_LIMIT_RATIO,
        },
        {
          figure: 'full sync (vs naive)',
          value: fhirdesk.perSecond,
          unit: 'res/s',
          baseline: { label: 'fhir-kit+INSERT', value: naive.perSecond },
          target: `ratio ≥ ${TARGET_NAIVE_RATIO}`,
          pass: ratio(fhirdesk.perSecond, naive.perSecond) >= TARGET_NAIVE_RATIO,
        },
        ...(bulk
          ? [
              {
                figure: `bulk RSS growth (${BULK_LINES} lines)`,
                value: growthMb,
                unit: 'MB',
                target: `≤ ${TARGET_BULK_GROWTH_MB} MB`,
                pass: bulk.status === 'succeeded' && bulk.fetched === BULK_LINES && growthMb <= TARGET_BULK_GROWTH_MB,
              },
            ]
          : []),
      ]),
    );
    say(
      `parent peak RSS during phase 1: ${formatBytes(syncPeakRss)}; server (${SERVER}) peak RSS ${formatBytes((await server.stats()).maxRssBytes)}`,
    );
    say(
      JSON.stringify({
        ratio: round(ratio(fhirdesk.perSecond, limit.perSecond)),
        resources_per_s: round(fhirdesk.perSecond, 1),
        baseline_per_s: round(limit.perSecond, 1),
        naive_per_s: round(naive.perSecond, 1),
        peak_rss_mb: round(peakRssMb, 1),
        naive_ratio: round(ratio(fhirdesk.perSecond, naive.perSecond)),
        cpu_ms_per_1k: round(cpuPer1k(fhirdesk), 1),
        baseline_cpu_ms_per_1k: round(cpuPer1k(limit), 1),
        cpu_ratio: round(ratio(cpuPer1k(limit), cpuPer1k(fhirdesk))),
        bulk_rss_growth_mb: round(growthMb, 1),
        bulk_lines: bulk?.fetched ?? 0,
        resources: total,
        page_size: PAGE_SIZE,
        slices: SLICES,
        server: SERVER,
        naive_extrapolated: !naiveComplete,
      }),
    );
  } finally {
    await cleanup();
  }
}

await main();
