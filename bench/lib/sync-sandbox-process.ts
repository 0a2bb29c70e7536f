// Child-process entry: the sandbox EHR (seed: false) loaded with the sync benchmark's generated resources,
// driven by its parent over IPC (see sync-sandbox.ts for why a child). Resources are written with
// `updateResource` (known ids) while `Date.now` walks through the past `BENCH_SYNC_SPREAD_DAYS`, so their
// server-assigned `meta.lastUpdated` is spread over that range as in an EHR that has years of data, and
// `_lastUpdated` time slices split the data evenly. The real clock is restored before serving.
import { startSandboxEhr } from '../../test/sandbox-ehr/index';
import { loadTemplates, patientResources } from './sync-data';

export type SandboxParentMessage = { type: 'stats' } | { type: 'shutdown' };
export type SandboxChildMessage =
  | {
      type: 'ready';
      fhirBaseUrl: string;
      origin: string;
      counts: Record<string, number>;
      loadMs: number;
      /** First and last `meta.lastUpdated` written. */
      firstUpdated: string;
      lastUpdated: string;
    }
  | { type: 'stats'; maxRssBytes: number; cpuMs: number };

const send = (m: SandboxChildMessage) => process.send?.(m);
const patients = Number(process.env.BENCH_SYNC_PATIENTS);
const pageSizeMax = Number(process.env.BENCH_SYNC_PAGE_SIZE_MAX);
const spreadDays = Number(process.env.BENCH_SYNC_SPREAD_DAYS ?? 365);
if (!process.send || !(patients > 0) || !(pageSizeMax > 0)) {
  process.stderr.write('sync-sandbox-process.ts is started by bench/lib/sync-sandbox.ts\n');
  process.exit(2);
}

const ehr = await startSandboxEhr({ seed: false, pageSizeMax, pageSizeDefault: Math.min(50, pageSizeMax) });
const templates = loadTemplates();
const realNow = Date.now;
const end = realNow() - 60_000;
const start = end - spreadDays * 86_400_000;
const started = performance.now();
let firstUpdated = '';
let lastUpdated = '';
try {
  for (let g = 1; g <= patients; g++) {
    const at = start + Math.floor(((g - 1) / patients) * (end - start));
    Date.now = () => at;
    const created = new Date(at).toISOString();
    for (const r of patientResources(templates, g, created)) {
      const stored = await ehr.updateResource(r as unknown as Parameters<typeof ehr.updateResource>[0]);
      lastUpdated = stored.meta?.lastUpdated ?? lastUpdated;
      firstUpdated ||= lastUpdated;
    }
  }
} finally {
  Date.now = realNow;
}
send({
  type: 'ready',
  fhirBaseUrl: ehr.fhirBaseUrl,
  origin: ehr.origin,
  counts: await ehr.counts(),
  loadMs: performance.now() - started,
  firstUpdated,
  lastUpdated,
});

process.on('message', (m: SandboxParentMessage) => {
  if (m.type === 'stats') {
    const u = process.cpuUsage();
    send({ type: 'stats', maxRssBytes: process.resourceUsage().maxRSS * 1024, cpuMs: (u.user + u.system) / 1000 });
  } else if (m.type === 'shutdown') {
    void ehr.close().finally(() => process.exit(0));
  }
});
process.on('disconnect', () => process.exit(1));
