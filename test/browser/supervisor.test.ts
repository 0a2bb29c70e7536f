import { join } from 'node:path';
import {
  answerSurvey,
  type Database,
  InboundService,
  issueSurveysForResolved,
  runSlaSweep,
  schema,
  TicketService,
} from '@fhirdesk/core';
import { and, eq } from 'drizzle-orm';
import type { Patient, Task } from 'fhir/r4';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenKeys } from '../../packages/server/src/auth/tokens';
import { label } from '../../packages/smart-app/src/format';
import { metricsQuery, parseDashboardHash } from '../../packages/smart-app/src/supervisor/period';
import { addSource, cachePatient } from '../conversations/support';
import { type SandboxEhr, startSandboxEhr } from '../sandbox-ehr/index';
import { TEST_SECRET } from '../support/app';
import {
  ARTIFACTS,
  CLIENT_ID,
  expectNoSeriousAxeViolations,
  type Harness,
  seedPatientCache,
  standaloneLaunch,
  startHarness,
} from './harness';

let h: Harness;
let writable: SandboxEhr;
let launchPatient: string;
const tickets: Record<'enFlag' | 'esFlag', string> = { enFlag: '', esFlag: '' };
const DAY = 86_400_000;

async function seed(database: Database, tenantId: string) {
  const now = Date.now();
  const at = (daysAgo: number, minutes = 0) => ({ now: () => new Date(now - daysAgo * DAY + minutes * 60_000) });
  const integration = { keyId: 'k', tenantId, name: 'gateway', channels: ['email', 'sms', 'chat', 'portal'] as const };
  const receive = (
    clock: { now: () => Date },
    channel: 'email' | 'sms' | 'chat' | 'portal',
    id: string,
    from: { email?: string; phone?: string },
    body: string,
    subject?: string,
  ) =>
    new InboundService({ database, clock }).receive(
      { ...integration, channels: [...integration.channels] },
      { channel, providerMessageId: id, from, body, ...(subject ? { subject } : {}) },
    );
  const [agent] = await database.db
    .insert(schema.appUser)
    .values({ tenantId, displayName: 'Dana Agent', roles: ['agent'], fhirUser: 'Practitioner/dana' })
    .returning();
  const actor = { tenantId, userId: agent!.id, kind: 'user' as const, roles: ['agent' as const] };
  const reply = (clock: { now: () => Date }, id: string, channel: 'email' | 'sms' | 'chat' | 'portal') =>
    new TicketService({ database, clock }).addMessage(actor, id, {
      channel,
      direction: 'outbound',
      body: 'Thanks, done.',
    });
  const status = (clock: { now: () => Date }, id: string, to: 'open' | 'resolved') =>
    new TicketService({ database, clock }).transition(actor, id, to);

  // Inside the last 7 days.
  const a = await receive(at(2), 'email', 'a', { email: 'a@example.org' }, 'I have a question about my bill', 'Bill');
  await reply(at(2, 30), a.ticketId, 'email');
  await status(at(2, 31), a.ticketId, 'open');
  await status(at(2, 90), a.ticketId, 'resolved');
  const b = await receive(at(3), 'sms', 'b', { phone: '+15552014488' }, 'I need a refill of my prescription please');
  await reply(at(3, 120), b.ticketId, 'sms');
  await reply(at(3, 150), b.ticketId, 'sms');
  await status(at(3, 151), b.ticketId, 'open');
  await status(at(3, 300), b.ticketId, 'resolved');
  await receive(at(1), 'chat', 'c', { email: 'c@example.org' }, 'How do I reset my portal password?');
  // Red flags today, English and Spanish, from patients cached in the writable and the offline EHR.
  tickets.enFlag = (
    await receive(
      at(0, -60),
      'email',
      'rf-en',
      { email: 'rf-en@example.org' },
      'I have chest pain and it is getting worse',
      'Help',
    )
  ).ticketId;
  tickets.esFlag = (
    await receive(
      at(0, -50),
      'sms',
      'rf-es',
      { phone: '+15552013399' },
      'Tengo dolor de pecho muy fuerte desde hace una hora',
    )
  ).ticketId;
  // 20 days ago: only in the 30-day view.
  const d = await receive(
    at(20),
    'portal',
    'd',
    { email: 'd@example.org' },
    'Billing statement question about a charge',
  );
  // Answered on the channel it came in on: a reply needs someone to receive it (issue #6).
  await reply(at(20, 600), d.ticketId, 'portal');
  await status(at(20, 601), d.ticketId, 'open');
  await status(at(20, 900), d.ticketId, 'resolved');
  // SLA notices as the sweep job raises them; surveys for the resolutions, two answered.
  await runSlaSweep(database, new Date(now), { tenantId });
  const surveys = await issueSurveysForResolved(database, new Date(now), { tenantId });
  const byTicket = new Map(surveys.map((s) => [s.ticketId, s.surveyId]));
  await answerSurvey(database, byTicket.get(a.ticketId)!, { rating: 5, nps: 10 }, new Date(now));
  await answerSurvey(database, byTicket.get(d.ticketId)!, { rating: 2, nps: 3 }, new Date(now));
}

