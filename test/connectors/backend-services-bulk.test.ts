// SMART Backend Services auth (BS-02..08) and Bulk Data export (BULK-01..09) against the sandbox EHR with
// authentication required; msw only injects a 401 and records what went over the wire.
import { and, eq } from 'drizzle-orm';
import type { Claim, ExplanationOfBenefit } from 'fhir/r4';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type BackendServicesAlg,
  BULK_SCOPE,
  ConnectorError,
  DEFAULT_RESOURCE_TYPES,
  generateClientKey,
  publicJwks,
  runSync,
} from '../../packages/connectors/src/index';
import type { Database } from '../../packages/core/src/db/database';
import { fhirResource } from '../../packages/core/src/db/schema/index';
import { type SandboxEhr, SYNTHEA_GROUP_ID, startSandboxEhr } from '../sandbox-ehr/index';
import { createTestTenant, openTestDatabase } from '../support/db';
import { cacheState, checkpointsOf, countsByType, deps, fastSleep, insertSource, pick } from './support';

let ehr: SandboxEhr;
let database: Database;
const msw = setupServer();

beforeAll(async () => {
  ehr = await startSandboxEhr({
    requireAuth: true,
    bulkPollsBeforeReady: 2,
    bulkRetryAfterSeconds: 1,
    pageSizeMax: 50,
  });
  database = await openTestDatabase();
  msw.listen({ onUnhandledRequest: 'bypass' });
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

interface Wire {
  method: string;
  url: string;
  auth: string | null;
  prefer: string | null;
  body: Promise<string>;
}

function recordWire(): Wire[] {
  const wire: Wire[] = [];
  msw.events.on('request:start', ({ request }) => {
    wire.push({
      method: request.method,
      url: request.url,
      auth: request.headers.get('authorization'),
      prefer: request.headers.get('prefer'),
      body: request.method === 'POST' ? request.clone().text() : Promise.resolve(''),
    });
  });
  return wire;
}

async function backendSource(
  alg: BackendServicesAlg,
  options: { register?: boolean; syncMode?: string; types?: string[] } = {},
) {
  const key = await generateClientKey(alg);
  const clientId = `fhirdesk-${alg.toLowerCase()}-${key.kid.slice(0, 8)}`;
  if (options.register !== false) ehr.registerBackendClient({ clientId, jwks: publicJwks([key]) });
  const tenantId = await createTestTenant(database);
  const sourceId = await insertSource(database, tenantId, {
    baseUrl: ehr.fhirBaseUrl,
    auth: { mode: 'backend-services', clientId, alg, kid: key.kid },
    secrets: { privateJwk: key.privateJwk as Record<string, unknown> },
    resourceTypes: options.types ?? [],
    syncMode: options.syncMode ?? 'incremental',
    settings: { pageSize: 50, overlapSeconds: 1, bulk: { level: 'system', pollIntervalMs: 1000 } },
  });
  return { tenantId, sourceId, key, clientId };
}

describe('SMART Backend Services', () => {
  for (const alg of ['RS384', 'ES384'] as const) {
    it(`signs ${alg} client assertions that validate against the published JWKS, one token per run (BS-02, BS-03, BS-07)`, async () => {
      const { tenantId, sourceId, key, clientId } = await backendSource(alg, { types: ['Coverage'] });
      const wire = recordWire();
      const summary = await runSync(deps(database), { tenantId, sourceId });
      expect(summary.status).toBe('succeeded');
      const tokenRequests = wire.filter((w) => w.url === ehr.tokenUrl);
      expect(tokenRequests).toHaveLength(1);
      const form = new URLSearchParams(await tokenRequests[0]!.body);
      expect(form.get('grant_type')).toBe('client_credentials');
      expect(form.get('client_assertion_type')).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
      expect(form.get('scope')).toContain('system/Coverage.rs');
      const assertion = form.get('client_assertion')!;

      const jwks = publicJwks([key]);
      expect(JSON.stringify(jwks)).not.toContain('"d"');
      const { payload, protectedHeader } = await jwtVerify(assertion, createLocalJWKSet(jwks), {
        issuer: clientId,
        subject: clientId,
        audience: ehr.tokenUrl,
        algorithms: [alg],
      });
      expect(protectedHeader).toEqual({ alg, kid: key.kid, typ: 'JWT' });
      expect(payload.exp! - Math.floor(Date.now() / 1000)).toBeLessThanOrEqual(300);
      expect(typeof payload.jti).toBe('string');
      // Every data request carried the token; the assertion itself went only to the token endpoint.
      const dataRequests = wire.filter((w) => w.url.startsWith(`${ehr.fhirBaseUrl}/Coverage`));
      expect(dataRequests.length).toBeGreaterThan(0);
      expect(dataRequests.every((w) => w.auth?.startsWith('Bearer '))).toBe(true);
      expect(await countsByType(database, tenantId, sourceId)).toEqual(pick(await ehr.counts(), ['Coverage']));
    });
  }

  it('re-mints the token once after a 401 and carries on (BS-07)', async () => {
    const { tenantId, sourceId } = await backendSource('ES384', { types: ['Coverage'] });
    let left = 1;
    msw.use(
      http.get(`${ehr.fhirBaseUrl}/Coverage`, () => {
        if (left-- <= 0) return undefined;
        return HttpResponse.json(
          { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'expired' }] },
          { status: 401 },
        );
      }),
    );
    const wire = recordWire();
    const summary = await runSync(deps(database), { tenantId, sourceId });
    expect(summary.status).toBe('succeeded');
    expect(wire.filter((w) => w.url === ehr.tokenUrl)).toHaveLength(2);
    const assertions = await Promise.all(wire.filter((w) => w.url === ehr.tokenUrl).map((w) => w.body));
    expect(new Set(assertions).size).toBe(2);
  });

  it('reports token errors with error and error_description but never the assertion, and writes nothing (BS-08)', async () => {
    const { tenantId, sourceId } = await backendSource('RS384', { register: false, types: ['Coverage'] });
    const wire = recordWire();
    const error = await runSync(deps(database), { tenantId, sourceId }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectorError);
    const e = error as ConnectorError;
    expect(e.reason).toBe('token');
    expect(e.message).toContain('invalid_client');
    expect(e.message).toContain('Unknown client');
    const assertion = new URLSearchParams(await wire.find((w) => w.url === ehr.tokenUrl)!.body).get(
      'client_assertion',
    )!;
    expect(JSON.stringify({ message: e.message, ext: e.extensions })).not.toContain(assertion.slice(0, 20));
    expect(await countsByType(database, tenantId, sourceId)).toEqual({});
    expect(await checkpointsOf(database, sourceId)).toEqual([]);
  });
});

