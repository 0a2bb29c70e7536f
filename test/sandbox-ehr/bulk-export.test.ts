import { gunzipSync } from 'node:zlib';
import type { Bundle, Claim, OperationOutcome, Resource } from 'fhir/r4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureExpectations } from './fixture-expectations';
import {
  createTestBackendClient,
  fetchBackendToken,
  type SandboxEhr,
  SYNTHEA_GROUP_ID,
  startSandboxEhr,
} from './index';

interface Manifest {
  transactionTime: string;
  request: string;
  requiresAccessToken: boolean;
  output: { type: string; url: string; count: number }[];
  error: unknown[];
  deleted?: { type: string; url: string; count: number }[];
}

const expected = fixtureExpectations();
let ehr: SandboxEhr;

beforeAll(async () => {
  ehr = await startSandboxEhr({ bulkPollsBeforeReady: 2, bulkRetryAfterSeconds: 2 });
});
afterAll(() => ehr.close());

const kickOffHeaders = { Accept: 'application/fhir+json', Prefer: 'respond-async' };

async function kickOff(path: string, headers: Record<string, string> = kickOffHeaders): Promise<string> {
  const response = await fetch(`${ehr.fhirBaseUrl}/${path}`, { headers });
  expect(response.status).toBe(202);
  const location = response.headers.get('content-location');
  expect(location).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
  return location as string;
}

/** Polls until the manifest is ready, checking each 202 carries Retry-After and X-Progress (BULK-03). */
async function manifestOf(
  statusUrl: string,
  headers: Record<string, string> = {},
): Promise<{ manifest: Manifest; waits: number }> {
  let waits = 0;
  for (;;) {
    const response = await fetch(statusUrl, { headers: { Accept: 'application/json', ...headers } });
    if (response.status === 202) {
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(response.headers.get('x-progress')?.length).toBeLessThan(100);
      waits++;
      continue;
    }
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/json');
    return { manifest: (await response.json()) as Manifest, waits };
  }
}

async function ndjson(url: string, headers: Record<string, string> = {}): Promise<Resource[]> {
  const response = await fetch(url, { headers });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('application/fhir+ndjson');
  const text = await response.text();
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Resource);
}

function outputCounts(manifest: Manifest): Record<string, number> {
  return Object.fromEntries(manifest.output.map((o) => [o.type, o.count]));
}

