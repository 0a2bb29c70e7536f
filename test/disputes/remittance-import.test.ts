// X12 835 import (issue 5, X835-02..07): API upload and CLI; claims matched by patient control number,
// denials fed to the dispute rules, malformed files rejected with position and nothing written, and a
// second import of the same file changing nothing.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Database, openDatabase, schema } from '@fhirdesk/core';
import { and, eq } from 'drizzle-orm';
import type { Claim } from 'fhir/r4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../packages/server/src/cli/context';
import { main } from '../../packages/server/src/cli/main';
import { buildTestApp, createTenantWithAgent, createTestUser, type TestApp, type TestUser } from '../support/app';
import { openTestDatabase } from '../support/db';
import { cache, createEhrSource, hl7 } from './support';

const fileText = readFileSync(join(__dirname, '../data/x12/remit-multi-claim.835'), 'utf8');

let database: Database;
let t: TestApp;
beforeAll(async () => {
  database = await openTestDatabase();
  t = buildTestApp(database);
});
afterAll(async () => {
  await database.close();
});

/** Claim 100150 re-identified with the 835's patient control number PCN1002 (the denied claim in the file). */
function claimForPcn(pcn: string): Claim {
  const claim = hl7<Claim>('Claim-100150.json');
  claim.identifier = [{ system: 'urn:example:pcn', value: pcn }];
  return claim;
}

async function billingDesk(): Promise<TestUser> {
  const billing = await createTenantWithAgent(database, t.keys, ['billing']);
  const sourceId = await createEhrSource(database, billing.tenantId);
  await cache(database, billing.tenantId, sourceId, [claimForPcn('PCN1002'), hl7('Patient-pat1.json')]);
  return billing;
}

const upload = (user: TestUser, body: string, type = 'application/edi-x12') =>
  t.app.request('/api/v1/remittances', {
    method: 'POST',
    headers: { authorization: `Bearer ${user.token}`, 'content-type': type },
    body,
  });

async function eobsOf(tenantId: string) {
  return database.db
    .select()
    .from(schema.fhirResource)
    .where(
      and(eq(schema.fhirResource.tenantId, tenantId), eq(schema.fhirResource.resourceType, 'ExplanationOfBenefit')),
    );
}

