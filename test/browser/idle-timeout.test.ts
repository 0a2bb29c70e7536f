// HIPAA-04 automatic logoff in a real browser: with a short idle limit, input keeps the session (the app
// renews the server's session token), no input signs the agent out with a clear message, the token is gone
// from sessionStorage, and the server rejects the old token with 401.
import { randomUUID } from 'node:crypto';
import type { Patient } from 'fhir/r4';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ARTIFACTS, type Harness, seedPatientCache, standaloneLaunch, startHarness } from './harness';

const IDLE_SECONDS = 4;
let h: Harness;
let patientId: string;

beforeAll(async () => {
  h = await startHarness({ smart: { sessionTtlSeconds: IDLE_SECONDS } });
  const patients = (await h.ehr.searchAll('Patient')) as Patient[];
  for (const p of patients) {
    if (!p.meta?.tag?.some((t) => t.code?.startsWith('synthea'))) continue;
    if ((await h.ehr.searchAll('Claim', { patient: `Patient/${p.id}` })).length > 0) {
      patientId = p.id!;
      break;
    }
  }
  const { schema } = await import('@fhirdesk/core');
  const [row] = await h.database.db.select({ id: schema.source.id }).from(schema.source);
  await seedPatientCache(h, h.tenantId, row!.id, [patientId]);
  // A ticket assigned to a named agent, so the ticket list shows a name rather than an id.
  const assigneeId = randomUUID();
  await h.database.db
    .insert(schema.appUser)
    .values({ id: assigneeId, tenantId: h.tenantId, displayName: 'Robin Assignee', roles: ['agent'] });
  await h.database.db.insert(schema.ticket).values({
    tenantId: h.tenantId,
    number: 4242,
    subject: 'Question about a copay',
    category: 'billing',
    channel: 'phone',
    status: 'open',
    priority: 'normal',
    queue: 'billing',
    assigneeId,
    patientRef: `Patient/${patientId}`,
    createdBy: assigneeId,
    createdAt: new Date(),
    updatedAt: new Date(),
  });
}, 90_000);

afterAll(async () => {
  await h?.close();
});

const storedToken = (page: Page) =>
  page.evaluate(() => {
    const raw = sessionStorage.getItem('fhirdesk.session');
    return raw ? (JSON.parse(raw) as { token: string }).token : null;
  });

it('names the ticket assignee; keeps an active session, then signs out after the idle limit and clears the token (HIPAA-04)', async () => {
  const context = await h.newContext();
  const page = await standaloneLaunch(h, context, patientId, '.patient-name');
  // Issue 4: the patient's ticket list names the assignee.
  const assignee = await page.waitForSelector('.ticket-row .assignee', { timeout: 20_000 });
  expect(await assignee.textContent()).toBe('Assigned to Robin Assignee');
  const first = await storedToken(page);
  expect(first).toEqual(expect.any(String));

  // Input for longer than the idle limit: still signed in, with a renewed token.
  for (let i = 0; i < IDLE_SECONDS * 2; i++) {
    await page.mouse.click(5, 5);
    await page.waitForTimeout(700);
  }
  expect(await page.locator('text=Signed out after inactivity').count()).toBe(0);
  const renewed = await storedToken(page);
  expect(renewed).toEqual(expect.any(String));
  expect(renewed).not.toBe(first);

  // No input: signed out with a clear message, the token gone from sessionStorage and the page.
  const alert = await page.waitForSelector('[role=alert]:has-text("signed out after inactivity")', {
    timeout: (IDLE_SECONDS + 6) * 1000,
  });
  expect(await alert.textContent()).toMatch(/launch the app again/i);
  expect(await storedToken(page)).toBeNull();
  expect(await page.locator('.patient-name').count()).toBe(0);
  await page.screenshot({ path: `${ARTIFACTS}/idle-timeout.png` });

  // The server refuses the idle session on its own.
  const res = await fetch(`${h.serverOrigin}/api/v1/patients/${patientId}/context`, {
    headers: { authorization: `Bearer ${renewed}` },
  });
  expect(res.status).toBe(401);
  await context.close();
}, 90_000);
