// Child-process entry: a minimal read-only FHIR R4 search + Bulk Data server over pre-serialised JSON, for
// the sync benchmark (issue #3). Why not the sandbox EHR: on 2 cores it serves about 1,100 resources/s
// (500-resource pages, 4 parallel `_lastUpdated` slices; each page re-clones and re-serialises every
// resource through @medplum/fhir-router), a tenth of what the client side can write, so every contender
// would measure the sandbox. Here a page is a string concatenation, so the client and PostgreSQL are what
// is measured. All three contenders read this same server.
//
// Implements just what they send: GET /metadata; GET /[type]?_count&_offset&_lastUpdated (ge/gt/le/lt,
// repeatable, REST-01/02: absolute `next` links, `_count` capped); Bulk `$export` (BULK-01..06) of
// BENCH_BULK_LINES generated Organization lines streamed as NDJSON (never held in memory). Unknown search
// parameters are 400, as in the sandbox.
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadTemplates, patientResources, SYNC_TYPES } from './sync-data';
import type { SandboxChildMessage, SandboxParentMessage } from './sync-sandbox-process';

const send = (m: SandboxChildMessage) => process.send?.(m);
const patients = Number(process.env.BENCH_SYNC_PATIENTS);
const pageSizeMax = Number(process.env.BENCH_SYNC_PAGE_SIZE_MAX);
const spreadDays = Number(process.env.BENCH_SYNC_SPREAD_DAYS ?? 365);
const bulkLines = Number(process.env.BENCH_BULK_LINES ?? 0);
if (!process.send || !(patients >= 0) || !(pageSizeMax > 0)) {
  process.stderr.write('fhir-page-server-process.ts is started by bench/lib/sync-sandbox.ts\n');
  process.exit(2);
}
const BASE_PATH = '/fhir/r4';

interface TypeStore {
  times: number[];
  entries: string[];
}
const stores = new Map<string, TypeStore>(SYNC_TYPES.map((t) => [t, { times: [], entries: [] }]));

const started = performance.now();
const templates = loadTemplates();
const end = Date.now() - 60_000;
const start = end - spreadDays * 86_400_000;
let origin = '';
const pending: { type: string; id: string; time: number; json: string }[] = [];
for (let g = 1; g <= patients; g++) {
  const at = start + Math.floor(((g - 1) / patients) * (end - start));
  const iso = new Date(at).toISOString();
  for (const r of patientResources(templates, g, iso)) {
    r.meta = { versionId: '1', lastUpdated: iso };
    pending.push({ type: r.resourceType, id: r.id, time: at, json: JSON.stringify(r) });
  }
}

const server = createServer((req, res) => {
  try {
    route(req.method ?? 'GET', new URL(req.url ?? '/', origin), res);
  } catch {
    json(res, 500, outcome('exception'));
  }
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const fhirBaseUrl = `${origin}${BASE_PATH}`;
// Entries carry absolute fullUrls, known only once listening.
for (const p of pending) {
  const store = stores.get(p.type)!;
  store.times.push(p.time);
  store.entries.push(`{"fullUrl":"${fhirBaseUrl}/${p.type}/${p.id}","resource":${p.json},"search":{"mode":"match"}}`);
}
pending.length = 0;
const all = [...stores.values()].flatMap((s) => s.times);
send({
  type: 'ready',
  fhirBaseUrl,
  origin,
  counts: Object.fromEntries([...stores].map(([t, s]) => [t, s.entries.length])),
  loadMs: performance.now() - started,
  firstUpdated: new Date(Math.min(...all)).toISOString(),
  lastUpdated: new Date(Math.max(...all)).toISOString(),
});

function outcome(code: string): string {
  return JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code }] });
}

function json(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/fhir+json', ...headers });
  res.end(body);
}

