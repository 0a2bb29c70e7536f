// /api/v1/sources end to end against the sandbox EHR: connection test before save, secrets sealed and
// never returned, Backend Services keys generated server-side and published as a JWKS, queued syncs.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InProcessScheduler, runSync } from '@fhirdesk/connectors';
import { type Database, schema } from '@fhirdesk/core';
import { eq } from 'drizzle-orm';
import { createLocalJWKSet, importJWK, type JWK, jwtVerify, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../packages/server/src/app';
import { type SandboxEhr, startSandboxEhr } from '../sandbox-ehr/index';
import { buildTestApp, createTenantWithAgent, createTestUser, jsonRequest, type TestUser } from '../support/app';
import { openTestDatabase } from '../support/db';
import { deps, secretKey } from './support';

let database: Database;
let ehr: SandboxEhr;
let notFhir: Server;
let notFhirUrl: string;
let app: ReturnType<typeof createApp>;
let scheduler: InProcessScheduler;
let integrator: TestUser;
let agent: TestUser;

beforeAll(async () => {
  database = await openTestDatabase();
  ehr = await startSandboxEhr({ pageSizeMax: 50 });
  notFhir = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<html><body>Welcome to the hospital portal</body></html>');
  });
  await new Promise<void>((r) => notFhir.listen(0, '127.0.0.1', r));
  notFhirUrl = `http://127.0.0.1:${(notFhir.address() as AddressInfo).port}/fhir`;
  const connectorDeps = deps(database);
  scheduler = new InProcessScheduler((job) => runSync(connectorDeps, job).then(() => undefined));
  await scheduler.start();
  const t = buildTestApp(database);
  app = createApp({
    database,
    keys: t.keys,
    logger: (await import('../../packages/server/src/http/logger')).createLogger('silent'),
    sealer: t.sealer,
    connectors: connectorDeps,
    scheduler,
  });
  integrator = await createTenantWithAgent(database, t.keys, ['integration']);
  agent = await createTestUser(database, t.keys, integrator.tenantId, ['agent'], 'Agent');
});
afterAll(async () => {
  await scheduler.stop();
  await ehr.close();
  await new Promise((r) => notFhir.close(r));
  await database.close();
});

const call = async (user: TestUser, method: string, path: string, body?: unknown) => {
  const res = await app.request(path, jsonRequest(user.token, method, body));
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
};
const sourceCount = async () => database.db.$count(schema.source, eq(schema.source.tenantId, integrator.tenantId));

