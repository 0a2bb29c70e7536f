// Incremental search sync against the real sandbox EHR, with msw injecting outside-world faults on top
// (REST-01..06, INC-01..03, ERR-01..05, BS-09, AUD-07).
import { and, eq } from 'drizzle-orm';
import type { Claim } from 'fhir/r4';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConnectorError, DEFAULT_RESOURCE_TYPES, refreshPatient, runSync } from '../../packages/connectors/src/index';
import type { Database } from '../../packages/core/src/db/database';
import { auditEvent, fhirResource, syncDeadLetter } from '../../packages/core/src/db/schema/index';
import { type SandboxEhr, startSandboxEhr } from '../sandbox-ehr/index';
import { createTestTenant, openTestDatabase } from '../support/db';
import {
  everyThirdRequestFails,
  hangsOnce,
  invalidJsonOnce,
  pageCutInHalfOnce,
  rewritePages,
  searchOf,
  serviceUnavailableOnceWithDate,
  tooManyRequestsBurst,
} from './faults';
import { cacheState, checkpointsOf, countsByType, deps, fastSleep, insertSource, pick, runsOf } from './support';

const TYPES = [...DEFAULT_RESOURCE_TYPES];
let ehr: SandboxEhr;
let database: Database;
const msw = setupServer();
let sandboxCounts: Record<string, number>;

beforeAll(async () => {
  ehr = await startSandboxEhr({ pageSizeMax: 50 });
  database = await openTestDatabase();
  msw.listen({ onUnhandledRequest: 'bypass' });
  sandboxCounts = pick(await ehr.counts(), TYPES);
});
afterEach(() => {
  msw.resetHandlers();
  msw.events.removeAllListeners();
});
afterAll(async () => {
  msw.close();
  await ehr?.close();
  await database?.close();
});

async function newSource(
  settings: Record<string, unknown> = {},
  extra: Partial<Parameters<typeof insertSource>[2]> = {},
) {
  const tenantId = await createTestTenant(database);
  const sourceId = await insertSource(database, tenantId, {
    baseUrl: ehr.fhirBaseUrl,
    settings: { pageSize: 50, overlapSeconds: 1, ...settings },
    ...extra,
  });
  return { tenantId, sourceId };
}

