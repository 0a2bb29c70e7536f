// Deletions in REST sync against the real sandbox EHR (issue #3): type history read by incremental runs,
// and reconcile runs for servers without it (Epic-style), with msw only for faults (INC-01/02, BS-09,
// REST-01, EPIC-08).
import { and, eq } from 'drizzle-orm';
import type { Claim, Coverage, Resource } from 'fhir/r4';
import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConnectorError, runSync } from '../../packages/connectors/src/index';
import type { Database } from '../../packages/core/src/db/database';
import { fhirResource } from '../../packages/core/src/db/schema/index';
import { type SandboxEhr, startSandboxEhr } from '../sandbox-ehr/index';
import { createTestTenant, openTestDatabase } from '../support/db';
import { rewritePages } from './faults';
import { countsByType, deps, insertSource, pick, runsOf } from './support';

let ehr: SandboxEhr;
let epic: SandboxEhr;
let database: Database;
const msw = setupServer();

beforeAll(async () => {
  [ehr, epic] = await Promise.all([
    startSandboxEhr({ pageSizeMax: 50 }),
    startSandboxEhr({ pageSizeMax: 50, typeHistory: false }),
  ]);
  database = await openTestDatabase();
  msw.listen({ onUnhandledRequest: 'bypass' });
});
afterEach(() => {
  msw.resetHandlers();
});
afterAll(async () => {
  msw.close();
  await Promise.all([ehr?.close(), epic?.close()]);
  await database?.close();
});

async function newSource(
  server: SandboxEhr,
  o: { kind?: string; types: string[]; settings?: Record<string, unknown> },
) {
  const tenantId = await createTestTenant(database);
  const sourceId = await insertSource(database, tenantId, {
    kind: o.kind ?? 'sandbox',
    baseUrl: server.fhirBaseUrl,
    resourceTypes: o.types,
    settings: { pageSize: 50, overlapSeconds: 1, ...(o.settings ?? {}) },
  });
  return { tenantId, sourceId };
}

async function row(sourceId: string, type: string, id: string) {
  const [r] = await database.db
    .select()
    .from(fhirResource)
    .where(
      and(eq(fhirResource.sourceId, sourceId), eq(fhirResource.resourceType, type), eq(fhirResource.resourceId, id)),
    );
  return r;
}

/** A new copy of an existing resource of the type (server-assigned id), so tests never delete fixtures. */
async function copyOf<T extends Resource>(
  server: SandboxEhr,
  type: string,
  query: Record<string, string> = {},
): Promise<T> {
  const [first] = (await server.searchAll(type, query)) as T[];
  const { id: _id, meta: _meta, ...rest } = first!;
  return server.createResource({ ...rest } as T);
}

