// Browser-test harness: the sandbox EHR (requireAuth), the real fhirdesk server on 127.0.0.1:0 over the
// test database, a tenant whose source is the sandbox, the patient's resources in the cache, and
// Debian's Chromium driven by playwright-core. Missing Chromium fails loudly (never a skip).
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { AuditSealer, type Database } from '@fhirdesk/core';
import { serve } from '@hono/node-server';
import type { Resource } from 'fhir/r4';
import { type Browser, type BrowserContext, chromium, type Frame, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { createApp } from '../../packages/server/src/app';
import type { SmartDeps } from '../../packages/server/src/auth/smart-session';
import { TokenKeys } from '../../packages/server/src/auth/tokens';
import { createLogger } from '../../packages/server/src/http/logger';
import { cacheResources, createSource } from '../agent-view/cache-fixtures';
import { type SandboxEhr, startSandboxEhr } from '../sandbox-ehr/index';
import { LogCapture, TEST_SECRET } from '../support/app';
import { createTestTenant, openTestDatabase } from '../support/db';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CLIENT_ID = 'fhirdesk-agent-app';
export const ARTIFACTS = join(process.cwd(), 'test-artifacts');

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Harness {
  ehr: SandboxEhr;
  database: Database;
  serverOrigin: string;
  tenantId: string;
  browser: Browser;
  newContext(viewport?: { width: number; height: number }): Promise<BrowserContext>;
  close(): Promise<void>;
}

/** Types the agent view reads for one patient, with the search parameter that finds them. */
const PATIENT_TYPES: [string, string][] = [
  ['Coverage', 'beneficiary'],
  ['Claim', 'patient'],
  ['ClaimResponse', 'patient'],
  ['ExplanationOfBenefit', 'patient'],
  ['Account', 'subject'],
];

/** Fills the cache with the patient's financial resources from the sandbox (what a sync would store). */
export async function seedPatientCache(
  h: { ehr: SandboxEhr; database: Database },
  tenantId: string,
  sourceId: string,
  patientIds: string[],
) {
  const entries: { resource: Resource; patientId: string | null }[] = [];
  for (const patientId of patientIds) {
    entries.push({ resource: await h.ehr.readResource('Patient', patientId), patientId });
    for (const [type, param] of PATIENT_TYPES) {
      for (const resource of await h.ehr.searchAll(type, { [param]: `Patient/${patientId}` })) {
        entries.push({ resource, patientId });
      }
    }
  }
  const orgs = await h.ehr.searchAll('Organization');
  for (const resource of orgs) entries.push({ resource, patientId: null });
  await cacheResources(h.database, tenantId, sourceId, entries, new Date());
}

/** `smart`: the server's SMART options, e.g. a short session idle limit (HIPAA-04). */
export async function startHarness(options: { smart?: SmartDeps } = {}): Promise<Harness> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium was not found at ${CHROMIUM_PATH}. The browser tests need it: apt-get install chromium, or set CHROMIUM_PATH.`,
    );
  }
  if (!existsSync(join(process.cwd(), 'packages/smart-app/dist/index.html'))) {
    throw new Error('The agent app is not built: run `npm run build -w @fhirdesk/smart-app` (npm test does it first).');
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  const ehr = await startSandboxEhr({ requireAuth: true });
  const database = await openTestDatabase();
  const keys = new TokenKeys(TEST_SECRET);
  const sealer = new AuditSealer(database, { delayMs: 5 });
  const app = createApp({
    database,
    keys,
    sealer,
    logger: createLogger('info', new LogCapture()),
    ...(options.smart ? { smart: options.smart } : {}),
  });
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const serverOrigin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const tenantId = await createTestTenant(database);
  await createSource(
    database,
    tenantId,
    ehr.fhirBaseUrl,
    { mode: 'none' },
    { smartClientId: CLIENT_ID, smartDefaultRoles: ['agent', 'billing'] },
  );
  ehr.registerAppClient({
    clientId: CLIENT_ID,
    redirectUris: [`${serverOrigin}/app/index.html`],
    launchUrl: `${serverOrigin}/app/launch.html`,
  });
  // playwright gives every launch a fresh temporary user-data-dir and removes it on close.
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, timeout: 20_000 });
  return {
    ehr,
    database,
    serverOrigin,
    tenantId,
    browser,
    newContext: (viewport = { width: 1280, height: 900 }) => browser.newContext({ viewport, locale: 'en-US' }),
    close: async () => {
      await browser.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await sealer.flush();
      await database.close();
      await ehr.close();
    },
  };
}

/**
 * Standalone launch from the sandbox EHR's practitioner login and patient picker, in a new page of `context`;
 * resolves once the app is at index.html (and `waitFor` is on the page, when given).
 */
export async function standaloneLaunch(
  h: Pick<Harness, 'serverOrigin' | 'ehr'>,
  context: BrowserContext,
  patientId: string,
  waitFor?: string,
): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${h.serverOrigin}/app/launch.html?iss=${encodeURIComponent(h.ehr.fhirBaseUrl)}`);
  await page.waitForSelector('#practitioner');
  await page.selectOption('#patient', patientId);
  await page.click('button[type=submit]');
  await page.waitForURL(/\/app\/index\.html/);
  if (waitFor) await page.waitForSelector(waitFor, { timeout: 20_000 });
  return page;
}

let axeSource: string | undefined;

/** axe-core (WCAG 2 A/AA) on the page or frame: no serious or critical violations. */
export async function expectNoSeriousAxeViolations(target: Page | Frame, name: string): Promise<void> {
  axeSource ??= readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  await target.evaluate(axeSource);
  const result = (await target.evaluate(async () => {
    const w = window as unknown as {
      axe: { run: (o: unknown) => Promise<{ violations: { id: string; impact: string }[] }> };
    };
    return w.axe.run({ runOnly: ['wcag2a', 'wcag2aa'] });
  })) as { violations: { id: string; impact: string }[] };
  const serious = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious.map((v) => `${name}: ${v.id}`)).toEqual([]);
}