describe('incremental sync of the sandbox', () => {
  it('brings every fixture resource exactly once, indexes patients, and a second run changes nothing (REST-01/02, INC-01)', async () => {
    const { tenantId, sourceId } = await newSource();
    const first = await runSync(deps(database), { tenantId, sourceId });
    expect(first.status).toBe('succeeded');
    expect(await countsByType(database, tenantId, sourceId)).toEqual(sandboxCounts);
    const total = Object.values(sandboxCounts).reduce((a, b) => a + b, 0);
    expect(first.fetched).toBe(total);
    expect(first.inserted).toBe(total);

    // Patient index: each patient's EOBs, Claims and Coverages in the cache are the server's.
    const rows = await cacheState(database, tenantId, sourceId);
    const patients = rows.filter((r) => r.key.startsWith('Patient/')).map((r) => r.key.slice('Patient/'.length));
    for (const patientId of patients) {
      for (const type of ['Claim', 'ExplanationOfBenefit', 'Coverage']) {
        const onServer = await ehr.searchAll(type, { patient: `Patient/${patientId}` });
        const cached = rows.filter((r) => r.key.startsWith(`${type}/`) && r.patientId === patientId);
        expect(cached.map((r) => r.key).sort()).toEqual(onServer.map((r) => `${type}/${r.id}`).sort());
      }
    }

    // The checkpoint is the server's time, per type (INC-01); type history (deletions) has its own.
    const checkpoints = await checkpointsOf(database, sourceId);
    expect(checkpoints.map((c) => c.scope).sort()).toEqual(TYPES.flatMap((t) => [t, `${t}#history`]).sort());
    for (const c of checkpoints) {
      expect(c.cursor).toBeNull();
      expect(Number.isNaN(Date.parse(c.since ?? ''))).toBe(false);
    }

    const second = await runSync(deps(database), { tenantId, sourceId });
    expect(second.inserted).toBe(0);
    expect(second.updated).toBe(0);
    expect(await cacheState(database, tenantId, sourceId)).toEqual(rows);

    // AUD-07: connector reads are audited per patient with the client agent and no user.
    const audits = await database.db.select().from(auditEvent).where(eq(auditEvent.tenantId, tenantId));
    expect(audits.length).toBeGreaterThan(0);
    const indexed = new Set(rows.filter((r) => r.patientId).map((r) => `Patient/${r.patientId}`));
    expect(new Set(audits.map((a) => a.patientRef))).toEqual(indexed);
    expect(audits.every((a) => a.actorKind === 'integration' && a.actorId === null)).toBe(true);
  });

  it('updates a resource changed on the server and never lets an older copy win', async () => {
    const { tenantId, sourceId } = await newSource({}, { resourceTypes: ['Patient', 'Claim'] });
    await runSync(deps(database), { tenantId, sourceId });
    const [claim] = (await ehr.searchAll('Claim', { _count: '1' })) as Claim[];
    const changed = await ehr.updateResource({ ...claim!, status: 'cancelled' });
    const run = await runSync(deps(database), { tenantId, sourceId });
    expect(run.updated).toBe(1);
    const [row] = await database.db
      .select()
      .from(fhirResource)
      .where(and(eq(fhirResource.sourceId, sourceId), eq(fhirResource.resourceId, claim!.id!)));
    expect(row?.versionId).toBe(changed.meta?.versionId);
    expect((row!.resource as unknown as Claim).status).toBe('cancelled');
    await ehr.updateResource({ ...changed, status: claim!.status });
  });

  it('refreshes one patient with all its financial context for the agent view', async () => {
    const { tenantId, sourceId } = await newSource();
    const [patient] = await ehr.searchAll('Patient');
    const patientId = patient!.id!;
    const summary = await refreshPatient(deps(database), { tenantId, sourceId, patientId });
    expect(summary.status).toBe('succeeded');
    const rows = await cacheState(database, tenantId, sourceId);
    const eobs = await ehr.searchAll('ExplanationOfBenefit', { patient: `Patient/${patientId}` });
    expect(rows.filter((r) => r.key.startsWith('ExplanationOfBenefit/')).length).toBe(eobs.length);
    expect(rows.some((r) => r.key === `Patient/${patientId}`)).toBe(true);
    // Only this patient's data (plus referenced organizations/practitioners, which belong to no patient).
    expect(rows.every((r) => r.patientId === patientId || r.patientId === null)).toBe(true);
    expect(await checkpointsOf(database, sourceId)).toEqual([]);
  });
});

describe('parallel first sync by _lastUpdated time slices', () => {
  it('fetches every resource exactly once across slices and reaches the same cache as a plain sync', async () => {
    const plain = await newSource();
    await runSync(deps(database), { tenantId: plain.tenantId, sourceId: plain.sourceId });
    const from = new Date(Date.now() - 5 * 60_000).toISOString();
    const { tenantId, sourceId } = await newSource({ timeSlices: { from, count: 4 } }, { concurrency: 3 });
    const lastUpdatedParams: string[][] = [];
    msw.events.on('request:start', ({ request }) => {
      const url = new URL(request.url);
      if (url.searchParams.has('_lastUpdated')) lastUpdatedParams.push(url.searchParams.getAll('_lastUpdated'));
    });
    const summary = await runSync(deps(database), { tenantId, sourceId });
    const total = Object.values(sandboxCounts).reduce((a, b) => a + b, 0);
    expect(summary.fetched).toBe(total);
    expect(summary.inserted).toBe(total);
    expect(await cacheState(database, tenantId, sourceId)).toEqual(
      await cacheState(database, plain.tenantId, plain.sourceId),
    );
    expect(lastUpdatedParams.some((p) => p.length === 2 && p[0]!.startsWith('ge') && p[1]!.startsWith('lt'))).toBe(
      true,
    );
    const checkpoints = await checkpointsOf(database, sourceId);
    expect(checkpoints.filter((c) => c.scope === 'Claim#slice-4-of-4')).toHaveLength(1);
    expect(checkpoints.find((c) => c.scope === 'Claim')?.since).toBeTruthy();
    // Later runs are plain incremental ones.
    const again = await runSync(deps(database), { tenantId, sourceId });
    expect(again.inserted + again.updated).toBe(0);
  });
});

