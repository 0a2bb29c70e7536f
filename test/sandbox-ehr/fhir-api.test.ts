import type { Bundle, CapabilityStatement, Claim, OperationOutcome, Patient, Resource } from 'fhir/r4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADVERTISED_TYPES } from './fhir/capability-statement';
import { fixtureExpectations } from './fixture-expectations';
import { type SandboxEhr, startSandboxEhr } from './index';

const expected = fixtureExpectations();
let ehr: SandboxEhr;

beforeAll(async () => {
  ehr = await startSandboxEhr({ pageSizeDefault: 20, pageSizeMax: 50 });
});
afterAll(() => ehr.close());

async function fhir<T = unknown>(path: string, init?: RequestInit): Promise<{ response: Response; body: T }> {
  const response = await fetch(path.startsWith('http') ? path : `${ehr.fhirBaseUrl}/${path}`, init);
  const text = await response.text();
  return { response, body: (text ? JSON.parse(text) : undefined) as T };
}

async function allPages(firstUrl: string): Promise<{ ids: string[]; pages: Bundle[] }> {
  const ids: string[] = [];
  const pages: Bundle[] = [];
  let url: string | undefined = firstUrl;
  while (url) {
    const { body }: { body: Bundle } = await fhir<Bundle>(url);
    pages.push(body);
    for (const entry of body.entry ?? []) ids.push(entry.resource?.id as string);
    url = body.link?.find((link) => link.relation === 'next')?.url;
  }
  return { ids, pages };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('sandbox EHR FHIR REST API', () => {
  it('serves a CapabilityStatement listing each advertised type with its interactions and search params', async () => {
    const { response, body } = await fhir<CapabilityStatement>('metadata');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/fhir+json');
    const resources = body.rest?.[0]?.resource ?? [];
    for (const type of ADVERTISED_TYPES) {
      const entry = resources.find((r) => r.type === type);
      const interactions = entry?.interaction?.map((i) => i.code);
      expect(interactions).toEqual(
        expect.arrayContaining(['read', 'vread', 'search-type', 'create', 'update', 'delete']),
      );
      expect(entry?.searchParam?.map((p) => p.name)).toEqual(expect.arrayContaining(['_id', '_lastUpdated']));
    }
    const params = (type: string) => resources.find((r) => r.type === type)?.searchParam?.map((p) => p.name);
    expect(params('ExplanationOfBenefit')).toContain('patient');
    expect(params('Coverage')).toContain('beneficiary');
  });

  it('returns ETag W/"versionId" and Last-Modified on read, and 304 for a matching If-None-Match (VER-01, VER-02)', async () => {
    const { response, body } = await fhir<Patient>('Patient/pat1');
    expect(response.status).toBe(200);
    expect(response.headers.get('etag')).toBe(`W/"${body.meta?.versionId}"`);
    expect(new Date(response.headers.get('last-modified') as string).getTime()).toBe(
      Math.floor(Date.parse(body.meta?.lastUpdated as string) / 1000) * 1000,
    );
    const conditional = await fetch(`${ehr.fhirBaseUrl}/Patient/pat1`, {
      headers: { 'If-None-Match': response.headers.get('etag') as string },
    });
    expect(conditional.status).toBe(304);
  });

  it('creates with 201 and a Location to the new version, then updates and vreads both versions (VER-05)', async () => {
    const created = await fhir<Patient>('Patient', {
      method: 'POST',
      headers: { 'Content-Type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: 'Patient', id: 'client-chosen', gender: 'unknown' }),
    });
    expect(created.response.status).toBe(201);
    expect(created.body.id).not.toBe('client-chosen');
    expect(created.response.headers.get('location')).toBe(`${ehr.fhirBaseUrl}/Patient/${created.body.id}/_history/1`);

    const updated = await fhir<Patient>(`Patient/${created.body.id}`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/fhir+json' },
      body: JSON.stringify({ ...created.body, gender: 'other' }),
    });
    expect(updated.response.status).toBe(200);
    expect(updated.body.meta?.versionId).toBe('2');
    expect((await fhir<Patient>(`Patient/${created.body.id}/_history/1`)).body.gender).toBe('unknown');
    expect((await fhir<Patient>(`Patient/${created.body.id}/_history/2`)).body.gender).toBe('other');

    const deleted = await fhir(`Patient/${created.body.id}`, { method: 'DELETE' });
    expect(deleted.response.status).toBe(200);
    expect((await fhir(`Patient/${created.body.id}`)).response.status).toBe(410);
  });

  it('lists every version of a type newest first at [type]/_history, with _since', async () => {
    const since = new Date().toISOString();
    await sleep(2);
    const account = (await ehr.readResource('Account', 'example')) as Resource;
    await ehr.updateResource({ ...account });
    const { response, body } = await fhir<Bundle>(`Account/_history?_since=${encodeURIComponent(since)}`);
    expect(response.status).toBe(200);
    expect(body.type).toBe('history');
    expect(body.entry?.map((e) => [e.resource?.id, e.resource?.meta?.versionId])).toEqual([['example', '2']]);
    const all = await fhir<Bundle>('Account/_history');
    expect(all.body.total).toBe(((await ehr.counts()).Account as number) + 1);
    expect(all.body.entry?.[0]?.fullUrl).toBe(`${ehr.fhirBaseUrl}/Account/example`);
  });

  it('reports deletes in [type]/_history as DELETE entries without a resource, newest first, re-create after', async () => {
    const since = new Date().toISOString();
    await sleep(2);
    const created = await ehr.createResource<Patient>({ resourceType: 'Patient', gender: 'unknown' });
    await ehr.deleteResource('Patient', created.id!);
    await ehr.updateResource<Patient>({ resourceType: 'Patient', id: created.id!, gender: 'other' });
    const { body } = await fhir<Bundle>(`Patient/_history?_since=${encodeURIComponent(since)}`);
    expect(
      body.entry?.filter((e) => e.fullUrl === `${ehr.fhirBaseUrl}/Patient/${created.id}`).map((e) => e.request?.method),
    ).toEqual(['PUT', 'DELETE', 'POST']);
    const deleteEntry = body.entry?.find((e) => e.request?.method === 'DELETE');
    expect(deleteEntry?.resource).toBeUndefined();
    expect(deleteEntry?.request?.url).toBe(`Patient/${created.id}`);
    expect(Date.parse(deleteEntry?.response?.lastModified ?? '')).toBeGreaterThanOrEqual(Date.parse(since));
    await ehr.deleteResource('Patient', created.id!);
  });

  it('without type history (Epic-style) neither serves nor advertises it', async () => {
    const plain = await startSandboxEhr({ seed: false, typeHistory: false });
    try {
      const statement = (await (await fetch(`${plain.fhirBaseUrl}/metadata`)).json()) as CapabilityStatement;
      const codes = statement.rest?.[0]?.resource?.find((r) => r.type === 'Patient')?.interaction?.map((i) => i.code);
      expect(codes).toContain('search-type');
      expect(codes).not.toContain('history-type');
      expect((await fetch(`${plain.fhirBaseUrl}/Patient/_history`)).ok).toBe(false);
    } finally {
      await plain.close();
    }
  });

  it('creates with a client id on PUT (update-as-create) and answers 201', async () => {
    const { response, body } = await fhir<Patient>('Patient/upserted-by-put', {
      method: 'PUT',
      headers: { 'Content-Type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: 'Patient', id: 'upserted-by-put' }),
    });
    expect(response.status).toBe(201);
    expect(body.meta?.versionId).toBe('1');
    await ehr.deleteResource('Patient', 'upserted-by-put');
  });

  it('answers OperationOutcome 404 for an unknown id or type and 400 for bad search parameters', async () => {
    const cases: [string, number][] = [
      ['Patient/does-not-exist', 404],
      ['NotAType/1', 404],
      ['Patient?no-such-param=1', 400],
      ['Claim?_count=many', 400],
      ['Claim?_offset=-1', 400],
      ['Claim?_lastUpdated=yesterday', 400],
      ['Claim?_sort=no-such-key', 400],
    ];
    for (const [path, status] of cases) {
      const { response, body } = await fhir<OperationOutcome>(path);
      expect({ path, status: response.status }).toEqual({ path, status });
      expect(body.resourceType).toBe('OperationOutcome');
      expect(body.issue[0]?.severity).toBe('error');
    }
  });

  it('pages through every ExplanationOfBenefit by following absolute next links until there is none (REST-01)', async () => {
    const total = (await ehr.counts()).ExplanationOfBenefit as number;
    const { ids, pages } = await allPages(`${ehr.fhirBaseUrl}/ExplanationOfBenefit?_count=7`);
    expect(ids).toHaveLength(total);
    expect(new Set(ids).size).toBe(total);
    expect(pages).toHaveLength(Math.ceil(total / 7));
    for (const page of pages) {
      expect(page.type).toBe('searchset');
      expect(page.total).toBe(total);
      expect(page.meta?.lastUpdated).toBeDefined();
      for (const link of page.link ?? [])
        expect(link.url.startsWith(`${ehr.fhirBaseUrl}/ExplanationOfBenefit?`)).toBe(true);
      for (const entry of page.entry ?? []) {
        expect(entry.fullUrl).toBe(`${ehr.fhirBaseUrl}/ExplanationOfBenefit/${entry.resource?.id}`);
        expect(entry.search?.mode).toBe('match');
      }
    }
    expect(pages[1]?.link?.find((l) => l.relation === 'previous')?.url).toContain('_offset=0');
  });

  it('applies the default page size and caps _count at the maximum (REST-02)', async () => {
    const byDefault = await fhir<Bundle>('Claim');
    expect(byDefault.body.entry).toHaveLength(20);
    const capped = await fhir<Bundle>('Claim?_count=500');
    expect(capped.body.entry).toHaveLength(50);
    expect(capped.body.link?.find((l) => l.relation === 'next')?.url).toContain('_count=50');
    const countOnly = await fhir<Bundle>('Claim?_count=0');
    expect(countOnly.body.entry ?? []).toHaveLength(0);
    expect(countOnly.body.total).toBe((await ehr.counts()).Claim);
  });

  it("finds a patient's ExplanationOfBenefits by patient, with or without the Patient/ prefix", async () => {
    const [patientId, eobIds] = [...expected.syntheaEobsByPatient][0] as [string, string[]];
    for (const value of [patientId, `Patient/${patientId}`]) {
      const { ids } = await allPages(`${ehr.fhirBaseUrl}/ExplanationOfBenefit?patient=${encodeURIComponent(value)}`);
      expect(ids.sort()).toEqual([...eobIds].sort());
    }
    const coverage = await fhir<Bundle>('Coverage?beneficiary=Patient/5');
    const expectedCoverages = (await ehr.searchAll('Coverage')).filter(
      (c) => (c as { beneficiary?: { reference?: string } }).beneficiary?.reference === 'Patient/5',
    );
    expect(coverage.body.total).toBe(expectedCoverages.length);
  });

  it('finds by _id and answers POST _search like GET (REST-05)', async () => {
    const ids = expected.syntheaPatientIds.slice(0, 3);
    const byGet = await fhir<Bundle>(`Patient?_id=${ids.join(',')}`);
    const byPost = await fhir<Bundle>('Patient/_search', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _id: ids.join(',') }),
    });
    expect(byGet.body.entry?.map((e) => e.resource?.id).sort()).toEqual([...ids].sort());
    expect(byPost.body.entry?.map((e) => e.resource?.id).sort()).toEqual([...ids].sort());
  });

  it('filters by _lastUpdated (gt/ge/lt) and sorts by _lastUpdated (INC-01)', async () => {
    await sleep(5);
    const checkpoint = new Date().toISOString();
    await sleep(5);
    const [first, second] = (await ehr.searchAll('Claim')).slice(0, 2) as [Claim, Claim];
    await ehr.updateResource({ ...first, status: 'cancelled' });
    await sleep(2); // distinct millisecond stamps, so the sort order below is not a tie
    await ehr.updateResource({ ...second, status: 'cancelled' });
    const total = (await ehr.counts()).Claim as number;

    const after = await allPages(`${ehr.fhirBaseUrl}/Claim?_lastUpdated=${encodeURIComponent(`gt${checkpoint}`)}`);
    expect(after.ids.sort()).toEqual([first.id, second.id].sort());
    const atOrAfter = await fhir<Bundle>(`Claim?_lastUpdated=${encodeURIComponent(`ge${checkpoint}`)}&_count=0`);
    expect(atOrAfter.body.total).toBe(2);
    const before = await fhir<Bundle>(`Claim?_lastUpdated=${encodeURIComponent(`lt${checkpoint}`)}&_count=0`);
    expect(before.body.total).toBe(total - 2);

    const newestFirst = await fhir<Bundle>('Claim?_sort=-_lastUpdated&_count=2');
    expect(newestFirst.body.entry?.map((e) => e.resource?.id)).toEqual([second.id, first.id]);
    const { pages } = await allPages(`${ehr.fhirBaseUrl}/Claim?_sort=_lastUpdated&_count=50`);
    const stamps = pages.flatMap((p) => p.entry ?? []).map((e) => e.resource?.meta?.lastUpdated as string);
    expect(stamps).toEqual([...stamps].sort());
  });

  it('rejects a create whose body is not JSON or names another resource type', async () => {
    const notJson = await fhir<OperationOutcome>('Patient', { method: 'POST', body: 'nope' });
    expect(notJson.response.status).toBe(400);
    const wrongType = await fhir<OperationOutcome>('Patient', {
      method: 'POST',
      headers: { 'Content-Type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: 'Claim' }),
    });
    expect(wrongType.response.status).toBe(400);
    expect(wrongType.body.resourceType).toBe('OperationOutcome');
  });
});
