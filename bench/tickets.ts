// `npm run bench:tickets` (issue #2): ticket creates/s and list p50/p99 through the real HTTP server
// against PostgreSQL at 100k tickets and 16 concurrent clients, each beside a raw postgres.js baseline
// measured in the same run. The last line of output is one JSON object with the figures.
//
// Environment: DATABASE_URL (admin URL; default postgres://postgres@127.0.0.1:5432/postgres),
// BENCH_SECONDS (measured seconds per phase, default 10), BENCH_WARMUP_SECONDS (default 2),
// BENCH_CONCURRENCY (default 16), BENCH_TICKETS (preloaded tickets, default 100000),
// BENCH_SERVER_LOG_LEVEL (default info), BENCH_KEEP_DATABASE=1 (keep the scratch database for
// EXPLAIN ANALYZE afterwards; drop it yourself), BENCH_EXTRA_SQL_FILE (SQL run after the migrations,
// to measure a candidate index or setting before writing its migration), BENCH_SERVER_CPU_PROF_DIR
// (write a V8 .cpuprofile of the server there), BENCH_SERVER_ENTRY (a candidate server entry speaking
// bench/lib/server.ts's IPC messages, for prototypes). See docs/benchmarks.md.
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { openDatabase } from '@fhirdesk/core';
import postgres from 'postgres';
import { TokenKeys } from '../packages/server/src/auth/tokens';
import { type RunResult, runClosedLoop } from './lib/concurrency';
import { CpuMeter, localPostgresCpuMs, ownCpuMs } from './lib/cpu';
import { LatencyRecorder, type LatencySummary } from './lib/latency';
import { formatNumber, formatTable, ratio, round } from './lib/report';
import { formatBytes, PeakRssSampler } from './lib/rss';
import { createScratchDatabase, DEFAULT_DATABASE_URL, redactUrl, type ScratchDatabase } from './lib/scratch-database';
import { type BenchServer, startServerProcess } from './lib/server';

const SECONDS = envNumber('BENCH_SECONDS', 10);
const WARMUP_SECONDS = envNumber('BENCH_WARMUP_SECONDS', 2);
const CONCURRENCY = envNumber('BENCH_CONCURRENCY', 16);
const TICKETS = envNumber('BENCH_TICKETS', 100_000);
const ADMIN_URL = process.env.DATABASE_URL || DEFAULT_DATABASE_URL;
const KEEP_DATABASE = process.env.BENCH_KEEP_DATABASE === '1';
const EXTRA_SQL_FILE = process.env.BENCH_EXTRA_SQL_FILE || undefined;
const PAGE = 25;

// Targets from issue #2.
const TARGET_CREATE_RATIO = 0.4;
const TARGET_LIST_P99_MS = 20;

// ---------------------------------------------------------------------------------------------------
// Realistic ticket data: one generator feeds the preload (as SQL), the raw baseline and the HTTP
// creates, so the baseline inserts rows of the same shape as the API does.

type Weighted = readonly (readonly [string, number])[];