describe('presets over the one generic connector', () => {
  it('an Epic-style source iterates patients for Coverage, Claim, ClaimResponse, EOB and Account and gets the same patient data', async () => {
    const generic = await newSource();
    await runSync(deps(database), { tenantId: generic.tenantId, sourceId: generic.sourceId });
    const tenantId = await createTestTenant(database);
    const sourceId = await insertSource(database, tenantId, {
      kind: 'epic',
      baseUrl: ehr.fhirBaseUrl,
      settings: { overlapSeconds: 1 },
    });
    const wire: string[] = [];
    msw.events.on('request:start', ({ request }) => {
      wire.push(request.url);
    });
    const summary = await runSync(deps(database), { tenantId, sourceId });
    expect(summary.status).toBe('succeeded');
    // No type-level search without `patient` for the patient-scoped types (EPIC-08).
    for (const type of ['Coverage', 'ExplanationOfBenefit', 'Account']) {
      const searches = wire.map((u) => new URL(u)).filter((u) => u.pathname.endsWith(`/${type}`));
      expect(searches.length).toBeGreaterThan(0);
      expect(searches.every((u) => u.searchParams.has('patient') || u.searchParams.has('_offset'))).toBe(true);
    }
    const viaGeneric = await cacheState(database, generic.tenantId, generic.sourceId);
    const patients = new Set(viaGeneric.filter((r) => r.key.startsWith('Patient/')).map((r) => r.key.slice(8)));
    // Resources without a known patient cannot be reached by patient iteration: compare the rest.
    const patientData = (rows: typeof viaGeneric) =>
      rows.filter(
        (r) => (r.patientId !== null && patients.has(r.patientId)) || /^(Organization|Practitioner)\//.test(r.key),
      );
    expect(patientData(await cacheState(database, tenantId, sourceId))).toEqual(patientData(viaGeneric));
    // A second run resumes nothing and changes nothing.
    const again = await runSync(deps(database), { tenantId, sourceId });
    expect(again.inserted + again.updated).toBe(0);
  });
});