describe('835 upload', () => {
  it('imports each claim of a multi-claim file as an EOB under an x12-835 source, matched to its Claim, and opens a dispute for the denial', async () => {
    const billing = await billingDesk();
    const res = await upload(billing, fileText);
    expect(res.status, await res.clone().text()).toBe(200);
    const body = (await res.json()) as {
      sourceId: string;
      eobs: { id: string; claim: string | null }[];
      inserted: number;
      disputes: { opened: string[] };
    };
    expect(body.eobs).toHaveLength(4);
    expect(body.inserted).toBe(4);
    expect(body.eobs.filter((e) => e.claim)).toEqual([{ id: expect.stringMatching(/^x835-/), claim: 'Claim/100150' }]);
    const [src] = await database.db.select().from(schema.source).where(eq(schema.source.id, body.sourceId));
    expect(src!.kind).toBe('x12-835');
    const stored = await eobsOf(billing.tenantId);
    expect(stored).toHaveLength(4);
    const matched = stored.find((r) => r.resourceId === body.eobs.find((e) => e.claim)!.id)!;
    expect(matched.resource).toMatchObject({
      claim: { reference: 'Claim/100150' },
      patient: { reference: 'Patient/1' },
    });
    expect(matched.patientId).toBe('1');
    // PCN1002 is CLP02 = 4 with CO-197: one dispute on the matched claim; other denials key on their EOB.
    const disputes = await database.db
      .select()
      .from(schema.dispute)
      .where(eq(schema.dispute.tenantId, billing.tenantId));
    expect(disputes.map((d) => d.dedupeKey)).toContain('Claim/100150#denied');
    expect(disputes.find((d) => d.claimRef === 'Claim/100150')).toMatchObject({
      payerClaimNumber: 'ACME000000002',
      disputedAmountMinor: 25000,
    });
  });

  it('changes nothing when the same file is imported twice', async () => {
    const billing = await billingDesk();
    await upload(billing, fileText);
    const before = await eobsOf(billing.tenantId);
    const disputesBefore = await database.db
      .select()
      .from(schema.dispute)
      .where(eq(schema.dispute.tenantId, billing.tenantId));
    const again = await upload(billing, fileText, 'text/plain');
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ inserted: 0, updated: 0, unchanged: 4, disputes: { opened: [] } });
    const after = await eobsOf(billing.tenantId);
    expect(after.map((r) => [r.resourceId, r.contentHash]).sort()).toEqual(
      before.map((r) => [r.resourceId, r.contentHash]).sort(),
    );
    const sources = await database.db
      .select()
      .from(schema.source)
      .where(and(eq(schema.source.tenantId, billing.tenantId), eq(schema.source.kind, 'x12-835')));
    expect(sources).toHaveLength(1);
    expect(
      await database.db.select().from(schema.dispute).where(eq(schema.dispute.tenantId, billing.tenantId)),
    ).toHaveLength(disputesBefore.length);
  });

  it.each([
    ['a wrong segment count in SE', fileText.replace('SE*57*0001~', 'SE*58*0001~'), 'SE'],
    ['a missing IEA trailer', fileText.replace(/IEA\*1\*000000905~\s*$/, ''), 'IEA'],
    ['an unbalanced claim', fileText.replace('CLP*PCN1001*1*500*300*100', 'CLP*PCN1001*1*500*310*100'), 'CLP'],
  ])('rejects a file with %s, naming the segment and line, and writes nothing', async (_name, text, segment) => {
    const billing = await billingDesk();
    const res = await upload(billing, text);
    expect([400, 422]).toContain(res.status);
    expect(res.headers.get('content-type')).toMatch(/problem\+json/);
    const problem = (await res.json()) as { errors: { field: string; message: string }[] };
    expect(problem.errors.length).toBeGreaterThan(0);
    expect(problem.errors.map((e) => e.field).join(' ')).toMatch(new RegExp(`${segment}\\d*@\\d+`));
    expect(problem.errors[0]!.message).toMatch(/line \d+/);
    // X835-07: no value from the file in the answer.
    expect(JSON.stringify(problem)).not.toMatch(/PATIENT|W10000000|ACME HEALTH/);
    expect(await eobsOf(billing.tenantId)).toHaveLength(0);
    const sources = await database.db
      .select()
      .from(schema.source)
      .where(and(eq(schema.source.tenantId, billing.tenantId), eq(schema.source.kind, 'x12-835')));
    expect(sources).toHaveLength(0);
  });

  it('refuses a file larger than the body limit with 413 and writes nothing', async () => {
    const billing = await billingDesk();
    const small = buildTestApp(database, { bodyLimitBytes: 512 });
    const res = await small.app.request('/api/v1/remittances', {
      method: 'POST',
      headers: { authorization: `Bearer ${billing.token}`, 'content-type': 'application/edi-x12' },
      body: fileText,
    });
    expect(res.status).toBe(413);
    expect(await eobsOf(billing.tenantId)).toHaveLength(0);
  });

  it('documents the dispute, claim summary and remittance routes in the OpenAPI document', async () => {
    const doc = (await (await t.app.request('/openapi.json')).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/disputes',
        '/api/v1/disputes/{id}/stage',
        '/api/v1/claims/{type}/{id}/summary',
        '/api/v1/remittances',
      ]),
    );
  });

  it('refuses other media types and roles without billing access', async () => {
    const billing = await billingDesk();
    expect((await upload(billing, fileText, 'application/xml')).status).toBe(415);
    const agent = await createTestUser(database, t.keys, billing.tenantId, ['agent']);
    expect((await upload(agent, fileText)).status).toBe(403);
  });
});

describe('fhirdesk import-835', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'fhirdesk-835-'));
  const env = { FHIRDESK_DATA_DIR: dataDir, LOG_LEVEL: 'silent' } as NodeJS.ProcessEnv;
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    const capture: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), progress: () => {} };
    return { capture, out, err };
  };

  it('imports a file (exit 0), re-imports it unchanged, rejects a malformed one (exit 1) and reports usage and unknown tenants', async () => {
    expect(await main(['migrate'], io().capture, env)).toBe(0);
    const cliDb = await openDatabase({ dataDir });
    await cliDb.db.insert(schema.tenant).values({ slug: 'clinic', name: 'Clinic' });
    await cliDb.close();
    const good = join(dataDir, 'remit.835');
    const bad = join(dataDir, 'bad.835');
    writeFileSync(good, fileText);
    writeFileSync(bad, fileText.replace('SE*57*0001~', 'SE*58*0001~'));

    const first = io();
    expect(await main(['import-835', good, '--tenant', 'clinic'], first.capture, env)).toBe(0);
    expect(JSON.parse(first.out[0]!)).toMatchObject({ eobs: 4, inserted: 4 });
    const second = io();
    expect(await main(['import-835', good, '--tenant', 'clinic'], second.capture, env)).toBe(0);
    expect(JSON.parse(second.out[0]!)).toMatchObject({ inserted: 0, updated: 0, unchanged: 4, disputesOpened: 0 });
    const rejected = io();
    expect(await main(['import-835', bad, '--tenant', 'clinic'], rejected.capture, env)).toBe(1);
    expect(rejected.err.join('\n')).toMatch(/SE.*line \d+/);
    expect(await main(['import-835', good], io().capture, env)).toBe(2);
    expect(await main(['import-835', good, '--tenant', 'nope'], io().capture, env)).toBe(3);
    expect(await main(['import-835', join(dataDir, 'missing.835'), '--tenant', 'clinic'], io().capture, env)).toBe(3);
  });
});