const QUEUES: Weighted = [
  ['general', 0.35],
  ['billing', 0.25],
  ['claims', 0.15],
  ['pharmacy', 0.1],
  ['portal', 0.1],
  ['escalations', 0.05],
];
const CATEGORIES: Weighted = [
  ['billing', 0.28],
  ['insurance', 0.18],
  ['claim-dispute', 0.14],
  ['prescription', 0.1],
  ['portal-access', 0.1],
  ['care-coordination', 0.08],
  ['general-info', 0.08],
  ['complaint', 0.04],
];
const CHANNELS: Weighted = [
  ['phone', 0.4],
  ['email', 0.2],
  ['chat', 0.15],
  ['portal', 0.15],
  ['sms', 0.07],
  ['in-person', 0.03],
];
const PRIORITIES: Weighted = [
  ['low', 0.15],
  ['normal', 0.6],
  ['high', 0.2],
  ['urgent', 0.05],
];
const LANGUAGES: Weighted = [
  ['en', 0.8],
  ['es', 0.12],
  ['zh', 0.04],
  ['vi', 0.04],
];
// Tickets older than 30 days are mostly finished; recent ones are mostly open work.
const STATUS_OLD: Weighted = [
  ['closed', 0.75],
  ['resolved', 0.17],
  ['pending-payer', 0.03],
  ['pending-patient', 0.02],
  ['open', 0.02],
  ['escalated', 0.01],
];
const STATUS_RECENT: Weighted = [
  ['new', 0.2],
  ['open', 0.3],
  ['pending-patient', 0.12],
  ['pending-payer', 0.12],
  ['escalated', 0.06],
  ['resolved', 0.13],
  ['closed', 0.07],
];
const SUBJECTS = [
  'Refund for duplicate copay',
  'Claim denied as not medically necessary',
  'Prior authorization status for MRI',
  'Cannot log in to the patient portal',
  'Question about explanation of benefits',
  'Prescription refill delayed at pharmacy',
  'Coverage terminated unexpectedly',
  'Balance bill after in-network visit',
  'Update insurance card on file',
  'Statement shows charges already paid',
  'Payment plan request',
  'Out-of-network claim reprocessing',
  'Deductible applied incorrectly',
  'Lab bill sent to wrong address',
  'Interpreter needed for billing call',
  'Referral missing for specialist visit',
  'Coordination of benefits questionnaire',
  'Portal password reset not arriving',
  'Ambulance claim denied',
  'Itemized bill requested',
] as const;
const SUBJECT_SUFFIXES = ['', ' - follow-up', ' - second call', ' for spouse', ' for child', ' (urgent)'] as const;
/** Words searched with `q`: common (refund, denied, portal), mid (deductible) and rare (ambulance, spouse). */
const SEARCH_WORDS = ['refund', 'denied', 'portal', 'deductible', 'ambulance', 'spouse', 'itemized', 'interpreter'];
const PATIENTS = 30_000;
const AGENTS = 20;

/** Deterministic PRNG (mulberry32) so every run asks for the same mix. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick(weighted: Weighted, r: number): string {
  let acc = 0;
  for (const [value, weight] of weighted) {
    acc += weight;
    if (r < acc) return value;
  }
  return weighted[weighted.length - 1]![0];
}

/** Skewed patient choice: a few frequent callers have ~100 tickets, most patients 1–3. */
function patientId(r: number): string {
  return `pat-${Math.floor(PATIENTS * r ** 1.5)}`;
}

interface TicketInput {
  subject: string;
  description: string;
  category: string;
  channel: string;
  priority: string;
  queue: string;
  patient: string | null;
  language: string;
}

function ticketInput(random: () => number): TicketInput {
  const subject =
    SUBJECTS[Math.floor(random() * SUBJECTS.length)]! +
    SUBJECT_SUFFIXES[Math.floor(random() * SUBJECT_SUFFIXES.length)]!;
  return {
    subject,
    description: 'Caller asked for a callback about the item below; account verified by date of birth.',
    category: pick(CATEGORIES, random()),
    channel: pick(CHANNELS, random()),
    priority: pick(PRIORITIES, random()),
    queue: pick(QUEUES, random()),
    patient: random() < 0.92 ? `Patient/${patientId(random())}` : null,
    language: pick(LANGUAGES, random()),
  };
}

// ---------------------------------------------------------------------------------------------------
// Setup: tenant, users, preload.

interface Seed {
  tenantId: string;
  adminId: string;
  agentIds: string[];
}

async function seedTenant(sql: postgres.Sql): Promise<Seed> {
  const tenantId = randomUUID();
  const adminId = randomUUID();
  const agentIds = Array.from({ length: AGENTS }, () => randomUUID());
  await sql.begin(async (tx) => {
    await tx`insert into tenant (id, slug, name) values (${tenantId}, 'bench', 'Benchmark clinic')`;
    await tx`insert into app_user (id, tenant_id, display_name, roles, issuer, subject)
      values (${adminId}, ${tenantId}, 'Bench Admin', ${['admin', 'agent']}, 'fhirdesk-bench', 'bench-admin')`;
    for (const [i, id] of agentIds.entries()) {
      await tx`insert into app_user (id, tenant_id, display_name, roles, issuer, subject)
        values (${id}, ${tenantId}, ${`Agent ${i + 1}`}, ${['agent']}, 'fhirdesk-bench', ${`bench-agent-${i + 1}`})`;
    }
  });
  return { tenantId, adminId, agentIds };
}