describe('Bulk Data export: resume and group export', () => {
  it('resumes polling the same export after a crash inside a file batch instead of starting another (INC-03, BULK-02)', async () => {
    const bulk = await backendSource('RS384', {
      syncMode: 'bulk',
      types: ['Patient', 'Claim', 'ExplanationOfBenefit'],
    });
    const wire = recordWire();
    let commits = 0;
    const hooks = {
      beforePageCommit: () => {
        if (++commits === 3) throw new Error('killed inside a file batch');
      },
    };
    const failed = await runSync(deps(database, { hooks }), { tenantId: bulk.tenantId, sourceId: bulk.sourceId }).catch(
      (e: unknown) => e,
    );
    expect(failed).toBeInstanceOf(Error);
    const [inProgress] = await checkpointsOf(database, bulk.sourceId);
    expect(inProgress?.cursor).toMatch(/\/bulk\/status\//);
    expect(inProgress?.since).toBeNull();
    const resumed = await runSync(deps(database), { tenantId: bulk.tenantId, sourceId: bulk.sourceId });
    expect(resumed.status).toBe('succeeded');
    expect(wire.filter((w) => w.url.includes('$export'))).toHaveLength(1);
    expect(await countsByType(database, bulk.tenantId, bulk.sourceId)).toEqual(
      pick(await ehr.counts(), ['Patient', 'Claim', 'ExplanationOfBenefit']),
    );
  });

  it('exports a Group (Epic-style population) and keeps only the data of its patients', async () => {
    const key = await generateClientKey('ES384');
    const clientId = `fhirdesk-group-${key.kid.slice(0, 8)}`;
    ehr.registerBackendClient({ clientId, jwks: publicJwks([key]) });
    const tenantId = await createTestTenant(database);
    const sourceId = await insertSource(database, tenantId, {
      kind: 'epic',
      baseUrl: ehr.fhirBaseUrl,
      auth: { mode: 'backend-services', clientId, alg: 'ES384', kid: key.kid },
      secrets: { privateJwk: key.privateJwk as Record<string, unknown> },
      resourceTypes: ['Patient', 'ExplanationOfBenefit'],
      syncMode: 'bulk',
      settings: { bulk: { level: 'group', groupId: SYNTHEA_GROUP_ID } },
    });
    const wire = recordWire();
    await runSync(deps(database), { tenantId, sourceId });
    expect(wire.some((w) => new URL(w.url).pathname.endsWith(`/Group/${SYNTHEA_GROUP_ID}/$export`))).toBe(true);
    const rows = await cacheState(database, tenantId, sourceId);
    const patients = new Set(rows.filter((r) => r.key.startsWith('Patient/')).map((r) => r.key.slice(8)));
    expect(patients.size).toBe(15);
    expect(
      rows.filter((r) => r.key.startsWith('ExplanationOfBenefit/')).every((r) => patients.has(r.patientId ?? '')),
    ).toBe(true);
  });
});

describe('Bulk Data export', () => {
  const TYPES = [...DEFAULT_RESOURCE_TYPES];

  it('kicks off, polls with Retry-After, streams NDJSON and reaches the same cache as a search sync (BULK-01..06, BULK-09)', async () => {
    const search = await backendSource('ES384');
    await runSync(deps(database), { tenantId: search.tenantId, sourceId: search.sourceId });

    const bulk = await backendSource('ES384', { syncMode: 'bulk' });
    // The token "expires" at the first status poll: re-minted transparently (BULK-09).
    let left = 1;
    msw.use(
      http.get(`${ehr.origin}/*`, ({ request }) => {
        const url = new URL(request.url);
        if (!url.pathname.startsWith('/bulk/status/') || left-- <= 0) return undefined;
        return HttpResponse.json(
          { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'expired' }] },
          { status: 401 },
        );
      }),
    );
    const wire = recordWire();
    const waits: number[] = [];
    const progress: string[] = [];
    const logger = {
      info: (o: Record<string, unknown>) => {
        if (typeof o.progress === 'string') progress.push(o.progress);
      },
      warn: () => {},
    };
    const summary = await runSync(deps(database, { sleep: fastSleep(waits), logger }), {
      tenantId: bulk.tenantId,
      sourceId: bulk.sourceId,
    });
    expect(summary.status).toBe('succeeded');
    expect(summary.mode).toBe('bulk');

    const kickOff = wire.find((w) => w.url.includes('$export'))!;
    expect(kickOff.prefer).toBe('respond-async');
    expect(new URL(kickOff.url).searchParams.get('_type')).toBe(TYPES.join(','));
    expect(waits.filter((w) => w === 1000).length).toBeGreaterThanOrEqual(2);
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(wire.filter((w) => w.url === ehr.tokenUrl)).toHaveLength(2);
    const files = wire.filter((w) => w.url.endsWith('.ndjson'));
    expect(files.length).toBeGreaterThan(0);
    // requiresAccessToken is true on this server: the token goes with each file (BULK-05).
    expect(files.every((w) => w.auth?.startsWith('Bearer '))).toBe(true);

    const viaSearch = await cacheState(database, search.tenantId, search.sourceId);
    const viaBulk = await cacheState(database, bulk.tenantId, bulk.sourceId);
    expect(viaBulk).toEqual(viaSearch);
    const [checkpoint] = await checkpointsOf(database, bulk.sourceId);
    expect(checkpoint?.scope).toBe(BULK_SCOPE);
    expect(checkpoint?.cursor).toBeNull();
    expect(checkpoint?.since).toBeTruthy();

    // Second export: `_since` = the previous transactionTime; an update and a deletion arrive (BULK-04).
    const [claim] = (await ehr.searchAll('Claim')) as Claim[];
    const [eob] = (await ehr.searchAll('ExplanationOfBenefit')) as ExplanationOfBenefit[];
    await ehr.updateResource({ ...claim!, status: 'cancelled' });
    await ehr.deleteResource('ExplanationOfBenefit', eob!.id!);
    const wire2 = recordWire();
    const second = await runSync(deps(database), { tenantId: bulk.tenantId, sourceId: bulk.sourceId });
    const kickOff2 = wire2.find((w) => w.url.includes('$export'))!;
    expect(new URL(kickOff2.url).searchParams.get('_since')).toBe(checkpoint?.since);
    expect(second.deleted).toBe(1);
    expect(second.updated).toBe(1);
    const rows = await database.db
      .select()
      .from(fhirResource)
      .where(
        and(
          eq(fhirResource.sourceId, bulk.sourceId),
          eq(fhirResource.resourceType, 'ExplanationOfBenefit'),
          eq(fhirResource.resourceId, eob!.id!),
        ),
      );
    expect(rows[0]?.deleted).toBe(true);
    expect(rows[0]?.deletedAt).toBeInstanceOf(Date);
  });
});
