// Source lifecycle: sources that cannot be synced fail early with a message naming why, and write no data (EPIC-08);
// fhir-kit-client's debug logging stays off whatever DEBUG says (ERR-05).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  ConnectorError,
  FhirHttp,
  fhirKitClientDebugEnabled,
  InProcessScheduler,
  PgBossScheduler,
  runSync,
  type SyncJob,
  type SyncScheduler,
  silenceFhirKitClientDebug,
} from '../../packages/connectors/src/index';
import type { Database } from '../../packages/core/src/db/database';
import { syncRun } from '../../packages/core/src/db/schema/index';
import { type SandboxEhr, startSandboxEhr } from '../sandbox-ehr/index';
import { createTestTenant, openTestDatabase, usingPostgres } from '../support/db';
import { checkpointsOf, countsByType, deps, insertSource, runsOf } from './support';

let ehr: SandboxEhr;
let database: Database;
let html: Server;
let htmlOrigin: string;

beforeAll(async () => {
  ehr = await startSandboxEhr({ seed: false });
  database = await openTestDatabase();
  // A web server that is not FHIR: every path answers an HTML page.
  html = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><html><body>Welcome to the portal</body></html>');
  });
  await new Promise<void>((resolve) => html.listen(0, '127.0.0.1', resolve));
  htmlOrigin = `http://127.0.0.1:${(html.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await ehr?.close();
  await new Promise((resolve) => html?.close(resolve));
  await database?.close();
});

async function expectCleanFailure(
  baseUrl: string,
  resourceTypes: string[] = [],
  settings: Record<string, unknown> = {},
) {
  const tenantId = await createTestTenant(database);
  const sourceId = await insertSource(database, tenantId, { baseUrl, resourceTypes, settings });
  const error = await runSync(deps(database), { tenantId, sourceId }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ConnectorError);
  expect(await countsByType(database, tenantId, sourceId)).toEqual({});
  expect(await checkpointsOf(database, sourceId)).toEqual([]);
  const [run] = await runsOf(database, sourceId);
  expect(run?.status).toBe('failed');
  expect(run?.error).toBe((error as ConnectorError).message);
  return error as ConnectorError;
}

describe('bad sources', () => {
  it('an unreachable URL fails as unreachable after its retries', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const error = await expectCleanFailure(`http://127.0.0.1:${port}/fhir`, [], { maxRetries: 2 });
    expect(error.reason).toBe('unreachable');
    expect(error.message).toMatch(/Could not reach http:\/\/127\.0\.0\.1:\d+\/fhir\/metadata; gave up after 2 retries/);
  });

  it('a web server that is not FHIR is refused as not-fhir', async () => {
    const error = await expectCleanFailure(`${htmlOrigin}/fhir`, [], { maxRetries: 1 });
    expect(error.reason).toBe('not-fhir');
    expect(error.message).toContain('does not serve a FHIR CapabilityStatement');
  });

  it('a server without a needed resource type or search parameter is refused naming which (EPIC-08)', async () => {
    const error = await expectCleanFailure(ehr.fhirBaseUrl, ['Patient', 'Invoice', 'ExplanationOfBenefit'], {
      requiredSearchParams: { ExplanationOfBenefit: ['patient', 'x-unheard-of'] },
    });
    expect(error.reason).toBe('missing-capability');
    expect(error.message).toContain('resource types not supported: Invoice');
    expect(error.message).toContain('ExplanationOfBenefit search parameters not supported: x-unheard-of');
  });
});

describe('fhir-kit-client debug logging (ERR-05)', () => {
  it('stays off even when DEBUG enables it, so no bearer token or body reaches the logs', async () => {
    const { createRequire } = await import('node:module');
    const debug = createRequire(import.meta.url)('debug') as { enable(ns: string): void; disable(): string };
    debug.enable('fhir-kit-client:*');
    expect(fhirKitClientDebugEnabled()).toBe(true);
    const written: string[] = [];
    const original = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    try {
      const http = new FhirHttp({
        baseUrl: ehr.fhirBaseUrl,
        tokens: { getToken: async () => 'secret-bearer-value', invalidate: () => {} },
      });
      expect(fhirKitClientDebugEnabled()).toBe(false);
      await http.get('metadata');
    } finally {
      process.stderr.write = original;
      debug.disable();
    }
    expect(written.join('')).not.toContain('secret-bearer-value');
    expect(written.join('')).not.toContain('fhir-kit-client');
    silenceFhirKitClientDebug();
    expect(fhirKitClientDebugEnabled()).toBe(false);
  });
});

