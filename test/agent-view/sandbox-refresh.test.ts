// End to end: an empty cache, the sandbox EHR, and the connectors' patient-scoped refresh behind the agent
// view. The first view fetches the patient and its financial context; a later view is served from the cache.
import { AuditSealer, type Database } from '@fhirdesk/core';
import type { ExplanationOfBenefit } from 'fhir/r4';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { createApp } from '../../packages/server/src/app';
import { TokenKeys } from '../../packages/server/src/auth/tokens';
import { createLogger } from '../../packages/server/src/http/logger';
import { patientRefresher } from '../../packages/server/src/routes/patients';
import { type SandboxEhr, startSandboxEhr } from '../sandbox-ehr/index';
import { createTestUser, jsonRequest, LogCapture, TEST_SECRET, type TestUser } from '../support/app';
import { createTestTenant, openTestDatabase } from '../support/db';
import { createSource } from './cache-fixtures';

let ehr: SandboxEhr;
let database: Database;
let app: ReturnType<typeof createApp>;
let sealer: AuditSealer;
let agent: TestUser;
const refreshes = vi.fn();

beforeAll(async () => {
  ehr = await startSandboxEhr();
  database = await openTestDatabase();
  const keys = new TokenKeys(TEST_SECRET);
  sealer = new AuditSealer(database, { delayMs: 5 });
  const refresh = patientRefresher({ database, retry: { baseMs: 1, capMs: 5 } });
  app = createApp({
    database,
    keys,
    sealer,
    logger: createLogger('info', new LogCapture()),
    smart: {
      refreshPatient: async (...args) => {
        refreshes(...args);
        await refresh(...args);
      },
      refreshTimeoutMs: 20_000,
    },
  });
  const tenantId = await createTestTenant(database);
  await createSource(database, tenantId, ehr.fhirBaseUrl, { mode: 'none' });
  agent = await createTestUser(database, keys, tenantId, ['agent']);
});
afterAll(async () => {
  await sealer.flush();
  await database.close();
  await ehr.close();
});

it('fetches an uncached patient from the sandbox EHR through the connectors, then serves the cache', async () => {
  // A Synthea patient (they all have EOBs in the fixtures).
  const patients = await ehr.searchAll('Patient');
  const id = patients.find((p) => p.meta?.tag?.some((t) => t.code?.startsWith('synthea')))!.id!;
  const eobs = (await ehr.searchAll('ExplanationOfBenefit', { patient: `Patient/${id}` })) as ExplanationOfBenefit[];
  expect(eobs.length).toBeGreaterThan(0);

  const first = await app.request(`/api/v1/patients/${id}/context`, jsonRequest(agent.token, 'GET'));
  expect(first.status).toBe(200);
  const body = (await first.json()) as {
    refreshed: boolean;
    patient: { banner: { id: string } };
    claims: { items: { adjudications: { id: string }[] }[] };
  };
  expect(body.refreshed).toBe(true);
  expect(body.patient.banner.id).toBe(id);
  const shown = body.claims.items.flatMap((r) => r.adjudications.map((a) => a.id));
  expect(shown.sort()).toEqual(eobs.map((e) => e.id).sort());

  const again = await app.request(`/api/v1/patients/${id}/context`, jsonRequest(agent.token, 'GET'));
  expect(((await again.json()) as { refreshed: boolean }).refreshed).toBe(false);
  expect(refreshes).toHaveBeenCalledTimes(1);
});

it('answers 404 when the EHR has no such patient and nothing is cached', async () => {
  const res = await app.request('/api/v1/patients/no-such-patient-anywhere/context', jsonRequest(agent.token, 'GET'));
  expect(res.status).toBe(404);
});