/** A CASE over a uniform random column picking from weighted constants (code constants, not input). */
function caseOf(column: string, weighted: Weighted): string {
  let acc = 0;
  const whens = weighted.slice(0, -1).map(([value, weight]) => {
    acc += weight;
    return `when ${column} < ${acc.toFixed(4)} then '${value}'`;
  });
  return `case ${whens.join(' ')} else '${weighted[weighted.length - 1]![0]}' end`;
}

const sqlArray = (values: readonly string[]) => `array[${values.map((v) => `'${v.replace(/'/g, "''")}'`).join(',')}]`;

/**
 * Loads `count` tickets with one INSERT … SELECT (seconds, not minutes). This bypasses the API on
 * purpose: the preload only sets the stage (table and index sizes) for the measured phases. So the
 * preloaded tickets have no timeline events and no audit rows; numbers are 1001… in created_at order
 * over the last two years, and the tenant's counter continues after them.
 */
async function preload(sql: postgres.Sql, seed: Seed, count: number): Promise<void> {
  const statement = `
    insert into ticket (id, tenant_id, number, subject, description, category, channel, status, priority, queue,
      assignee_id, patient_ref, language, created_by, created_at, updated_at, first_response_at, resolved_at, closed_at)
    select gen_random_uuid(), $1::uuid, 1000 + g, subject, description, category, channel, status, priority, queue,
      case when status <> 'new' and r10 < 0.7 then ($3::uuid[])[1 + floor(r11 * ${AGENTS})::int] end,
      patient_ref, language, $2::uuid, created_at,
      greatest(created_at, coalesce(closed_at, resolved_at, first_response_at, created_at)),
      first_response_at, resolved_at, closed_at
    from (
      select *,
        case when status <> 'new' then created_at + r12 * interval '4 hours' end as first_response_at,
        case when status in ('resolved', 'closed') then created_at + r13 * interval '5 days' end as resolved_at,
        case when status = 'closed' then least(now(), created_at + r13 * interval '5 days' + interval '7 days') end as closed_at
      from (
        select g, r10, r11, r12, r13, created_at,
          (${sqlArray(SUBJECTS)})[1 + floor(r1 * ${SUBJECTS.length})::int]
            || (${sqlArray(SUBJECT_SUFFIXES)})[1 + floor(r2 * ${SUBJECT_SUFFIXES.length})::int] as subject,
          'Caller asked for a callback about the item below; account verified by date of birth.' as description,
          case when created_at < now() - interval '30 days'
            then ${caseOf('r3', STATUS_OLD)} else ${caseOf('r3', STATUS_RECENT)} end as status,
          ${caseOf('r4', QUEUES)} as queue,
          ${caseOf('r5', CATEGORIES)} as category,
          ${caseOf('r6', CHANNELS)} as channel,
          ${caseOf('r7', PRIORITIES)} as priority,
          case when r8 < 0.92 then 'Patient/pat-' || floor(${PATIENTS} * power(r9, 1.5))::int end as patient_ref,
          ${caseOf('r14', LANGUAGES)} as language
        from (
          select g, random() r1, random() r2, random() r3, random() r4, random() r5, random() r6, random() r7,
            random() r8, random() r9, random() r10, random() r11, random() r12, random() r13, random() r14,
            now() - interval '730 days' * (1 - g::float8 / $4) as created_at
          from generate_series(1, $4::int) g
        ) r
      ) s
    ) t`;
  await sql.begin(async (tx) => {
    await tx`select setseed(0.42)`;
    await tx.unsafe(statement, [seed.tenantId, seed.adminId, seed.agentIds, count]);
    await tx`insert into ticket_counter (tenant_id, next_number) values (${seed.tenantId}, ${1001 + count})`;
  });
  // Fresh statistics and visibility map, as autovacuum would have on a table that grew over two years.
  await sql.unsafe('vacuum analyze ticket');
}

// ---------------------------------------------------------------------------------------------------
// Phases.