/** First index whose time is ≥ t (times are sorted: resources were generated in time order). */
function lowerBound(times: number[], t: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
function upperBound(times: number[], t: number): number {
  return lowerBound(times, t + 1);
}

function capability(): string {
  const resource = [...SYNC_TYPES, 'Organization'].map((type) => ({
    type,
    interaction: [{ code: 'search-type' }],
    searchParam: [{ name: '_lastUpdated', type: 'date' }],
  }));
  return JSON.stringify({
    resourceType: 'CapabilityStatement',
    status: 'active',
    kind: 'instance',
    fhirVersion: '4.0.1',
    format: ['json'],
    rest: [
      {
        mode: 'server',
        resource,
        operation: [{ name: 'export', definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export' }],
      },
    ],
  });
}

function search(type: string, url: URL, res: ServerResponse) {
  const store = stores.get(type);
  if (!store) return json(res, 404, outcome('not-supported'));
  let lo = 0;
  let hi = store.times.length;
  let count = Math.min(50, pageSizeMax);
  let offset = 0;
  for (const [name, value] of url.searchParams) {
    if (name === '_count') count = Math.min(Number(value), pageSizeMax);
    else if (name === '_offset') offset = Number(value);
    else if (name === '_lastUpdated') {
      const m = /^(ge|gt|le|lt)(.+)$/.exec(value);
      const t = m ? Date.parse(m[2]!) : Number.NaN;
      if (!m || Number.isNaN(t)) return json(res, 400, outcome('invalid'));
      if (m[1] === 'ge') lo = Math.max(lo, lowerBound(store.times, t));
      else if (m[1] === 'gt') lo = Math.max(lo, upperBound(store.times, t));
      else if (m[1] === 'lt') hi = Math.min(hi, lowerBound(store.times, t));
      else hi = Math.min(hi, upperBound(store.times, t));
    } else return json(res, 400, outcome('not-supported'));
  }
  if (!Number.isInteger(count) || count < 0 || !Number.isInteger(offset) || offset < 0)
    return json(res, 400, outcome('invalid'));
  const total = Math.max(0, hi - lo);
  const from = lo + offset;
  const to = Math.min(hi, from + count);
  const link = (o: number) => {
    const q = new URLSearchParams(url.searchParams);
    q.set('_offset', String(o));
    q.set('_count', String(count));
    return JSON.stringify(`${fhirBaseUrl}/${type}?${q}`);
  };
  const links = [`{"relation":"self","url":${link(offset)}}`];
  if (count > 0 && offset + count < total) links.push(`{"relation":"next","url":${link(offset + count)}}`);
  const body = `{"resourceType":"Bundle","type":"searchset","meta":{"lastUpdated":"${new Date().toISOString()}"},"total":${total},"link":[${links.join(',')}],"entry":[${from < to ? store.entries.slice(from, to).join(',') : ''}]}`;
  json(res, 200, body);
}

const BULK_JOB = 'job-1';
let exportTime = '';

/** BULK_LINES Organization lines, written with back-pressure so neither side buffers the file. */
function streamNdjson(res: ServerResponse) {
  res.writeHead(200, { 'content-type': 'application/fhir+ndjson' });
  const stamp = exportTime || new Date().toISOString();
  let i = 0;
  const write = () => {
    while (i < bulkLines) {
      i++;
      const line = `{"resourceType":"Organization","id":"bulk-org-${i}","meta":{"versionId":"1","lastUpdated":"${stamp}"},"active":true,"type":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/organization-type","code":"prov"}]}],"name":"Clinic ${i % 997}","telecom":[{"system":"phone","value":"555-01${String(i % 100).padStart(2, '0')}"}],"address":[{"line":["${i % 1000} Main St"],"city":"Springfield","state":"MA","postalCode":"01101"}]}\n`;
      if (!res.write(line)) return void res.once('drain', write);
    }
    res.end();
  };
  write();
}

function route(method: string, url: URL, res: ServerResponse) {
  const path = url.pathname;
  if (path === `${BASE_PATH}/metadata`) return json(res, 200, capability());
  if (path === `${BASE_PATH}/$export`) {
    exportTime = new Date().toISOString();
    res.writeHead(202, { 'content-location': `${origin}/bulk/status/${BULK_JOB}` });
    return void res.end();
  }
  if (path === `/bulk/status/${BULK_JOB}`) {
    if (method === 'DELETE') {
      res.writeHead(202);
      return void res.end();
    }
    return json(
      res,
      200,
      JSON.stringify({
        transactionTime: exportTime,
        request: `${fhirBaseUrl}/$export`,
        requiresAccessToken: false,
        output: [
          { type: 'Organization', url: `${origin}/bulk/files/${BULK_JOB}/Organization.ndjson`, count: bulkLines },
        ],
        error: [],
      }),
    );
  }
  if (path === `/bulk/files/${BULK_JOB}/Organization.ndjson`) return streamNdjson(res);
  const m = /^\/fhir\/r4\/([A-Z][A-Za-z]+)$/.exec(path);
  if (m && method === 'GET') return search(m[1]!, url, res);
  json(res, 404, outcome('not-found'));
}

process.on('message', (m: SandboxParentMessage) => {
  if (m.type === 'stats') {
    const u = process.cpuUsage();
    send({ type: 'stats', maxRssBytes: process.resourceUsage().maxRSS * 1024, cpuMs: (u.user + u.system) / 1000 });
  } else if (m.type === 'shutdown') {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  }
});
process.on('disconnect', () => process.exit(1));
