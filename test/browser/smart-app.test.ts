import { join } from 'node:path';
import type { Coverage, ExplanationOfBenefit, Patient } from 'fhir/r4';
import type { BrowserContext, Frame, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ARTIFACTS,
  expectNoSeriousAxeViolations,
  type Harness,
  seedPatientCache,
  standaloneLaunch,
  startHarness,
} from './harness';

let h: Harness;
let patientId: string;
let otherPatientId: string;
let patientName: string;
let sourceId: string;

function displayName(p: Patient): string {
  const n = p.name?.find((x) => x.use === 'official') ?? p.name?.[0];
  return n?.text ?? [...(n?.given ?? []), n?.family ?? ''].filter(Boolean).join(' ');
}

beforeAll(async () => {
  h = await startHarness();
  const patients = (await h.ehr.searchAll('Patient')) as Patient[];
  const withClaims: string[] = [];
  for (const p of patients) {
    if (!p.meta?.tag?.some((t) => t.code?.startsWith('synthea'))) continue;
    const claims = await h.ehr.searchAll('Claim', { patient: `Patient/${p.id}` });
    if (claims.length > 0) withClaims.push(p.id!);
    if (withClaims.length === 2) break;
  }
  expect(withClaims.length).toBe(2);
  [patientId, otherPatientId] = withClaims as [string, string];
  patientName = displayName(patients.find((p) => p.id === patientId)!);
  const { schema } = await import('@fhirdesk/core');
  const { eq } = await import('drizzle-orm');
  // Only this tenant's source: on a shared PostgreSQL database other files' sources exist too.
  const [row] = await h.database.db
    .select({ id: schema.source.id })
    .from(schema.source)
    .where(eq(schema.source.tenantId, h.tenantId));
  sourceId = row!.id;
  await seedPatientCache(h, h.tenantId, sourceId, [patientId, otherPatientId]);
}, 90_000);

afterAll(async () => {
  await h?.close();
});

async function appFrame(page: Page): Promise<Frame> {
  const handle = await page.waitForSelector('iframe[title="fhirdesk"]');
  return (await handle.contentFrame())!;
}

/** Standalone launch in a fresh context; returns the page at the app (or its error). */
const standalone = (context: BrowserContext, pick = patientId): Promise<Page> => standaloneLaunch(h, context, pick);

const axe = expectNoSeriousAxeViolations;