describe('sources API', () => {
  it('tests the connection, saves the source, queues a sync and lists its run with counts', async () => {
    const created = await call(integrator, 'POST', '/api/v1/sources', {
      name: 'Sandbox',
      kind: 'sandbox',
      baseUrl: ehr.fhirBaseUrl,
      resourceTypes: ['Patient', 'Coverage', 'ExplanationOfBenefit'],
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect(created.body).toMatchObject({ kind: 'sandbox', hasSecret: false, enabled: true });
    const test = await call(integrator, 'POST', `/api/v1/sources/${id}/test`);
    expect(test.body).toMatchObject({ ok: true, bulkExport: true });
    // Which types' deletions incremental runs can read (the rest need a reconcile run).
    expect((test.body.historyTypes as string[]).sort()).toEqual(['Coverage', 'ExplanationOfBenefit', 'Patient']);
    const queued = await call(integrator, 'POST', `/api/v1/sources/${id}/sync`, {});
    expect(queued).toMatchObject({ status: 202, body: { queued: true } });
    await scheduler.idle();
    const runs = await call(integrator, 'GET', `/api/v1/sources/${id}/runs`);
    const [run] = runs.body.items as Record<string, unknown>[];
    const counts = await ehr.counts();
    expect(run).toMatchObject({
      status: 'succeeded',
      inserted: counts.Patient! + counts.Coverage! + counts.ExplanationOfBenefit!,
    });
    // A reconcile is started the same way; the run records its mode.
    expect(await call(integrator, 'POST', `/api/v1/sources/${id}/sync`, { mode: 'reconcile' })).toMatchObject({
      status: 202,
    });
    await scheduler.idle();
    const afterReconcile = (await call(integrator, 'GET', `/api/v1/sources/${id}/runs`)).body.items as Record<
      string,
      unknown
    >[];
    expect(afterReconcile.find((r) => r.mode === 'reconcile')).toMatchObject({ status: 'succeeded', deleted: 0 });
    expect((await call(integrator, 'POST', `/api/v1/sources/${id}/sync`, { mode: 'sideways' })).status).toBe(400);
    const removed = await call(integrator, 'DELETE', `/api/v1/sources/${id}`);
    expect(removed.body).toEqual({ deleted: false, disabled: true });
  });

  it('refuses unreachable, non-FHIR and incapable servers with a 422 that says why, writing nothing', async () => {
    const before = await sourceCount();
    const unreachable = await call(integrator, 'POST', '/api/v1/sources', {
      name: 'x',
      baseUrl: 'http://127.0.0.1:9/fhir',
      settings: { maxRetries: 0, timeoutMs: 2000 },
    });
    expect(unreachable.status).toBe(422);
    const html = await call(integrator, 'POST', '/api/v1/sources', {
      name: 'x',
      baseUrl: notFhirUrl,
      settings: { maxRetries: 0 },
    });
    expect(html.status).toBe(422);
    expect(html.body.detail).toMatch(/does not serve a FHIR CapabilityStatement|CapabilityStatement/);
    const incapable = await call(integrator, 'POST', '/api/v1/sources', {
      name: 'x',
      baseUrl: ehr.fhirBaseUrl,
      resourceTypes: ['Patient', 'Invoice'],
    });
    expect(incapable.status).toBe(422);
    expect(incapable.body.detail).toMatch(/Invoice/);
    expect(await sourceCount()).toBe(before);
  });

  it('generates a Backend Services key, publishes only its public half, and never returns secrets', async () => {
    const created = await call(integrator, 'POST', '/api/v1/sources', {
      name: 'Payer (backend)',
      baseUrl: ehr.fhirBaseUrl,
      auth: { mode: 'backend-services', clientId: 'fhirdesk-payer', alg: 'ES384' },
      secrets: { bearerToken: 'never-shown' },
      test: false,
    });
    expect(created.status).toBe(201);
    const kid = (created.body.auth as { kid: string }).kid;
    expect(JSON.stringify(created.body)).not.toMatch(/never-shown|"d":/);
    expect(created.body.hasSecret).toBe(true);
    const [row] = await database.db
      .select()
      .from(schema.source)
      .where(eq(schema.source.id, created.body.id as string));
    expect(row!.secret).toMatch(/^v1\./);
    expect(row!.secret).not.toContain('never-shown');
    const jwksRes = await app.request(`/tenants/${integrator.tenantId}/jwks.json`);
    expect(jwksRes.headers.get('cache-control')).toMatch(/max-age/);
    const jwks = (await jwksRes.json()) as { keys: JWK[] };
    const key = jwks.keys.find((k) => k.kid === kid)!;
    expect(key).toMatchObject({ kty: 'EC', crv: 'P-384' });
    expect(key.d).toBeUndefined();
    // The published key verifies an assertion signed with the stored private key (what the EHR will do).
    const { openSourceSecrets } = await import('@fhirdesk/connectors');
    const secrets = openSourceSecrets(row!.id, row!.secret!, secretKey) as { privateJwk: JWK };
    const jwt = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES384', kid })
      .setIssuer('fhirdesk-payer')
      .setExpirationTime('5m')
      .sign(await importJWK(secrets.privateJwk, 'ES384'));
    await expect(jwtVerify(jwt, createLocalJWKSet(jwks))).resolves.toBeTruthy();
  });

  it('rejects invalid configuration with field errors and refuses agents', async () => {
    const bad = await call(integrator, 'POST', '/api/v1/sources', { name: 'x', baseUrl: 'ftp://nope', secretz: 1 });
    expect(bad.status).toBe(400);
    expect((await call(agent, 'GET', '/api/v1/sources')).status).toBe(403);
    expect((await call(integrator, 'GET', '/api/v1/sources/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });
});