/** Set once the server runs; snapshotted after each phase's warm-up, read right after the phase. */
let meter: CpuMeter | undefined;

function run(operation: (worker: number, iteration: number) => Promise<void>): Promise<RunResult> {
  return runClosedLoop(
    { concurrency: CONCURRENCY, seconds: SECONDS, warmupSeconds: WARMUP_SECONDS, beforeMeasure: () => meter?.start() },
    operation,
  );
}

/** Baseline for creates: postgres.js single-row INSERTs (autocommit) into a table shaped like `ticket`. */
async function rawInsertPhase(sql: postgres.Sql, seed: Seed): Promise<RunResult> {
  // LIKE … INCLUDING ALL copies columns, defaults, CHECKs and every index (the trigram index too), so
  // each baseline INSERT maintains the same indexes as a ticket INSERT; foreign keys are not copied.
  await sql.unsafe('create table bench_raw_ticket (like ticket including all)');
  const randoms = Array.from({ length: CONCURRENCY }, (_, w) => prng(1000 + w));
  let number = 0;
  return run(async (worker) => {
    const t = ticketInput(randoms[worker]!);
    const now = new Date();
    number += 1;
    await sql`insert into bench_raw_ticket (id, tenant_id, number, subject, description, category, channel,
      priority, queue, assignee_id, patient_ref, patient_source_id, language, created_by, created_at, updated_at)
      values (${randomUUID()}, ${seed.tenantId}, ${number}, ${t.subject}, ${t.description}, ${t.category},
        ${t.channel}, ${t.priority}, ${t.queue}, ${null}, ${t.patient}, ${null}, ${t.language}, ${seed.adminId},
        ${now}, ${now})`;
  });
}

async function expectStatus(response: Response, status: number): Promise<void> {
  // Reading the body to the end is what lets keep-alive reuse the connection.
  const body = await response.arrayBuffer();
  if (response.status !== status) {
    throw new Error(`HTTP ${response.status} (expected ${status}): ${Buffer.from(body).toString('utf8', 0, 200)}`);
  }
}

/** POST /api/v1/tickets: one transaction writing the number, the ticket, its event and its audit row. */
async function createPhase(server: BenchServer, token: string): Promise<RunResult> {
  const randoms = Array.from({ length: CONCURRENCY }, (_, w) => prng(2000 + w));
  const url = `${server.baseUrl}/api/v1/tickets`;
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  return run(async (worker) => {
    const response = await fetch(url, {
      method: 'POST',
      headers,
      body: JSON.stringify(ticketInput(randoms[worker]!)),
    });
    await expectStatus(response, 201);
  });
}

// The list mix a desk produces: queue views, a patient's tickets, the default inbox, subject search
// and "next page". Weights per 20 requests.
type ListKind = 'status+queue' | 'patient' | 'default' | 'search' | 'next-page';
const LIST_MIX: readonly ListKind[] = [
  ...Array<ListKind>(6).fill('status+queue'),
  ...Array<ListKind>(5).fill('patient'),
  ...Array<ListKind>(4).fill('default'),
  ...Array<ListKind>(2).fill('search'),
  ...Array<ListKind>(3).fill('next-page'),
];
const OPEN_WORK = ['new', 'open', 'pending-patient'];

interface ListRequest {
  status?: string[];
  queue?: string;
  patient?: string;
  q?: string;
}

function listRequest(kind: Exclude<ListKind, 'next-page'>, random: () => number): ListRequest {
  switch (kind) {
    case 'status+queue':
      return { status: OPEN_WORK, queue: pick(QUEUES, random()) };
    case 'patient':
      return { patient: `Patient/${patientId(random())}` };
    case 'search':
      return { q: SEARCH_WORDS[Math.floor(random() * SEARCH_WORDS.length)]! };
    default:
      return {};
  }
}

interface ListWorker {
  random: () => number;
  /** The last page that had a next one, to follow with `next-page`. */
  last: { request: ListRequest; cursor: string; lastRow: { createdAt: Date; id: string } } | null;
}

/**
 * Runs the list mix with `fetchPage` (HTTP or raw SQL), recording latency per kind.
 * `next-page` follows the worker's last page that had more; without one it asks for the default page.
 */