describe('EHR launch from the sandbox EHR page', () => {
  let context: BrowserContext;
  let page: Page;
  let app: Frame;

  beforeAll(async () => {
    context = await h.newContext();
    page = await context.newPage();
  });
  afterAll(async () => context.close());

  it('launches in the EHR iframe, authorizes with PKCE and shows the patient, coverages and claim totals', async () => {
    const authorizeRequests: URL[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/auth/authorize')) authorizeRequests.push(new URL(r.url()));
    });
    await page.goto(`${h.ehr.ehrUrl}?patient=${encodeURIComponent(patientId)}`);
    app = await appFrame(page);
    await app.waitForSelector('#practitioner');
    await app.click('button[type=submit]');
    await app.waitForSelector('.patient-name', { timeout: 20_000 });
    app = await appFrame(page);

    // SAL-20..23 / CJS-01 / CJS-02: what the app sent to /authorize.
    const auth = authorizeRequests[0]!;
    expect(auth.searchParams.get('aud')).toBe(h.ehr.fhirBaseUrl);
    expect(auth.searchParams.get('code_challenge_method')).toBe('S256');
    expect(auth.searchParams.get('state')).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(auth.searchParams.get('launch')).toBeTruthy();
    expect(auth.searchParams.get('scope')).toContain('patient/Coverage.rs');
    // SAL-84: no code or state left in the address bar.
    expect(app.url()).not.toMatch(/[?&](code|state)=/);

    expect(await app.textContent('.patient-name')).toBe(patientName);
    // Synthea publishes no top-level Coverage: the plans travel contained in the EOBs.
    const eobs = (await h.ehr.searchAll('ExplanationOfBenefit', {
      patient: `Patient/${patientId}`,
    })) as ExplanationOfBenefit[];
    const topLevel = (await h.ehr.searchAll('Coverage', { beneficiary: `Patient/${patientId}` })) as Coverage[];
    const coverages = [
      ...topLevel,
      ...eobs.flatMap((e) => (e.contained ?? []).filter((r): r is Coverage => r.resourceType === 'Coverage')),
    ];
    expect(coverages.length).toBeGreaterThan(0);
    const cards = await app.$$eval('.coverage', (els) =>
      els.map((e) => ({
        payer: e.querySelector('.payer')?.textContent,
        member: e.querySelector('.member-id')?.textContent,
      })),
    );
    expect(cards.length).toBeGreaterThan(0);
    for (const c of coverages) {
      const payer = c.payor?.[0]?.display ?? 'Unknown payer';
      const member = c.identifier?.find((i) => i.value)?.value ?? c.subscriberId ?? '—';
      expect(cards).toContainEqual({ payer, member });
    }
    const rows = await app.$$eval('tr.claim', (els) => els.length);
    const claims = await h.ehr.searchAll('Claim', { patient: `Patient/${patientId}` });
    expect(rows).toBeGreaterThanOrEqual(claims.length);
    const totals = await app.$$eval('tr.claim .total', (els) => els.map((e) => e.textContent));
    for (const claim of claims as { total?: { value?: number; currency?: string } }[]) {
      if (typeof claim.total?.value !== 'number') continue;
      const shown = new Intl.NumberFormat('en-US', {
        style: 'currency',
        currency: claim.total.currency ?? 'USD',
      }).format(claim.total.value);
      expect(totals).toContain(shown);
    }
    await page.screenshot({ path: join(ARTIFACTS, 'ehr-launch-agent-view.png'), fullPage: true });
    await axe(app, 'agent view');
  }, 60_000);

  it('creates a claim-dispute ticket from a claim row, replies, changes status, keeps state on reload, and marks a claim changed since linking', async () => {
    const denied = await app.$('tr.claim.denied');
    // The Synthea fixtures may carry no denial; then the first claim row is disputed.
    const row = denied ?? (await app.$('tr.claim'))!;
    const claimKey = await row.getAttribute('data-claim');
    await (await row.$('button:has-text("Dispute")'))!.click();
    await app.fill('#nt-desc', 'Patient says this was covered.');
    // "Dispute this claim" opens the ticket with its dispute record and goes to the ticket page (issue 5).
    await app.click('button:has-text("Open dispute")');
    const link = await app
      .waitForSelector(`.ticket-title ~ .links .link[data-reference="${claimKey}"]`, { timeout: 15_000 })
      .catch(async (error: unknown) => {
        await page.screenshot({ path: join(ARTIFACTS, 'failed-new-ticket.png'), fullPage: true });
        throw new Error(
          `No linked ticket appeared; the app says: ${await app.textContent('[role=alert]').catch(() => 'nothing')}`,
          {
            cause: error,
          },
        );
      });
    expect(await link.textContent()).toContain(claimKey);
    expect(await app.textContent('.ticket-title')).toContain('Claim dispute');
    await app.waitForSelector('.dispute-panel[data-view]', { timeout: 15_000 });
    expect(await app.textContent('.dispute-panel')).not.toContain('no dispute record');
    // A logged call: the fixture patient may have no email or mobile to send to, and an undeliverable
    // reply is refused (422 no-recipient, covered in test/conversations/reply-recipient.test.ts).
    await app.selectOption('#r-channel', 'phone');
    await app.fill('#r-body', 'We are looking into the claim.');
    await app.click('button:has-text("Send reply")');
    await app.waitForSelector('.timeline .body:has-text("We are looking into the claim.")');
    await app.selectOption('#s-status', 'open');
    await app.click('button:has-text("Change status")');
    await app.waitForSelector('p .status:has-text("Open")');
    await axe(app, 'ticket page');

    await app.evaluate(() => location.reload());
    app = await appFrame(page);
    await app.waitForSelector('.ticket-title', { timeout: 20_000 });
    expect(await app.textContent('p .status')).toBe('Open');
    expect(await app.textContent('.timeline')).toContain('We are looking into the claim.');
    await page.screenshot({ path: join(ARTIFACTS, 'ehr-launch-ticket.png'), fullPage: true });

    // A newer version of the claim arrives in the cache: the ticket's link is marked as changed.
    const { schema } = await import('@fhirdesk/core');
    const { and, eq } = await import('drizzle-orm');
    await h.database.db
      .update(schema.fhirResource)
      .set({ lastUpdated: '2099-01-01T00:00:00.000Z' })
      .where(
        and(eq(schema.fhirResource.tenantId, h.tenantId), eq(schema.fhirResource.resourceId, claimKey!.split('/')[1]!)),
      );
    await app.click('a:has-text("Back to the patient")');
    const changed = await app.waitForSelector(`.ticket-row .link[data-reference="${claimKey}"] .changed`);
    expect(await changed.textContent()).toContain('changed since linked');
  }, 60_000);
});