describe('faults from the outside world', () => {
  it('honours 429 bursts and a 503 with an HTTP-date Retry-After, and still gets exact counts (ERR-02)', async () => {
    const { tenantId, sourceId } = await newSource({}, { resourceTypes: ['Patient', 'ExplanationOfBenefit'] });
    msw.use(
      tooManyRequestsBurst(ehr.origin, searchOf('ExplanationOfBenefit'), 3, '2'),
      serviceUnavailableOnceWithDate(ehr.origin, searchOf('Patient')),
    );
    const waits: number[] = [];
    const summary = await runSync(deps(database, { sleep: fastSleep(waits) }), { tenantId, sourceId });
    expect(summary.retries).toBe(4);
    expect(waits.filter((w) => w === 2000)).toHaveLength(3);
    // The HTTP-date form: about 5 s ahead, at one-second resolution.
    expect(waits.some((w) => w > 2000 && w <= 5000)).toBe(true);
    expect(await countsByType(database, tenantId, sourceId)).toEqual(
      pick(sandboxCounts, ['Patient', 'ExplanationOfBenefit']),
    );
    const [run] = await runsOf(database, sourceId);
    expect(run?.retries).toBe(4);
  });

  it('retries a timeout, a page cut in half and an invalid JSON body with backoff (ERR-01)', async () => {
    const { tenantId, sourceId } = await newSource({ timeoutMs: 200 }, { resourceTypes: ['Claim'] });
    msw.use(
      hangsOnce(ehr.origin, searchOf('Claim'), 1_000),
      pageCutInHalfOnce(ehr.origin, (u) => u.searchParams.has('_offset')),
      invalidJsonOnce(ehr.origin, (u) => u.searchParams.has('_offset')),
    );
    const summary = await runSync(deps(database), { tenantId, sourceId });
    expect(summary.retries).toBe(3);
    expect(await countsByType(database, tenantId, sourceId)).toEqual(pick(sandboxCounts, ['Claim']));
  });

  it('fails with a clear reason after the retry limit and keeps the checkpoint of the last good page', async () => {
    const { tenantId, sourceId } = await newSource({ maxRetries: 2 }, { resourceTypes: ['Claim'] });
    let pages = 0;
    msw.use(
      rewritePages(ehr.origin, searchOf('Claim'), () => {
        pages++;
      }),
    );
    msw.use(tooManyRequestsBurst(ehr.origin, (u) => u.searchParams.get('_offset') === '100', 10, '0'));
    const error = await runSync(deps(database), { tenantId, sourceId }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectorError);
    expect((error as ConnectorError).message).toMatch(/HTTP 429 .*gave up after 2 retries/);
    const [run] = await runsOf(database, sourceId);
    expect(run?.status).toBe('failed');
    expect(run?.error).toMatch(/429/);
    const [checkpoint] = await checkpointsOf(database, sourceId);
    expect(checkpoint?.cursor).toContain('_offset=100');
    expect((await countsByType(database, tenantId, sourceId)).Claim).toBe(100);
    expect(pages).toBeGreaterThan(0);
    // Resuming continues from the stored next link.
    msw.resetHandlers();
    const resumed = await runSync(deps(database), { tenantId, sourceId });
    expect(resumed.inserted).toBe(sandboxCounts.Claim! - 100);
  });

  it('stops on a next link that loops instead of fetching forever (REST-01)', async () => {
    const { tenantId, sourceId } = await newSource({}, { resourceTypes: ['Claim'] });
    msw.use(
      rewritePages(
        ehr.origin,
        (u) => searchOf('Claim')(u) && u.searchParams.get('_offset') === '50',
        (bundle, url) => {
          const next = bundle.link?.find((l) => l.relation === 'next');
          if (next) next.url = url.toString().replace('_offset=50', '_offset=0');
        },
      ),
    );
    const error = await runSync(deps(database), { tenantId, sourceId }).catch((e: unknown) => e);
    expect((error as ConnectorError).reason).toBe('paging-loop');
    expect((await runsOf(database, sourceId))[0]?.status).toBe('failed');
  });

  it('never sends the bearer token to a next link on another origin (REST-06)', async () => {
    const { tenantId, sourceId } = await newSource(
      {},
      { resourceTypes: ['Claim'], auth: { mode: 'bearer' }, secrets: { bearerToken: 'static-test-token' } },
    );
    const foreign = 'http://cdn.elsewhere.test/fhir-pages/claims-2';
    msw.use(
      rewritePages(
        ehr.origin,
        (u) => searchOf('Claim')(u) && !u.searchParams.has('_offset'),
        (bundle) => {
          const next = bundle.link?.find((l) => l.relation === 'next');
          if (next) next.url = foreign;
        },
      ),
    );
    const { http, HttpResponse } = await import('msw');
    msw.use(http.get(foreign, () => HttpResponse.json({ resourceType: 'Bundle', type: 'searchset', entry: [] })));
    const seen: { url: string; auth: string | null }[] = [];
    msw.events.on('request:start', ({ request }) => {
      seen.push({ url: request.url, auth: request.headers.get('authorization') });
    });
    await runSync(deps(database), { tenantId, sourceId });
    const toForeign = seen.filter((s) => s.url.startsWith('http://cdn.elsewhere.test'));
    const toSource = seen.filter((s) => s.url.startsWith(`${ehr.fhirBaseUrl}/Claim`));
    expect(toForeign).toHaveLength(1);
    expect(toForeign[0]?.auth).toBeNull();
    expect(toSource.every((s) => s.auth === 'Bearer static-test-token')).toBe(true);
  });

  it('surfaces searchset OperationOutcomes without storing them, and dead-letters invalid resources (REST-04, ORA-04)', async () => {
    const { tenantId, sourceId } = await newSource({}, { resourceTypes: ['Coverage'] });
    msw.use(
      rewritePages(ehr.origin, searchOf('Coverage'), (bundle) => {
        bundle.entry = [
          ...(bundle.entry ?? []),
          {
            search: { mode: 'outcome' },
            resource: { resourceType: 'OperationOutcome', issue: [{ severity: 'warning', code: 'suppressed' }] },
          },
          { search: { mode: 'match' }, resource: { resourceType: 'Coverage', status: 'active' } },
        ];
      }),
    );
    const summary = await runSync(deps(database), { tenantId, sourceId });
    expect(summary.warnings.join(' ')).toContain('warning/suppressed');
    expect(summary.deadLettered).toBe(1);
    const letters = await database.db.select().from(syncDeadLetter).where(eq(syncDeadLetter.sourceId, sourceId));
    expect(letters[0]?.reason).toBe('missing or invalid id');
    expect(letters[0]?.pageUrl).toBe(`${ehr.fhirBaseUrl}/Coverage`);
    expect(await countsByType(database, tenantId, sourceId)).toEqual(pick(sandboxCounts, ['Coverage']));
  });

  it('finishes with exact counts when every third request fails', async () => {
    const { tenantId, sourceId } = await newSource({ pageSize: 20 });
    msw.use(everyThirdRequestFails(ehr.origin));
    const summary = await runSync(deps(database), { tenantId, sourceId });
    expect(summary.retries).toBeGreaterThan(5);
    expect(await countsByType(database, tenantId, sourceId)).toEqual(sandboxCounts);
  });
});