describe('incremental runs read type history for deletions (history-type advertised)', () => {
  it('marks a resource deleted on the server as deleted, counts it, and a re-create makes it live again (INC-01)', async () => {
    const { tenantId, sourceId } = await newSource(ehr, { types: ['Patient', 'Claim'] });
    const claim = await copyOf<Claim>(ehr, 'Claim');
    const first = await runSync(deps(database), { tenantId, sourceId });
    expect(first.warnings).toEqual([]);
    expect((await row(sourceId, 'Claim', claim.id!))?.deleted).toBe(false);

    await ehr.deleteResource('Claim', claim.id!);
    const second = await runSync(deps(database), { tenantId, sourceId });
    expect(second.deleted).toBe(1);
    const deleted = await row(sourceId, 'Claim', claim.id!);
    expect(deleted?.deleted).toBe(true);
    // The server's delete time, not our clock: a later re-create compares against it.
    expect(deleted!.deletedAt!.getTime()).toBeGreaterThanOrEqual(Date.parse(claim.meta!.lastUpdated!));
    const [, run] = await runsOf(database, sourceId);
    expect(run?.deleted).toBe(1);
    expect(await countsByType(database, tenantId, sourceId)).toEqual(pick(await ehr.counts(), ['Patient', 'Claim']));

    // A run with nothing new changes nothing, and does not count the old delete again.
    const quiet = await runSync(deps(database), { tenantId, sourceId });
    expect(quiet.deleted).toBe(0);

    const recreated = await ehr.updateResource<Claim>({ ...claim, status: 'draft' });
    const third = await runSync(deps(database), { tenantId, sourceId });
    expect(third.updated).toBe(1);
    expect(third.deleted).toBe(0);
    const live = await row(sourceId, 'Claim', claim.id!);
    expect(live?.deleted).toBe(false);
    expect(live?.versionId).toBe(recreated.meta?.versionId);
    await ehr.deleteResource('Claim', claim.id!);
  });

  it('a delete and a re-create between two runs leave the resource live (newest history entry wins)', async () => {
    const { tenantId, sourceId } = await newSource(ehr, { types: ['Patient', 'Claim'] });
    const claim = await copyOf<Claim>(ehr, 'Claim');
    await runSync(deps(database), { tenantId, sourceId });
    await ehr.deleteResource('Claim', claim.id!);
    await ehr.updateResource<Claim>({ ...claim });
    const run = await runSync(deps(database), { tenantId, sourceId });
    expect(run.deleted).toBe(0);
    expect((await row(sourceId, 'Claim', claim.id!))?.deleted).toBe(false);
    await ehr.deleteResource('Claim', claim.id!);
  });

  it('ignores a delete older than the stored version (INC-01: a newer version never loses)', async () => {
    const { tenantId, sourceId } = await newSource(ehr, { types: ['Patient', 'Claim'] });
    const claim = await copyOf<Claim>(ehr, 'Claim');
    await runSync(deps(database), { tenantId, sourceId });
    const stored = await row(sourceId, 'Claim', claim.id!);
    msw.use(
      rewritePages(
        ehr.origin,
        (url) => url.pathname.endsWith('/Claim/_history'),
        (bundle) => {
          bundle.entry = [
            {
              fullUrl: `${ehr.fhirBaseUrl}/Claim/${claim.id}`,
              request: { method: 'DELETE', url: `Claim/${claim.id}` },
              response: {
                status: '204',
                lastModified: new Date(stored!.lastUpdatedAt!.getTime() - 60_000).toISOString(),
              },
            },
            ...(bundle.entry ?? []),
          ];
        },
      ),
    );
    const run = await runSync(deps(database), { tenantId, sourceId });
    expect(run.deleted).toBe(0);
    expect((await row(sourceId, 'Claim', claim.id!))?.deleted).toBe(false);
    await ehr.deleteResource('Claim', claim.id!);
  });
});

