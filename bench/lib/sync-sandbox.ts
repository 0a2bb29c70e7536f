// Starts the sandbox EHR loaded with the sync benchmark's data in a child process. Why a child: the FHIR
// server, the sync client and PostgreSQL must compete for the 2 cores as an EHR and a connector do in
// production; in one process the server's search and JSON work would stall the client's event loop and
// be counted as sync time. Same pattern as server.ts.
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { SandboxChildMessage, SandboxParentMessage } from './sync-sandbox-process';

export interface SyncSandbox {
  fhirBaseUrl: string;
  origin: string;
  counts: Record<string, number>;
  loadMs: number;
  firstUpdated: string;
  lastUpdated: string;
  pid: number;
  stats(): Promise<{ maxRssBytes: number; cpuMs: number }>;
  stop(): Promise<void>;
}

export async function startSyncSandbox(options: {
  patients: number;
  pageSizeMax: number;
  spreadDays?: number;
  startTimeoutMs?: number;
  /** `sandbox`: the sandbox EHR; `static`: fhir-page-server-process.ts (pre-serialised pages, Bulk export). */
  server?: 'sandbox' | 'static';
  /** Lines of the static server's Bulk NDJSON file. */
  bulkLines?: number;
}): Promise<SyncSandbox> {
  const file = options.server === 'static' ? './fhir-page-server-process.ts' : './sync-sandbox-process.ts';
  const entry = fileURLToPath(new URL(file, import.meta.url));
  const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const child = fork(entry, [], {
    // The in-memory repository of ~50k resources (plus its history copies) needs more than the default heap.
    execArgv: ['--import', tsxLoader, '--max-old-space-size=8192'],
    env: {
      ...process.env,
      BENCH_SYNC_PATIENTS: String(options.patients),
      BENCH_SYNC_PAGE_SIZE_MAX: String(options.pageSizeMax),
      BENCH_SYNC_SPREAD_DAYS: String(options.spreadDays ?? 365),
      BENCH_BULK_LINES: String(options.bulkLines ?? 0),
    },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await new Promise<Extract<SandboxChildMessage, { type: 'ready' }>>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('The sandbox child did not load its data in time'));
    }, options.startTimeoutMs ?? 300_000);
    child.on('message', (m: SandboxChildMessage) => {
      if (m.type === 'ready') {
        clearTimeout(timer);
        resolve(m);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`The sandbox child exited with code ${code} before it was ready`));
    });
  });
  let stopped = false;
  return {
    fhirBaseUrl: ready.fhirBaseUrl,
    origin: ready.origin,
    counts: ready.counts,
    loadMs: ready.loadMs,
    firstUpdated: ready.firstUpdated,
    lastUpdated: ready.lastUpdated,
    pid: child.pid ?? -1,
    stats: () =>
      new Promise((resolve, reject) => {
        const on = (m: SandboxChildMessage) => {
          if (m.type !== 'stats') return;
          child.off('message', on);
          resolve({ maxRssBytes: m.maxRssBytes, cpuMs: m.cpuMs });
        };
        child.on('message', on);
        if (!child.send({ type: 'stats' } satisfies SandboxParentMessage)) reject(new Error('sandbox child gone'));
      }),
    async stop() {
      if (stopped) return;
      stopped = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.send({ type: 'shutdown' } satisfies SandboxParentMessage);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