describe('crash and resume (INC-03)', () => {
  it('reaches the state of a clean sync after being killed at 20 random points, inside and between page transactions', async () => {
    const clean = await newSource({ pageSize: 25 });
    await runSync(deps(database), { tenantId: clean.tenantId, sourceId: clean.sourceId });
    const expected = await cacheState(database, clean.tenantId, clean.sourceId);

    const { tenantId, sourceId } = await newSource({ pageSize: 25 });
    let seed = 20_251_123;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    let kills = 0;
    for (let attempt = 0; kills < 20 && attempt < 60; attempt++) {
      const controller = new AbortController();
      const insideTx = random() < 0.5;
      const at = 1 + Math.floor(random() * 4);
      let pages = 0;
      let requests = 0;
      const onRequest = () => {
        requests++;
        if (!insideTx && requests === at + 1) controller.abort(new Error('killed'));
      };
      msw.events.on('request:start', onRequest);
      const hooks = {
        beforePageCommit: () => {
          pages++;
          if (insideTx && pages === at) throw new Error('killed inside the page transaction');
        },
      };
      const outcome = await runSync(deps(database, { hooks }), { tenantId, sourceId, signal: controller.signal }).then(
        () => 'done',
        () => 'killed',
      );
      msw.events.removeListener('request:start', onRequest);
      if (outcome === 'killed') kills++;
      else break;
    }
    expect(kills).toBe(20);
    await runSync(deps(database), { tenantId, sourceId });
    expect(await cacheState(database, tenantId, sourceId)).toEqual(expected);
    const runs = await runsOf(database, sourceId);
    expect(runs.filter((r) => r.status === 'failed' || r.status === 'aborted')).toHaveLength(20);
    expect(runs.at(-1)?.status).toBe('succeeded');
  });
});