describe('sandbox EHR Bulk Data $export', () => {
  it('exports every resource: kick-off, polls with Retry-After, manifest, NDJSON matching the counts (BULK-01..04)', async () => {
    const before = new Date().toISOString();
    const statusUrl = await kickOff('$export');
    const after = new Date().toISOString();
    const { manifest, waits } = await manifestOf(statusUrl);
    expect(waits).toBe(2);
    expect(manifest.transactionTime >= before && manifest.transactionTime <= after).toBe(true);
    expect(manifest.request).toBe(`${ehr.fhirBaseUrl}/$export`);
    expect(manifest.requiresAccessToken).toBe(false);
    expect(manifest.error).toEqual([]);
    expect(outputCounts(manifest)).toEqual(await ehr.counts());
    for (const output of manifest.output) {
      const resources = await ndjson(output.url);
      expect(resources).toHaveLength(output.count);
      expect(new Set(resources.map((r) => r.resourceType))).toEqual(new Set([output.type]));
    }
  });

  it('serves gzip-compressed files when the client accepts gzip (BULK-06)', async () => {
    const { manifest } = await manifestOf(await kickOff('$export?_type=Coverage'));
    const [output] = manifest.output;
    const plain = await (await fetch(output?.url as string)).text();
    // Node's fetch decodes gzip transparently; the raw bytes are checked through a manual request.
    const response = await fetch(output?.url as string, { headers: { 'Accept-Encoding': 'gzip' } });
    expect(response.headers.get('content-encoding')).toBe('gzip');
    expect(await response.text()).toBe(plain);
    const raw = await import('node:http').then(
      (http) =>
        new Promise<Buffer>((resolve, reject) => {
          http
            .get(output?.url as string, { headers: { 'Accept-Encoding': 'gzip' } }, (res) => {
              const chunks: Buffer[] = [];
              res.on('data', (c: Buffer) => chunks.push(c));
              res.on('end', () => resolve(Buffer.concat(chunks)));
            })
            .on('error', reject);
        }),
    );
    expect(gunzipSync(raw).toString('utf8')).toBe(plain);
  });

  it('limits the export to _type', async () => {
    const { manifest } = await manifestOf(await kickOff('$export?_type=Patient,Coverage&_type=Account'));
    const counts = await ehr.counts();
    expect(outputCounts(manifest)).toEqual({
      Patient: counts.Patient,
      Coverage: counts.Coverage,
      Account: counts.Account,
    });
  });

  it('exports only the Synthea patients and their data for the seeded Group', async () => {
    const { manifest } = await manifestOf(
      await kickOff(`Group/${SYNTHEA_GROUP_ID}/$export?_type=Patient,ExplanationOfBenefit,Claim`),
    );
    expect(outputCounts(manifest)).toEqual({
      Patient: expected.syntheaCounts.Patient,
      ExplanationOfBenefit: expected.syntheaCounts.ExplanationOfBenefit,
      Claim: expected.syntheaCounts.Claim,
    });
    const patients = await ndjson(manifest.output.find((o) => o.type === 'Patient')?.url as string);
    expect(patients.map((p) => p.id).sort()).toEqual([...expected.syntheaPatientIds].sort());
  });

  it('exports patient-compartment data of all patients at Patient level, without Organizations', async () => {
    const { manifest } = await manifestOf(await kickOff('Patient/$export'));
    const types = manifest.output.map((o) => o.type);
    expect(types).toContain('ExplanationOfBenefit');
    expect(types).not.toContain('Organization');
    expect(outputCounts(manifest).Patient).toBe((await ehr.counts()).Patient);
  });

  it('exports only changes after _since and lists deletions in deleted[] (BULK-04, INC-01)', async () => {
    const { manifest: first } = await manifestOf(await kickOff('$export?_type=Claim'));
    await new Promise((resolve) => setTimeout(resolve, 5));
    const [changed, removed] = (await ehr.searchAll('Claim')).slice(0, 2) as [Claim, Claim];
    await ehr.updateResource({ ...changed, status: 'cancelled' });
    await ehr.deleteResource('Claim', removed.id as string);

    const since = encodeURIComponent(first.transactionTime);
    const { manifest } = await manifestOf(await kickOff(`$export?_type=Claim&_since=${since}`));
    const claims = await ndjson(manifest.output[0]?.url as string);
    expect(claims.map((c) => c.id)).toEqual([changed.id]);
    expect(manifest.deleted?.map((d) => d.count)).toEqual([1]);
    const [deletion] = (await ndjson(manifest.deleted?.[0]?.url as string)) as Bundle[];
    expect(deletion?.type).toBe('transaction');
    expect(deletion?.entry?.[0]?.request).toEqual({ method: 'DELETE', url: `Claim/${removed.id}` });
  });

  it('cancels a job on DELETE: 202, then polls and files answer 404 (BULK-07)', async () => {
    const statusUrl = await kickOff('$export?_type=Account');
    const { manifest } = await manifestOf(statusUrl);
    const cancelled = await fetch(statusUrl, { method: 'DELETE' });
    expect(cancelled.status).toBe(202);
    const poll = await fetch(statusUrl);
    expect(poll.status).toBe(404);
    expect(((await poll.json()) as OperationOutcome).resourceType).toBe('OperationOutcome');
    expect((await fetch(manifest.output[0]?.url as string)).status).toBe(404);
  });

  it('rejects a kick-off without Prefer: respond-async, with an unknown _type, or for an unknown Group', async () => {
    const cases: [string, Record<string, string>, number][] = [
      ['$export', { Accept: 'application/fhir+json' }, 400],
      ['$export?_type=NotAType', kickOffHeaders, 400],
      ['$export?_since=not-a-date', kickOffHeaders, 400],
      ['$export?_typeFilter=Claim%3Fstatus%3Dactive', kickOffHeaders, 400],
      ['Group/no-such-group/$export', kickOffHeaders, 404],
    ];
    for (const [path, headers, status] of cases) {
      const response = await fetch(`${ehr.fhirBaseUrl}/${path}`, { headers });
      expect({ path, status: response.status }).toEqual({ path, status });
      expect(((await response.json()) as OperationOutcome).resourceType).toBe('OperationOutcome');
    }
  });

  it('requires the bearer token for kick-off, status and files when auth is required (BULK-05, BULK-09)', async () => {
    const secured = await startSandboxEhr({ requireAuth: true, bulkPollsBeforeReady: 0 });
    try {
      const client = await createTestBackendClient('ES384');
      secured.registerBackendClient({ clientId: client.clientId, jwks: client.jwks });
      expect((await fetch(`${secured.fhirBaseUrl}/$export`, { headers: kickOffHeaders })).status).toBe(401);
      const auth = { Authorization: `Bearer ${await fetchBackendToken(secured.tokenUrl, client)}` };
      const kick = await fetch(`${secured.fhirBaseUrl}/$export?_type=Patient`, {
        headers: { ...kickOffHeaders, ...auth },
      });
      expect(kick.status).toBe(202);
      const statusUrl = kick.headers.get('content-location') as string;
      expect((await fetch(statusUrl)).status).toBe(401);
      const manifest = (await (await fetch(statusUrl, { headers: auth })).json()) as Manifest;
      expect(manifest.requiresAccessToken).toBe(true);
      const fileUrl = manifest.output[0]?.url as string;
      expect((await fetch(fileUrl)).status).toBe(401);
      expect((await fetch(fileUrl, { headers: auth })).status).toBe(200);
    } finally {
      await secured.close();
    }
  });
});