beforeAll(async () => {
  h = await startHarness();
  writable = await startSandboxEhr({ seed: false });
  const patients = (await h.ehr.searchAll('Patient')) as Patient[];
  launchPatient = patients.find((p) => p.meta?.tag?.some((t) => t.code?.startsWith('synthea')))!.id!;
  const [src] = await h.database.db.select().from(schema.source).where(eq(schema.source.tenantId, h.tenantId));
  // Users arriving through this EHR become supervisors (the dashboard's audience).
  await h.database.db
    .update(schema.source)
    .set({ settings: { smartClientId: CLIENT_ID, smartDefaultRoles: ['agent', 'supervisor'] } })
    .where(eq(schema.source.id, src!.id));
  await seedPatientCache(h, h.tenantId, src!.id, [launchPatient]);
  const writableSource = await addSource(h.database, h.tenantId, writable.fhirBaseUrl);
  await cachePatient(h.database, h.tenantId, writableSource, 'rf-en', [
    { system: 'email', value: 'rf-en@example.org' },
  ]);
  const offlineSource = await addSource(h.database, h.tenantId, 'http://127.0.0.1:1/fhir/r4');
  await cachePatient(h.database, h.tenantId, offlineSource, 'rf-es', [{ system: 'phone', value: '+15552013399' }]);
  await seed(h.database, h.tenantId);
}, 120_000);

afterAll(async () => {
  await h?.close();
  await writable?.close();
});

const launch = (context: BrowserContext): Promise<Page> => standaloneLaunch(h, context, launchPatient, '.app-nav');

const axe = expectNoSeriousAxeViolations;

/** What the API says for a dashboard hash, with a supervisor token of the launched user. */
async function apiMetrics(page: Page, hash: string) {
  const user = (await page.evaluate(() => JSON.parse(sessionStorage.getItem('fhirdesk.session') ?? '{}'))) as {
    user: { id: string; roles: string[] };
  };
  const token = await new TokenKeys(TEST_SECRET).issue(
    { tenantId: h.tenantId, userId: user.user.id, roles: ['supervisor'], kind: 'user' },
    600,
  );
  const res = await fetch(`${h.serverOrigin}/api/v1/metrics?${metricsQuery(parseDashboardHash(hash)!)}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown> & {
    tickets: number;
    volumeByChannel: Record<string, number>;
    volumeByCategory: Record<string, number>;
    sla: { compliance: number | null };
    firstContactResolution: { rate: number | null };
    timeToFirstResponse: { medianSeconds: number | null; p90Seconds: number | null };
    csat: { answers: number };
  };
}

/** A chart's table as label → data-value. */
async function chartData(page: Page, id: string): Promise<Record<string, string>> {
  return page.$$eval(`#${id} .chart-data tr`, (rows) =>
    Object.fromEntries(
      rows.map((r) => [
        r.querySelector('th')?.textContent ?? '',
        r.querySelector('td')?.getAttribute('data-value') ?? '',
      ]),
    ),
  );
}