describe('servers without type history (Epic-style): warning, then reconcile', () => {
  it('warns once per type per run, and a reconcile marks exactly the resources missing at the source (INC-02)', async () => {
    const { tenantId, sourceId } = await newSource(epic, { kind: 'epic', types: ['Patient', 'Coverage', 'Claim'] });
    // Patient-scoped types are listed per cached patient: copy resources of a patient the source has.
    const [someClaim] = (await epic.searchAll('Claim')) as Claim[];
    const mine = { patient: someClaim!.patient.reference! };
    const { id: _id, meta: _meta, ...coverageFields } = (await epic.searchAll('Coverage'))[0] as Coverage;
    const coverage = await epic.createResource<Coverage>({
      ...coverageFields,
      beneficiary: { reference: mine.patient },
    });
    const claim = await copyOf<Claim>(epic, 'Claim', mine);
    const first = await runSync(deps(database), { tenantId, sourceId });
    expect(first.warnings.filter((w) => w.startsWith('deletions of')).sort()).toEqual([
      'deletions of Claim cannot be detected incrementally; run a reconcile',
      'deletions of Coverage cannot be detected incrementally; run a reconcile',
      'deletions of Patient cannot be detected incrementally; run a reconcile',
    ]);
    const [firstRun] = await runsOf(database, sourceId);
    expect(firstRun?.warnings).toEqual(first.warnings);

    await epic.deleteResource('Coverage', coverage.id!);
    await epic.deleteResource('Claim', claim.id!);
    const incremental = await runSync(deps(database), { tenantId, sourceId });
    expect(incremental.deleted).toBe(0);
    expect((await row(sourceId, 'Coverage', coverage.id!))?.deleted).toBe(false);

    const beforeReconcile = await countsByType(database, tenantId, sourceId);
    const reconciled = await runSync(deps(database), { tenantId, sourceId, mode: 'reconcile' });
    expect(reconciled.status).toBe('succeeded');
    expect(reconciled.mode).toBe('reconcile');
    expect(reconciled.deleted).toBe(2);
    expect((await row(sourceId, 'Coverage', coverage.id!))?.deleted).toBe(true);
    expect((await row(sourceId, 'Claim', claim.id!))?.deleted).toBe(true);
    // Nothing else was marked: exactly one Coverage and one Claim fewer than before the reconcile.
    const expected = { ...beforeReconcile, Claim: beforeReconcile.Claim! - 1, Coverage: beforeReconcile.Coverage! - 1 };
    if (expected.Coverage === 0) delete (expected as Record<string, number>).Coverage;
    expect(await countsByType(database, tenantId, sourceId)).toEqual(expected);
    const again = await runSync(deps(database), { tenantId, sourceId, mode: 'reconcile' });
    expect(again.deleted).toBe(0);
  });

  it('a reconcile whose listing fails on a page deletes nothing (BS-09: fewer results are not deletions)', async () => {
    const { tenantId, sourceId } = await newSource(epic, {
      kind: 'epic',
      types: ['Patient', 'Coverage'],
      settings: { pageSize: 4 },
    });
    await runSync(deps(database), { tenantId, sourceId });
    const before = await countsByType(database, tenantId, sourceId);
    const patient = await copyOf<Resource>(epic, 'Patient');
    await runSync(deps(database), { tenantId, sourceId });
    await epic.deleteResource('Patient', patient.id!);

    // The second page of the Patient id listing fails for good (a non-retryable 400).
    msw.use(
      http.get(`${epic.origin}/*`, ({ request }) => {
        const url = new URL(request.url);
        if (!url.pathname.endsWith('/Patient') || url.searchParams.get('_elements') !== 'id') return undefined;
        if (Number(url.searchParams.get('_offset') ?? '0') === 0) return undefined;
        return HttpResponse.json(
          { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'invalid' }] },
          { status: 400 },
        );
      }),
    );
    await expect(runSync(deps(database), { tenantId, sourceId, mode: 'reconcile' })).rejects.toBeInstanceOf(
      ConnectorError,
    );
    expect((await row(sourceId, 'Patient', patient.id!))?.deleted).toBe(false);
    const runs = await runsOf(database, sourceId);
    expect(runs.at(-1)?.status).toBe('failed');
    expect(runs.at(-1)?.pages).toBe(1); // the first id page was listed; the second one failed
    expect(runs.at(-1)?.deleted).toBe(0);

    // An OperationOutcome in the listing (withheld data) is partial too: a warning, nothing marked.
    msw.resetHandlers();
    msw.use(
      rewritePages(
        epic.origin,
        (url) => url.pathname.endsWith('/Patient') && url.searchParams.get('_elements') === 'id',
        (bundle) => {
          bundle.entry = [
            ...(bundle.entry ?? []),
            {
              search: { mode: 'outcome' },
              resource: { resourceType: 'OperationOutcome', issue: [{ severity: 'warning', code: 'suppressed' }] },
            },
          ];
        },
      ),
    );
    const partial = await runSync(deps(database), { tenantId, sourceId, mode: 'reconcile' });
    expect(partial.deleted).toBe(0);
    expect(partial.warnings).toContain('listing of Patient ids was incomplete or undated; no Patient marked deleted');
    expect((await row(sourceId, 'Patient', patient.id!))?.deleted).toBe(false);

    msw.resetHandlers();
    const complete = await runSync(deps(database), { tenantId, sourceId, mode: 'reconcile' });
    expect(complete.deleted).toBe(1);
    expect(await countsByType(database, tenantId, sourceId)).toEqual(before);
  });
});