describe('one worker per source', () => {
  it('refuses a second concurrent run of the same source while the first holds the lease', async () => {
    const tenantId = await createTestTenant(database);
    const sourceId = await insertSource(database, tenantId, { baseUrl: ehr.fhirBaseUrl, resourceTypes: ['Patient'] });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let inside = false;
    const hooks = {
      beforePageCommit: () => {
        inside = true;
        return gate;
      },
    };
    const first = runSync(deps(database, { hooks }), { tenantId, sourceId });
    if (usingPostgres()) {
      // Wait until the first run is inside its page transaction, which has updated the run row: the second
      // worker must answer 'busy' at once, not wait on that row (it used to, until the page committed).
      for (let i = 0; i < 500 && !inside; i++) await new Promise((r) => setTimeout(r, 10));
      expect(inside).toBe(true);
    } else {
      // PGlite has one connection, held by an open transaction: the second run can only come before it.
      for (let i = 0; i < 200 && (await runsOf(database, sourceId)).length === 0; i++)
        await new Promise((r) => setTimeout(r, 10));
    }
    const second = await runSync(deps(database), { tenantId, sourceId }).catch((e: unknown) => e);
    release();
    expect((second as ConnectorError).reason).toBe('busy');
    expect((await first).status).toBe('succeeded');
  });

  it('takes over the lease of a run whose worker stopped sending heartbeats', async () => {
    const tenantId = await createTestTenant(database);
    const sourceId = await insertSource(database, tenantId, { baseUrl: ehr.fhirBaseUrl, resourceTypes: ['Patient'] });
    const longAgo = new Date(Date.now() - 60 * 60_000);
    await database.db
      .insert(syncRun)
      .values({ tenantId, sourceId, mode: 'incremental', startedAt: longAgo, heartbeatAt: longAgo });
    const summary = await runSync(deps(database), { tenantId, sourceId });
    expect(summary.status).toBe('succeeded');
    const runs = await runsOf(database, sourceId);
    expect(runs.map((r) => r.status)).toEqual(['aborted', 'succeeded']);
    expect(runs[0]?.error).toBe('worker stopped sending heartbeats');
  });

  it('the job scheduler of this database (pg-boss on PostgreSQL, in-process on PGlite) never runs one source twice at once', async () => {
    const active = new Map<string, number>();
    const maxActive = new Map<string, number>();
    const ran: string[] = [];
    const runner = async (job: SyncJob) => {
      const n = (active.get(job.sourceId) ?? 0) + 1;
      active.set(job.sourceId, n);
      maxActive.set(job.sourceId, Math.max(maxActive.get(job.sourceId) ?? 0, n));
      await new Promise((r) => setTimeout(r, 150));
      active.set(job.sourceId, n - 1);
      ran.push(job.sourceId);
    };
    const url = inject('testDatabaseUrl');
    const workers: SyncScheduler[] = usingPostgres()
      ? [
          new PgBossScheduler(url, runner, { pollingIntervalSeconds: 0.5 }),
          new PgBossScheduler(url, runner, { pollingIntervalSeconds: 0.5 }),
        ]
      : [new InProcessScheduler(runner)];
    for (const w of workers) await w.start();
    const tenantId = await createTestTenant(database);
    const jobs = ['a', 'b'].map((s) => ({
      tenantId,
      sourceId: `00000000-0000-4000-8000-00000000000${s === 'a' ? 1 : 2}`,
    }));
    for (let i = 0; i < 3; i++) for (const w of workers) for (const job of jobs) await w.enqueue(job);
    for (let i = 0; i < 100 && new Set(ran).size < 2; i++) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 400));
    for (const w of workers) await w.stop();
    expect(new Set(ran)).toEqual(new Set(jobs.map((j) => j.sourceId)));
    expect([...maxActive.values()].every((m) => m === 1)).toBe(true);
  });
});