describe('standalone launch', () => {
  it('picks a patient on the sandbox login page and shows the agent view at 400 px without horizontal scrolling', async () => {
    const context = await h.newContext({ width: 400, height: 800 });
    try {
      const page = await standalone(context);
      await page.waitForSelector('.patient-name', { timeout: 20_000 });
      expect(await page.textContent('.patient-name')).toBe(patientName);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(1);
      await page.screenshot({ path: join(ARTIFACTS, 'standalone-400px.png'), fullPage: true });
      await axe(page, 'agent view 400 px');
    } finally {
      await context.close();
    }
  }, 60_000);

  it('switches features off visibly when the EHR grants fewer scopes (SAL-43)', async () => {
    h.ehr.appLaunch.grantScopes = (requested) => requested.filter((s) => !/Claim|ExplanationOfBenefit/.test(s));
    const context = await h.newContext();
    try {
      const page = await standalone(context);
      await page.waitForSelector('.patient-name', { timeout: 20_000 });
      expect(await page.textContent('#claims-h + p')).toContain('switched off');
      expect(await page.$('tr.claim')).toBeNull();
    } finally {
      h.ehr.appLaunch.grantScopes = (requested) => requested;
      await context.close();
    }
  }, 60_000);

  it('hides its own patient banner when the EHR says need_patient_banner is false (SAL-53)', async () => {
    h.ehr.appLaunch.needPatientBanner = false;
    const context = await h.newContext();
    try {
      const page = await standalone(context);
      await page.waitForSelector('#claims-h', { timeout: 20_000 });
      expect(await page.$('.patient-name')).toBeNull();
    } finally {
      h.ehr.appLaunch.needPatientBanner = true;
      await context.close();
    }
  }, 60_000);
});

describe('session expiry (SAL-74)', () => {
  const expireSession = (page: Page) =>
    page.evaluate(() => {
      const session = JSON.parse(sessionStorage.getItem('fhirdesk.session') ?? '{}') as { token: string };
      session.token = 'expired.session.token';
      sessionStorage.setItem('fhirdesk.session', JSON.stringify(session));
      location.reload();
    });

  it('renews an expired session with the SMART refresh token and keeps working', async () => {
    const context = await h.newContext();
    try {
      const page = await standalone(context);
      await page.waitForSelector('.patient-name', { timeout: 20_000 });
      await expireSession(page);
      await page.waitForSelector('.patient-name', { timeout: 20_000 });
      const token = await page.evaluate(() => JSON.parse(sessionStorage.getItem('fhirdesk.session')!).token as string);
      expect(token).not.toBe('expired.session.token');
      expect(await page.evaluate(() => localStorage.length)).toBe(0);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('shows "session ended" instead of a blank screen when no refresh token was granted', async () => {
    h.ehr.appLaunch.grantScopes = (requested) => requested.filter((s) => s !== 'offline_access');
    const context = await h.newContext();
    try {
      const page = await standalone(context);
      await page.waitForSelector('.patient-name', { timeout: 20_000 });
      await expireSession(page);
      const alert = await page.waitForSelector('[role=alert]:has-text("Session ended")', { timeout: 20_000 });
      expect(await alert.textContent()).toContain('launch the app again from the EHR');
    } finally {
      h.ehr.appLaunch.grantScopes = (requested) => requested;
      await context.close();
    }
  }, 60_000);
});

describe('launch refusals', () => {
  const refusal = async (page: Page) => (await page.waitForSelector('[role=alert]', { timeout: 20_000 })).textContent();

  it('refuses a callback whose state does not match a launch', async () => {
    const context = await h.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${h.serverOrigin}/app/index.html?code=forged&state=${crypto.randomUUID()}`);
      expect(await refusal(page)).toMatch(/state check failed/);
      expect(page.url()).not.toContain('code=');
    } finally {
      await context.close();
    }
  }, 30_000);

  it('refuses an issuer that is not a registered source before any redirect (SAL-04)', async () => {
    const context = await h.newContext();
    try {
      const page = await context.newPage();
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      await page.goto(
        `${h.serverOrigin}/app/launch.html?iss=${encodeURIComponent('http://127.0.0.1:9/fhir')}&launch=x`,
      );
      expect(await refusal(page)).toMatch(/not registered/);
      expect(requests.some((u) => u.startsWith('http://127.0.0.1:9/'))).toBe(false);
    } finally {
      await context.close();
    }
  }, 30_000);

  const faults: [string, () => void, RegExp][] = [
    ['a tampered id_token signature', () => (h.ehr.appLaunch.tamperIdTokenSignature = true), /signature/i],
    ['an expired id_token', () => (h.ehr.appLaunch.idTokenLifetimeSeconds = -600), /expired/i],
  ];
  for (const [name, arrange, message] of faults) {
    it(`refuses ${name} with its own message`, async () => {
      arrange();
      const context = await h.newContext();
      try {
        const page = await standalone(context);
        expect(await refusal(page)).toMatch(message);
        expect(await page.$('.patient-name')).toBeNull();
      } finally {
        h.ehr.appLaunch.tamperIdTokenSignature = false;
        h.ehr.appLaunch.idTokenLifetimeSeconds = 300;
        await context.close();
      }
    }, 30_000);
  }

  it('refuses a token response whose patient was swapped (SAL-50)', async () => {
    const context = await h.newContext();
    try {
      await context.route(h.ehr.tokenUrl, async (route) => {
        const response = await route.fetch();
        const body = (await response.json()) as Record<string, unknown>;
        if (body.patient) body.patient = otherPatientId;
        await route.fulfill({ response, json: body });
      });
      const page = await standalone(context);
      expect(await refusal(page)).toMatch(/Patient mismatch/);
      expect(await page.$('.patient-name')).toBeNull();
    } finally {
      await context.close();
    }
  }, 30_000);
});