async function listMix(
  seed: number,
  fetchPage: (
    request: ListRequest,
    after: NonNullable<ListWorker['last']> | null,
  ) => Promise<{ cursor: string | null; lastRow: { createdAt: Date; id: string } | null }>,
): Promise<{ result: RunResult; byKind: Map<ListKind, LatencyRecorder> }> {
  const workers: ListWorker[] = Array.from({ length: CONCURRENCY }, (_, w) => ({
    random: prng(seed + w),
    last: null,
  }));
  const byKind = new Map<ListKind, LatencyRecorder>(
    (['status+queue', 'patient', 'default', 'search', 'next-page'] as const).map((k) => [k, new LatencyRecorder()]),
  );
  const result = await run(async (w, iteration) => {
    const worker = workers[w]!;
    const kind = LIST_MIX[(iteration + w * 7) % LIST_MIX.length]!;
    const follow = kind === 'next-page' ? worker.last : null;
    const request = follow ? follow.request : listRequest(kind === 'next-page' ? 'default' : kind, worker.random);
    const t0 = performance.now();
    const page = await fetchPage(request, follow);
    byKind.get(kind)!.record(performance.now() - t0);
    worker.last = page.cursor && page.lastRow ? { request, cursor: page.cursor, lastRow: page.lastRow } : null;
  });
  return { result, byKind };
}

interface TicketJson {
  id: string;
  createdAt: string;
}

/** GET /api/v1/tickets with the list mix; each request is one transaction (query + search audit rows). */
async function listPhase(server: BenchServer, token: string) {
  const headers = { authorization: `Bearer ${token}` };
  return listMix(3000, async (request, after) => {
    const params = new URLSearchParams();
    if (request.status) params.set('status', request.status.join(','));
    if (request.queue) params.set('queue', request.queue);
    if (request.patient) params.set('patient', request.patient);
    if (request.q) params.set('q', request.q);
    if (after) params.set('cursor', after.cursor);
    const response = await fetch(`${server.baseUrl}/api/v1/tickets?${params}`, { headers });
    if (response.status !== 200) await expectStatus(response, 200);
    const page = (await response.json()) as { items: TicketJson[]; nextCursor: string | null };
    const last = page.items[page.items.length - 1];
    return {
      cursor: page.nextCursor,
      lastRow: last ? { createdAt: new Date(last.createdAt), id: last.id } : null,
    };
  });
}

/** Baseline for list: the same page queries straight through postgres.js (no HTTP, no transaction, no audit). */
async function rawListPhase(sql: postgres.Sql, seed: Seed) {
  return listMix(3000, async (request, after) => {
    const rows = await sql<{ id: string; created_at: Date }[]>`
      select * from ticket
      where tenant_id = ${seed.tenantId}
        ${request.status ? sql`and status in ${sql(request.status)}` : sql``}
        ${request.queue ? sql`and queue = ${request.queue}` : sql``}
        ${request.patient ? sql`and patient_ref = ${request.patient}` : sql``}
        ${request.q ? sql`and subject ilike ${`%${request.q}%`}` : sql``}
        ${
          after
            ? sql`and (created_at < ${after.lastRow.createdAt}
                  or (created_at = ${after.lastRow.createdAt} and id < ${after.lastRow.id}))`
            : sql``
        }
      order by created_at desc, id desc
      limit ${PAGE + 1}`;
    const items = rows.slice(0, PAGE);
    const last = items[items.length - 1];
    return {
      cursor: rows.length > PAGE && last ? 'raw' : null,
      lastRow: last ? { createdAt: last.created_at, id: last.id } : null,
    };
  });
}

// ---------------------------------------------------------------------------------------------------

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return value;
}

const say = (line: string) => process.stdout.write(`${line}\n`);

type CpuPerOp = Record<string, number | null>;