const asData = (r: Record<string, number>) =>
  Object.fromEntries(Object.entries(r).map(([k, v]) => [label(k), String(v)]));
const pct = (r: number | null) => (r === null ? '' : String(Math.round(r * 1000) / 10));

describe('supervisor dashboard', () => {
  let context: BrowserContext;
  let page: Page;
  beforeAll(async () => {
    context = await h.newContext();
    page = await launch(context);
  }, 60_000);
  afterAll(async () => context.close());

  it('is linked for supervisors and draws the API figures for the chosen period', async () => {
    await page.click('.app-nav a:has-text("Dashboard")');
    await page.waitForSelector('#chart-channel');
    // The default view is 30 days; the hash carries the period only (no patient data).
    expect(page.url()).toMatch(/#\/dashboard$|#\/dashboard\?/);
    await page.selectOption('#d-period', '30');
    await page.waitForFunction(() => location.hash.includes('days=30'));
    const hash30 = await page.evaluate(() => location.hash);
    expect(hash30).toBe('#/dashboard?days=30');
    const api30 = await apiMetrics(page, hash30);
    expect(api30.tickets).toBe(6);
    await page.waitForFunction(
      (n) => document.querySelector('#dash-tickets')?.textContent === String(n),
      api30.tickets,
    );
    expect(await chartData(page, 'chart-channel')).toEqual(asData(api30.volumeByChannel));
    expect(await chartData(page, 'chart-category')).toEqual(asData(api30.volumeByCategory));
    const rates = await chartData(page, 'chart-rates');
    expect(rates['SLA compliance']).toBe(pct(api30.sla.compliance));
    expect(rates['First-contact resolution']).toBe(pct(api30.firstContactResolution.rate));
    expect(api30.firstContactResolution.rate).not.toBeNull();
    const frt = await chartData(page, 'chart-frt');
    expect(frt.Median).toBe(String(api30.timeToFirstResponse.medianSeconds));
    expect(frt['90th percentile']).toBe(String(api30.timeToFirstResponse.p90Seconds));
    expect(api30.csat.answers).toBe(2);
    // The SVG reads out the same numbers.
    const svgLabel = await page.getAttribute('#chart-channel svg', 'aria-label');
    for (const [k, v] of Object.entries(api30.volumeByChannel)) expect(svgLabel).toContain(`${label(k)} ${v}`);
    await page.screenshot({ path: join(ARTIFACTS, 'supervisor-dashboard-30d.png'), fullPage: true });
    await axe(page, 'dashboard');
  });

  it('updates when the period changes, and keeps the view in the hash across a reload', async () => {
    await page.selectOption('#d-period', '7');
    await page.waitForFunction(() => location.hash === '#/dashboard?days=7');
    const api7 = await apiMetrics(page, '#/dashboard?days=7');
    expect(api7.tickets).toBe(5);
    await page.waitForFunction((n) => document.querySelector('#dash-tickets')?.textContent === String(n), api7.tickets);
    expect(await chartData(page, 'chart-channel')).toEqual(asData(api7.volumeByChannel));
    await page.reload();
    await page.waitForSelector('#chart-channel');
    await page.waitForFunction((n) => document.querySelector('#dash-tickets')?.textContent === String(n), api7.tickets);
    expect(await page.inputValue('#d-period')).toBe('7');
    await page.screenshot({ path: join(ARTIFACTS, 'supervisor-dashboard-7d.png'), fullPage: true });
  });
});

describe('red-flag safety prompt on the ticket page', () => {
  let context: BrowserContext;
  let page: Page;
  beforeAll(async () => {
    context = await h.newContext();
    page = await launch(context);
  }, 60_000);
  afterAll(async () => context.close());

  it('shows the English script, requires acknowledgement, and escalates with the Task written back to the EHR', async () => {
    await page.evaluate((id) => {
      location.hash = `#/tickets/${id}`;
    }, tickets.enFlag);
    const dialog = await page.waitForSelector('[role=alertdialog]');
    expect(await dialog.textContent()).toContain('call 911');
    expect(await page.getAttribute('#sp-text', 'lang')).toBe('en');
    // Focus moves to the acknowledgement so keyboard users meet the script first.
    expect(await page.evaluate(() => document.activeElement?.textContent)).toContain('I have read the safety script');
    await axe(page, 'safety prompt');
    await page.screenshot({ path: join(ARTIFACTS, 'safety-prompt-en.png'), fullPage: true });
    expect(await page.$('#sp-target')).toBeNull();

    await page.click('button:has-text("I have read the safety script")');
    await page.waitForSelector('#sp-target');
    await page.selectOption('#sp-target', 'nurse');
    await page.click('button:has-text("Escalate to nurse triage")');
    const status = await page.waitForSelector('.handoff-written-back', { timeout: 20_000 });
    // The caller is not verified: the handoff shows, the EHR id about the patient does not (HIPAA-07).
    expect(await status.textContent()).toContain('a Task was created in the EHR');
    const [esc] = await h.database.db
      .select()
      .from(schema.escalation)
      .where(eq(schema.escalation.ticketId, tickets.enFlag));
    const taskId = esc?.taskId;
    expect(taskId).toBeTruthy();
    const task = (await writable.readResource('Task', taskId!)) as Task;
    expect(task).toMatchObject({
      status: 'requested',
      intent: 'order',
      priority: 'urgent',
      for: { reference: 'Patient/rf-en' },
    });
    await page.screenshot({ path: join(ARTIFACTS, 'safety-prompt-en-escalated.png'), fullPage: true });

    // The acknowledgement and the handoff survive a reload (they are on the timeline).
    await page.reload();
    await page.waitForSelector('.handoff-written-back');
    expect(await page.$('[role=alertdialog]')).toBeNull();
    const acks = await h.database.db
      .select()
      .from(schema.ticketEvent)
      .where(
        and(eq(schema.ticketEvent.ticketId, tickets.enFlag), eq(schema.ticketEvent.type, 'safety-prompt-acknowledged')),
      );
    expect(acks).toHaveLength(1);
  });

  it('shows the Spanish script and says the escalation is queued when the EHR cannot take the write-back', async () => {
    await page.evaluate((id) => {
      location.hash = `#/tickets/${id}`;
    }, tickets.esFlag);
    const dialog = await page.waitForSelector('[role=alertdialog]');
    expect(await dialog.textContent()).toContain('llame al 911');
    expect(await page.getAttribute('#sp-text', 'lang')).toBe('es');
    await page.screenshot({ path: join(ARTIFACTS, 'safety-prompt-es.png'), fullPage: true });
    await page.click('button:has-text("I have read the safety script")');
    await page.waitForSelector('#sp-target');
    await page.selectOption('#sp-target', 'pharmacist');
    await page.click('button:has-text("Escalate to pharmacist")');
    const status = await page.waitForSelector('.handoff-queued', { timeout: 20_000 }).catch(async (e: unknown) => {
      throw new Error(`no queued handoff; the prompt says: ${await page.textContent('.safety-prompt')}`, { cause: e });
    });
    expect(await status.textContent()).toContain('queued — EHR write-back not available');
    const [esc] = await h.database.db
      .select()
      .from(schema.escalation)
      .where(eq(schema.escalation.ticketId, tickets.esFlag));
    expect(esc?.status).toBe('queued');
    // Retrying reuses the queued escalation instead of opening a second one (WB-04).
    await page.click('button:has-text("Try the EHR write-back again")');
    const escalations = () =>
      h.database.db.select().from(schema.escalation).where(eq(schema.escalation.ticketId, tickets.esFlag));
    for (let i = 0; i < 100 && (await escalations())[0]!.attempts < 2; i++) await page.waitForTimeout(100);
    const all = await escalations();
    expect(all).toHaveLength(1);
    expect(all[0]!.attempts).toBe(2);
    await page.waitForSelector('.handoff-queued');
    await axe(page, 'safety prompt queued');
    await page.screenshot({ path: join(ARTIFACTS, 'safety-prompt-es-queued.png'), fullPage: true });
  });
});
