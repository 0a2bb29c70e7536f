// Child-process entry: the real fhirdesk server (createApp + @hono/node-server, wired as main.ts does)
// on 127.0.0.1 with an ephemeral port, driven by its parent over IPC. See server.ts for why a child.

import { createWriteStream, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { AuditSealer, openDatabase, type SealReport } from '@fhirdesk/core';
import { serve } from '@hono/node-server';
import { createApp } from '../../packages/server/src/app';
import { TokenKeys } from '../../packages/server/src/auth/tokens';
import { createLogger } from '../../packages/server/src/http/logger';
import type { ParentMessage, ServerMessage } from './server';

const send = (message: ServerMessage) => process.send?.(message);
const cpuMs = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

const databaseUrl = process.env.BENCH_SERVER_DATABASE_URL;
const secret = process.env.BENCH_SERVER_JWT_SECRET;
if (!databaseUrl || !secret || !process.send) {
  process.stderr.write('server-process.ts is started by bench/lib/server.ts, not directly\n');
  process.exit(2);
}

// The logger runs at production level ('info': one line per request) into stdout, which the parent
// discards: formatting the line is part of the cost of a request, the terminal is not.
const logger = createLogger(process.env.BENCH_SERVER_LOG_LEVEL ?? 'info');
// Migrations were applied by the parent before the preload.
const database = await openDatabase({
  url: databaseUrl,
  migrate: false,
  ...(process.env.BENCH_SERVER_POOL ? { max: Number(process.env.BENCH_SERVER_POOL) } : {}),
});
const keys = new TokenKeys(secret);
// BENCH_TRACE_DIR: when each seal and each GC pause happened, for lining up with the slow views.
const traceDir = process.env.BENCH_TRACE_DIR;
const seals = traceDir ? createWriteStream(join(traceDir, 'server-seals.csv')) : undefined;
seals?.write('start_epoch_ms,duration_ms,rows\n');
const sealer = new AuditSealer(database, {
  onError: (err) => logger.error({ err: { type: (err as Error).name } }, 'audit seal failed'),
  ...(process.env.BENCH_SEAL_DELAY_MS ? { delayMs: Number(process.env.BENCH_SEAL_DELAY_MS) } : {}),
  ...(seals
    ? {
        onSeal: (s: SealReport) => seals.write(`${s.startedAt.toFixed(1)},${s.ms.toFixed(2)},${s.rows}\n`),
      }
    : {}),
});
// bench:agent-view: how long its loaded cache counts as fresh (the default 10 min is shorter than building
// 100k projections on a loaded 2-core box).
const contextMaxAgeMs = Number(process.env.BENCH_CONTEXT_MAX_AGE_MS) || undefined;
const app = createApp({ database, keys, logger, sealer, ...(contextMaxAgeMs ? { smart: { contextMaxAgeMs } } : {}) });

if (traceDir) {
  const gcs = createWriteStream(join(traceDir, 'server-gc.csv'));
  gcs.write('start_epoch_ms,duration_ms,kind\n');
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? 0;
      gcs.write(`${(performance.timeOrigin + e.startTime).toFixed(1)},${e.duration.toFixed(2)},${kind}\n`);
    }
  }).observe({ entryTypes: ['gc'] });
}

// BENCH_SERVER_ALLOC_PROF: sampled allocations including what young-generation GC collected (where the
// garbage comes from), written as a .heapprofile on shutdown. --heap-prof keeps only what survived.
const allocProfile = process.env.BENCH_SERVER_ALLOC_PROF;
const inspector = allocProfile ? new Session() : undefined;
if (inspector) {
  inspector.connect();
  inspector.post('HeapProfiler.startSampling', {
    samplingInterval: 16384,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
}
const writeAllocProfile = () =>
  new Promise<void>((resolve) => {
    if (!inspector || !allocProfile) return resolve();
    inspector.post('HeapProfiler.stopSampling', (err, result) => {
      if (!err) writeFileSync(allocProfile, JSON.stringify(result.profile));
      resolve();
    });
  });

const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
  send({ type: 'listening', port: info.port });
});

process.on('message', (message: ParentMessage) => {
  if (message.type === 'stats') {
    // maxRSS is the kernel's high-water mark for this process, in KiB.
    send({
      type: 'stats',
      maxRssBytes: process.resourceUsage().maxRSS * 1024,
      rssBytes: process.memoryUsage.rss(),
      cpuMs: cpuMs(),
    });
  } else if (message.type === 'shutdown') {
    server.close();
    void writeAllocProfile()
      .then(() => sealer.flush())
      .catch(() => {})
      .then(() => database.close())
      .finally(() => process.exit(0));
  }
});
// The parent died (Ctrl-C, crash): do not outlive it holding database connections.
process.on('disconnect', () => process.exit(1));