function describeRun(label: string, r: RunResult, cpu: CpuPerOp): string {
  const l = r.latency.summary();
  const ms = (v: number | null | undefined) => (v == null ? 'n/a' : v.toFixed(2));
  return [
    `${label}: ${r.operations} ops in ${r.seconds.toFixed(1)} s = ${formatNumber(r.perSecond)}/s, p50 ${formatNumber(l.p50)} ms, p99 ${formatNumber(l.p99)} ms, errors ${r.errors}`,
    `    CPU ms per op: client ${ms(cpu.client)}, server ${ms(cpu.server)}, postgres ${ms(cpu.postgres)}`,
  ].join('\n');
}

function assertClean(label: string, r: RunResult): void {
  if (r.errors > 0) {
    throw new Error(`${label}: ${r.errors} failed operations, e.g. ${r.errorSamples.join(' | ')}`);
  }
  if (r.operations === 0) throw new Error(`${label}: no operation completed`);
}

async function main(): Promise<number> {
  const started = performance.now();
  say(
    `bench:tickets — ${TICKETS} tickets, ${CONCURRENCY} concurrent clients, ${SECONDS} s per phase (+${WARMUP_SECONDS} s warm-up), PostgreSQL ${redactUrl(ADMIN_URL)}`,
  );
  let scratch: ScratchDatabase | undefined;
  let server: BenchServer | undefined;
  let sql: postgres.Sql | undefined;
  let rss: PeakRssSampler | undefined;
  const cleanup = async () => {
    await server?.stop().catch(() => {});
    await sql?.end({ timeout: 5 }).catch(() => {});
    // stderr: the JSON figures must stay the last line of stdout.
    if (KEEP_DATABASE && scratch) process.stderr.write(`kept database ${scratch.name}: drop it when done\n`);
    else await scratch?.drop();
  };
  const onSignal = () => {
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    scratch = await createScratchDatabase(ADMIN_URL, `fhirdesk_bench_${process.pid}`);
    say(`database ${scratch.name}: migrating`);
    const migrated = await openDatabase({ url: scratch.url, max: 1 });
    await migrated.close();

    sql = postgres(scratch.url, { max: CONCURRENCY, onnotice: () => {} });
    if (EXTRA_SQL_FILE) {
      await sql.unsafe(readFileSync(EXTRA_SQL_FILE, 'utf8'));
      say(`applied ${EXTRA_SQL_FILE} (BENCH_EXTRA_SQL_FILE): figures are for a candidate, not the code as is`);
    }
    const seed = await seedTenant(sql);
    let t0 = performance.now();
    await preload(sql, seed, TICKETS);
    say(
      `preloaded ${TICKETS} tickets in ${((performance.now() - t0) / 1000).toFixed(1)} s (bulk SQL, bypasses the API)`,
    );

    const secret = randomBytes(32).toString('base64url');
    server = await startServerProcess({
      databaseUrl: scratch.url,
      jwtSecret: secret,
      logLevel: process.env.BENCH_SERVER_LOG_LEVEL ?? 'info',
      cpuProfileDir: process.env.BENCH_SERVER_CPU_PROF_DIR || undefined,
      entry: process.env.BENCH_SERVER_ENTRY ? resolve(process.env.BENCH_SERVER_ENTRY) : undefined,
    });
    if (process.env.BENCH_SERVER_ENTRY)
      say(`server entry ${process.env.BENCH_SERVER_ENTRY} (BENCH_SERVER_ENTRY): a candidate`);
    rss = new PeakRssSampler(server.pid).start();
    const running = server;
    meter = new CpuMeter({
      client: ownCpuMs,
      server: async () => (await running.stats()).cpuMs,
      postgres: localPostgresCpuMs,
    });
    const token = await new TokenKeys(secret).issue(
      { tenantId: seed.tenantId, userId: seed.adminId, roles: ['agent'], kind: 'user' },
      3600,
    );
    say(`server pid ${server.pid} on ${server.baseUrl}`);

    t0 = performance.now();
    const rawInsert = await rawInsertPhase(sql, seed);
    assertClean('raw INSERT', rawInsert);
    const rawInsertCpu = await meter.perOperation(rawInsert.operations);
    say(describeRun('raw INSERT (postgres.js)', rawInsert, rawInsertCpu));

    const creates = await createPhase(server, token);
    assertClean('POST /api/v1/tickets', creates);
    const createsCpu = await meter.perOperation(creates.operations);
    say(describeRun('POST /api/v1/tickets', creates, createsCpu));

    const rawList = await rawListPhase(sql, seed);
    assertClean('raw list SELECT', rawList.result);
    const rawListCpu = await meter.perOperation(rawList.result.operations);
    say(describeRun('raw list SELECT (postgres.js)', rawList.result, rawListCpu));

    const list = await listPhase(server, token);
    assertClean('GET /api/v1/tickets', list.result);
    const listCpu = await meter.perOperation(list.result.operations);
    say(describeRun('GET /api/v1/tickets', list.result, listCpu));

    const stats = await server.stats();
    const peakRss = Math.max(stats.maxRssBytes, rss.stop());

    const createRatio = ratio(creates.perSecond, rawInsert.perSecond);
    const listLatency = list.result.latency.summary();
    const rawLatency = rawList.result.latency.summary();
    say('');
    say(
      formatTable([
        {
          figure: 'ticket creates/s',
          value: creates.perSecond,
          unit: '/s',
          baseline: { label: 'raw INSERT', value: rawInsert.perSecond },
          target: `ratio ≥ ${TARGET_CREATE_RATIO}`,
          pass: createRatio >= TARGET_CREATE_RATIO,
        },
        {
          figure: 'list p50',
          value: listLatency.p50,
          unit: 'ms',
          baseline: { label: 'raw SELECT', value: rawLatency.p50 },
        },
        {
          figure: 'list p99',
          value: listLatency.p99,
          unit: 'ms',
          baseline: { label: 'raw SELECT', value: rawLatency.p99 },
          target: `< ${TARGET_LIST_P99_MS} ms`,
          pass: listLatency.p99 < TARGET_LIST_P99_MS,
        },
        {
          figure: 'list requests/s',
          value: list.result.perSecond,
          unit: '/s',
          baseline: { label: 'raw SELECT', value: rawList.result.perSecond },
        },
      ]),
    );
    say('');
    say('list latency by request kind (HTTP | raw SELECT), ms:');
    for (const [kind, recorder] of list.byKind) {
      const h: LatencySummary = recorder.summary();
      const r: LatencySummary = rawList.byKind.get(kind)!.summary();
      say(
        `  ${kind.padEnd(13)} n=${String(h.count).padStart(6)}  p50 ${formatNumber(h.p50).padStart(6)} | ${formatNumber(r.p50).padStart(6)}   p99 ${formatNumber(h.p99).padStart(6)} | ${formatNumber(r.p99).padStart(6)}`,
      );
    }
    say(`server peak RSS: ${formatBytes(peakRss)}; total run ${((performance.now() - started) / 1000).toFixed(0)} s`);
    say(
      JSON.stringify({
        ratio: round(createRatio),
        creates_per_s: round(creates.perSecond, 1),
        list_p50_ms: round(listLatency.p50, 2),
        list_p99_ms: round(listLatency.p99, 2),
        raw_inserts_per_s: round(rawInsert.perSecond, 1),
        raw_list_p50_ms: round(rawLatency.p50, 2),
        raw_list_p99_ms: round(rawLatency.p99, 2),
        list_per_s: round(list.result.perSecond, 1),
        raw_list_per_s: round(rawList.result.perSecond, 1),
        server_peak_rss_mb: round(peakRss / (1024 * 1024), 1),
        server_cpu_ms_per_create: round(createsCpu.server ?? Number.NaN),
        postgres_cpu_ms_per_create: round(createsCpu.postgres ?? Number.NaN),
        postgres_cpu_ms_per_raw_insert: round(rawInsertCpu.postgres ?? Number.NaN),
        server_cpu_ms_per_list: round(listCpu.server ?? Number.NaN),
        postgres_cpu_ms_per_list: round(listCpu.postgres ?? Number.NaN),
        postgres_cpu_ms_per_raw_list: round(rawListCpu.postgres ?? Number.NaN),
        concurrency: CONCURRENCY,
        tickets: TICKETS,
        seconds: SECONDS,
      }),
    );
    return 0;
  } catch (error) {
    process.stderr.write(`bench:tickets failed: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    rss?.stop();
    await cleanup();
  }
}

process.exitCode = await main();
