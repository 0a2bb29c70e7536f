// GET /app/*: the built agent app is framed only by the tenants' EHRs, and /app/config.json lists the
// registered SMART issuers the launch page accepts (SAL-04). No browser needed.
import type { Database } from '@fhirdesk/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSource } from '../agent-view/cache-fixtures';
import { buildTestApp, type TestApp } from '../support/app';
import { createTestTenant, openTestDatabase } from '../support/db';

let database: Database;
let t: TestApp;

beforeAll(async () => {
  database = await openTestDatabase();
  t = buildTestApp(database);
  const tenantId = await createTestTenant(database);
  await createSource(database, tenantId, 'http://ehr.example.test:8443/fhir/r4/', {}, { smartClientId: 'agent-app' });
});
afterAll(async () => {
  await t.sealer.flush();
  await database.close();
});

it('lists the registered issuers with their client ids for the launch page', async () => {
  const res = await t.app.request('/app/config.json');
  expect(res.status).toBe(200);
  const body = (await res.json()) as { issuers: { iss: string; clientId: string }[] };
  expect(body.issuers).toContainEqual({ iss: 'http://ehr.example.test:8443/fhir/r4', clientId: 'agent-app' });
});

it('serves the app pages with a CSP whose frame-ancestors names the source EHR origins', async () => {
  for (const path of ['/app/index.html', '/app/launch.html']) {
    const res = await t.app.request(path);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    const frameAncestors = csp.split(';').find((d) => d.trim().startsWith('frame-ancestors'));
    expect(frameAncestors).toContain('http://ehr.example.test:8443');
    expect(frameAncestors).not.toContain('*');
    expect(csp).toContain("script-src 'self'");
  }
});

it('does not serve files outside the built app', async () => {
  const res = await t.app.request('/app/..%2F..%2Fpackage.json');
  expect(res.status).toBe(404);
});
