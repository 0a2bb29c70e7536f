// Child-process entry: one Bulk `$export` sync through the fhirdesk engine (runSync, mode bulk) in a fresh
// process, so its resident set measures the engine's streaming alone (BULK-06: NDJSON is read line by line,
// never held whole) and not what earlier benchmark phases left in the parent's heap.
import { openDatabase } from '@fhirdesk/core';
import { runSync } from '../../packages/connectors/src/index';

export interface BulkMemoryResult {
  type: 'result';
  fetched: number;
  seconds: number;
  /** RSS after connecting, before the sync. */
  rssStartBytes: number;
  /** RSS when `warmLines` lines had been committed (pools, JIT and the first batches are warm). */
  rssWarmBytes: number;
  /** Highest RSS sampled (every 100 ms and at every page commit). */
  rssPeakBytes: number;
  /** Kernel high-water mark of this process. */
  maxRssBytes: number;
  /** RSS at every tenth of the file: flat means the engine's memory does not grow with the file. */
  curve: { lines: number; rssBytes: number }[];
  status: string;
  error?: string | undefined;
}

const url = process.env.BENCH_BULK_DATABASE_URL;
const tenantId = process.env.BENCH_BULK_TENANT_ID;
const sourceId = process.env.BENCH_BULK_SOURCE_ID;
const warmLines = Number(process.env.BENCH_BULK_WARM_LINES ?? 50_000);
const totalLines = Number(process.env.BENCH_BULK_TOTAL_LINES ?? 0);
if (!url || !tenantId || !sourceId || !process.send) {
  process.stderr.write('bulk-memory-process.ts is started by bench/sync.ts\n');
  process.exit(2);
}

const database = await openDatabase({ url, max: 4, migrate: false });
const rss = () => process.memoryUsage.rss();
const rssStartBytes = rss();
let rssWarmBytes = 0;
let rssPeakBytes = rssStartBytes;
const sample = () => {
  rssPeakBytes = Math.max(rssPeakBytes, rss());
};
const timer = setInterval(sample, 100);
const BATCH = 500; // bulk.ts commits every 500 lines
const curve: BulkMemoryResult['curve'] = [];
const step = Math.max(BATCH, Math.round(totalLines / 10 / BATCH) * BATCH);
const started = performance.now();
let result: BulkMemoryResult;
try {
  const summary = await runSync(
    {
      database,
      hooks: {
        beforePageCommit: ({ page }) => {
          sample();
          if (!rssWarmBytes && page * BATCH >= warmLines) rssWarmBytes = rss();
          if ((page * BATCH) % step === 0) curve.push({ lines: page * BATCH, rssBytes: rss() });
        },
      },
    },
    { tenantId, sourceId, mode: 'bulk' },
  );
  result = {
    type: 'result',
    fetched: summary.fetched,
    seconds: (performance.now() - started) / 1000,
    rssStartBytes,
    rssWarmBytes: rssWarmBytes || rssStartBytes,
    rssPeakBytes,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    curve,
    status: summary.status,
  };
} catch (e) {
  result = {
    type: 'result',
    fetched: 0,
    seconds: (performance.now() - started) / 1000,
    rssStartBytes,
    rssWarmBytes,
    rssPeakBytes,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    curve,
    status: 'failed',
    error: e instanceof Error ? e.message : String(e),
  };
}
clearInterval(timer);
await database.close();
process.send(result, () => process.exit(0));
