// The billing queue and the dispute panel in headless Chromium (issue 5): countdowns and amounts, filters
// that survive a reload with no PHI in the URL (HIPAA-10/11), sort, bulk assign, CSV export without the
// token in a URL, the adjudication table with CARC/group codes and their text (CS-01, CS-02, VIEW-02),
// stage moves that move the ticket status, payer contact log, outcome, minimum necessary for an agent
// (HIPAA-07), "dispute this claim" from the agent view opening a real dispute, axe-core and a 400 px viewport.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Actor, DisputeService, type FullDisputeView, schema } from '@fhirdesk/core';
import { and, eq, notInArray } from 'drizzle-orm';
import type { Claim, Patient } from 'fhir/r4';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenKeys } from '../../packages/server/src/auth/tokens';
import { countdown } from '../../packages/smart-app/src/billing/queue-query';
import { cacheResources } from '../agent-view/cache-fixtures';
import { cache, claimContext, deniedEob, hl7 } from '../disputes/support';
import { createTestUser, TEST_SECRET, type TestUser } from '../support/app';
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
let sourceId: string;
let service: DisputeService;
let actor: Actor;
let dana: TestUser;
let sam: TestUser;
/** Seeded disputes by letter: A (EOB-backed, due soon), B (large), C (overdue), D. */
const ids: Record<'A' | 'B' | 'C' | 'D', string> = { A: '', B: '', C: '', D: '' };
const patientNames: string[] = [];

const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);
const usd = (v: number) => new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' }).format(v);

function displayName(p: Patient): string {
  const n = p.name?.find((x) => x.use === 'official') ?? p.name?.[0];
  return n?.text ?? [...(n?.given ?? []), n?.family ?? ''].filter(Boolean).join(' ');
}

beforeAll(async () => {
  h = await startHarness();
  const patients = (await h.ehr.searchAll('Patient')) as Patient[];
  for (const p of patients) {
    if (!p.meta?.tag?.some((t) => t.code?.startsWith('synthea'))) continue;
    if ((await h.ehr.searchAll('Claim', { patient: `Patient/${p.id}` })).length > 0) {
      patientId = p.id!;
      patientNames.push(displayName(p));
      break;
    }
  }
  // This harness's own source: on PostgreSQL other test files' tenants share the database.
  const [row] = await h.database.db
    .select({ id: schema.source.id })
    .from(schema.source)
    .where(eq(schema.source.tenantId, h.tenantId));
  sourceId = row!.id;
  await seedPatientCache(h, h.tenantId, sourceId, [patientId]);
  // The HL7 claim context with a denied EOB (CO-50), as a sync would cache it.
  await cache(h.database, h.tenantId, sourceId, [...claimContext(), deniedEob('50')]);
  patientNames.push(displayName(hl7<Patient>('Patient-pat1.json')));

  const keys = new TokenKeys(TEST_SECRET);
  dana = await createTestUser(h.database, keys, h.tenantId, ['billing'], 'Dana Billing');
  sam = await createTestUser(h.database, keys, h.tenantId, ['billing'], 'Sam Billing');
  actor = { tenantId: h.tenantId, userId: dana.id, kind: 'user', roles: ['billing'] };
  service = new DisputeService({ database: h.database });
  const open = async (input: Parameters<DisputeService['create']>[1]) => (await service.create(actor, input)).ticketId;
  ids.A = await open({
    claim: 'Claim/100150',
    adjudication: 'ExplanationOfBenefit/EB3500',
    reasonCategory: 'denied',
    disputedAmount: '135.57',
    payerId: 'ACME01',
    payerName: 'Acme Health',
    adjudicationDate: daysAgo(170),
  });
  ids.B = await open({
    payerClaimNumber: 'BX-2',
    patient: `Patient/${patientId}`,
    reasonCategory: 'underpaid',
    disputedAmount: '1200.00',
    payerId: 'BLUE02',
    payerName: 'Blue Plan',
    adjudicationDate: daysAgo(20),
  });
  ids.C = await open({
    payerClaimNumber: 'CX-3',
    patient: `Patient/${patientId}`,
    reasonCategory: 'eligibility',
    disputedAmount: '42.10',
    payerId: 'ACME01',
    payerName: 'Acme Health',
    adjudicationDate: '2024-01-15',
  });
  ids.D = await open({
    payerClaimNumber: 'DX-4',
    patient: `Patient/${patientId}`,
    reasonCategory: 'duplicate',
    disputedAmount: '310.00',
    payerId: 'BLUE02',
    payerName: 'Blue Plan',
    adjudicationDate: daysAgo(100),
  });
  await service.moveStage(actor, ids.C, { to: 'investigating' });
}, 120_000);

afterAll(async () => {
  await h?.close();
});

const standalone = (context: BrowserContext): Promise<Page> => standaloneLaunch(h, context, patientId, '#claims-h');

const axe = expectNoSeriousAxeViolations;

const rowIds = (page: Page) => page.$$eval('tr.dispute-row', (rows) => rows.map((r) => r.getAttribute('data-ticket')));

async function openQueue(page: Page) {
  await page.click('nav a:has-text("Billing queue")');
  await page.waitForSelector('tr.dispute-row', { timeout: 20_000 });
}

describe('billing queue and dispute panel (billing session)', () => {
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    context = await h.newContext();
    page = await standalone(context);
  }, 60_000);
  afterAll(async () => context?.close());

  it('lists the disputes soonest deadline first with countdowns, overdue marked in words, and amounts with currency', async () => {
    await openQueue(page);
    const page1 = await service.list(actor, { sort: 'deadline' });
    const expected = page1.items as FullDisputeView[];
    expect(await rowIds(page)).toEqual(expected.map((d) => d.ticketId));
    expect(expected.map((d) => d.ticketId)).toEqual([ids.C, ids.A, ids.D, ids.B]);
    for (const d of expected) {
      const row = `tr[data-ticket="${d.ticketId}"]`;
      expect(await page.textContent(`${row} .countdown`)).toContain(
        countdown(d.appealDeadline!.daysRemaining, d.appealDeadline!.state),
      );
      expect(await page.textContent(`${row} .amount`)).toBe(usd(Number(d.disputedAmount!.value)));
      expect(await page.textContent(`${row} .payer`)).toBe(d.payerName);
    }
    const overdue = await page.textContent(`tr[data-ticket="${ids.C}"] .countdown`);
    expect(overdue).toMatch(/Overdue by \d+ days/);
    expect(await page.getAttribute(`tr[data-ticket="${ids.C}"]`, 'class')).toContain('overdue');
    expect(await page.textContent(`tr[data-ticket="${ids.C}"] .stage`)).toBe('Investigating');
    expect(await page.textContent(`tr[data-ticket="${ids.A}"] .countdown`)).toMatch(/^1\d days left$|^\d days left$/);
    await page.screenshot({ path: join(ARTIFACTS, 'billing-queue.png'), fullPage: true });
    await axe(page, 'billing queue');
  }, 60_000);

  it('narrows by payer, keeps the filter across a reload with only codes in the URL, and sorts by amount', async () => {
    await page.selectOption('#bq-payer', 'ACME01');
    await page.waitForFunction(() => document.querySelectorAll('tr.dispute-row').length === 2);
    expect(new Set(await rowIds(page))).toEqual(new Set([ids.A, ids.C]));
    const hash = await page.evaluate(() => location.hash);
    expect(hash).toBe('#/billing?payer=ACME01');
    for (const name of patientNames) {
      for (const part of name.split(/\s+/).filter((p) => p.length > 2))
        expect(decodeURIComponent(hash)).not.toContain(part);
    }
    expect(hash).not.toContain('Acme');

    await page.reload();
    await page.waitForSelector('tr.dispute-row', { timeout: 20_000 });
    await page.waitForFunction(() => document.querySelectorAll('tr.dispute-row').length === 2);
    expect(new Set(await rowIds(page))).toEqual(new Set([ids.A, ids.C]));
    expect(await page.inputValue('#bq-payer')).toBe('ACME01');
    // Nothing of the static loading placeholder is left behind after the reload.
    expect(await page.$('#root > p')).toBeNull();

    await page.selectOption('#bq-payer', '');
    await page.selectOption('#bq-sort', 'amount');
    await page.waitForFunction(
      (first) => document.querySelector('tr.dispute-row')?.getAttribute('data-ticket') === first,
      ids.B,
    );
    expect(await rowIds(page)).toEqual([ids.B, ids.D, ids.A, ids.C]);
    expect(await page.evaluate(() => location.hash)).toBe('#/billing?sort=amount');
  }, 60_000);

  it('assigns two selected rows at once', async () => {
    const numbers = await page.$$eval('tr.dispute-row td:nth-child(2) a', (as) => as.map((a) => a.textContent));
    await page.check(`tr[data-ticket="${ids.B}"] input[type=checkbox]`);
    await page.check(`tr[data-ticket="${ids.D}"] input[type=checkbox]`);
    await page.selectOption('#bq-assign-to', sam.id);
    await page.click('button:has-text("Assign selected (2)")');
    await page.waitForSelector('[role=status]:has-text("2 disputes assigned to Sam Billing")');
    expect(numbers.length).toBe(4);
    await page.waitForFunction(
      (id) => document.querySelector(`tr[data-ticket="${id}"] .assignee`)?.textContent === 'Sam Billing',
      ids.D,
    );
    expect(await page.textContent(`tr[data-ticket="${ids.B}"] .assignee`)).toBe('Sam Billing');
    expect(await page.textContent(`tr[data-ticket="${ids.A}"] .assignee`)).toBe('Unassigned');
    const assigned = await h.database.db
      .select({ id: schema.ticket.id, assigneeId: schema.ticket.assigneeId })
      .from(schema.ticket)
      .where(eq(schema.ticket.assigneeId, sam.id));
    expect(new Set(assigned.map((a) => a.id))).toEqual(new Set([ids.B, ids.D]));
  }, 60_000);

  it('exports the queue as CSV fetched with the bearer header, never a token in a URL', async () => {
    const urls: string[] = [];
    const onRequest = (r: { url(): string }) => urls.push(r.url());
    page.on('request', onRequest);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('button:has-text("Export CSV")')]);
    page.off('request', onRequest);
    const csv = readFileSync((await download.path())!, 'utf8');
    const lines = csv.trim().split(/\r\n/);
    expect(lines[0]).toMatch(/^ticket,ticket_id,stage,reason/);
    expect(lines).toHaveLength(5);
    for (const id of Object.values(ids)) expect(csv).toContain(id);
    const token = await page.evaluate(() => JSON.parse(sessionStorage.getItem('fhirdesk.session')!).token as string);
    expect(urls.some((u) => u.includes('/api/v1/disputes/export.csv'))).toBe(true);
    expect(urls.filter((u) => u.includes(token) || /token=/i.test(u))).toEqual([]);
  }, 60_000);

  it('opens a dispute: adjudication with codes and text, stage moves change the ticket status, payer contact and outcome', async () => {
    await page.click(`tr[data-ticket="${ids.A}"] a`);
    await page.waitForSelector('.dispute-panel[data-view=full] table.adjudication', { timeout: 20_000 });
    const full = (await service.get(actor, ids.A)) as FullDisputeView;
    const adj = full.summary!.adjustments[0]!;
    expect(adj.carc?.code).toBe('50');
    const carcCell = await page.textContent('table.adjudication tbody tr:first-child .carc');
    expect(carcCell).toContain('50');
    expect(carcCell).toContain(adj.carc!.display);
    expect(await page.textContent('table.adjudication tbody tr:first-child .group')).toContain('CO');
    expect(await page.textContent('.dp-amounts .amt-billed')).toBe(usd(135.57));
    expect(await page.textContent('.dispute-panel')).toContain(full.explanation!.sentences[0]!);
    expect(await page.textContent('p .status')).toBe('New');

    await page.click('button:has-text("Move to Investigating")');
    await page.waitForSelector('.dp-stage:has-text("Investigating")');
    await page.waitForSelector('p .status:has-text("Open")');
    await page.click('button:has-text("Move to Payer contacted")');
    await page.waitForSelector('.dp-stage:has-text("Payer contacted")');
    await page.waitForSelector('p .status:has-text("Pending payer")');

    // Someone else changes the dispute meanwhile: the stale move is refused (If-Match) and shown in the panel.
    await service.update(actor, ids.A, undefined, { payerClaimNumber: 'ACME-77' });
    await page.click('button:has-text("Move to Appeal filed")');
    const alert = await page.waitForSelector('.dispute-panel [role=alert]');
    expect(await alert.textContent()).toMatch(/changed by someone else/);
    await page.waitForSelector('.dispute-panel:has-text("ACME-77")');
    await page.click('button:has-text("Move to Appeal filed")');
    await page.waitForSelector('.dp-stage:has-text("Appeal filed")');
    expect(await page.$('.dispute-panel [role=alert]')).toBeNull();

    await page.fill('#pc-ref', 'REF-778');
    await page.fill('#pc-contact', 'Payer rep');
    await page.fill('#pc-notes', 'Payer agreed to reprocess the claim.');
    await page.click('button:has-text("Log contact")');
    await page.waitForSelector('.timeline .ev-payer-contact .body:has-text("Payer agreed to reprocess the claim.")');

    await page.selectOption('#oc-outcome', 'overturned');
    await page.fill('#oc-amount', '135.57');
    await page.click('button:has-text("Record outcome")');
    await page.waitForSelector('.dp-stage:has-text("Decided")');
    expect(await page.textContent('.dp-outcome')).toBe(`Overturned · recovered ${usd(135.57)}`);
    await page.waitForSelector('p .status:has-text("Resolved")');
    const [ticket] = await h.database.db.select().from(schema.ticket).where(eq(schema.ticket.id, ids.A));
    expect(ticket!.status).toBe('resolved');
    await page.screenshot({ path: join(ARTIFACTS, 'dispute-panel.png'), fullPage: true });
    await axe(page, 'dispute panel');
  }, 90_000);
});

describe('billing queue at 400 px', () => {
  it('fits a 400 px viewport without horizontal page scrolling', async () => {
    const context = await h.newContext({ width: 400, height: 800 });
    try {
      const page = await standalone(context);
      await openQueue(page);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(1);
      await page.screenshot({ path: join(ARTIFACTS, 'billing-queue-400px.png'), fullPage: true });
      await axe(page, 'billing queue 400 px');
    } finally {
      await context.close();
    }
  }, 60_000);
});

describe('agent session (minimum necessary, HIPAA-07)', () => {
  it('hides the queue and shows only the patient-facing dispute summary, no payer contract details', async () => {
    // The practitioner who launched before loses the billing role (stored roles win at the next launch).
    await h.database.db
      .update(schema.appUser)
      .set({ roles: ['agent'] })
      .where(and(eq(schema.appUser.tenantId, h.tenantId), notInArray(schema.appUser.id, [dana.id, sam.id])));
    const context = await h.newContext();
    try {
      const page = await standalone(context);
      const roles = await page.evaluate(
        () => JSON.parse(sessionStorage.getItem('fhirdesk.session')!).user.roles as string[],
      );
      expect(roles).toEqual(['agent']);
      expect(await page.$('nav a:has-text("Billing queue")')).toBeNull();
      await page.evaluate((id) => {
        location.hash = `#/tickets/${id}`;
      }, ids.A);
      const panel = await page.waitForSelector('.dispute-panel[data-view=agent]', { timeout: 20_000 });
      const text = (await panel.textContent()) ?? '';
      expect(text).toContain('Patient owes');
      expect(text).toContain('Decided');
      for (const hidden of ['Acme Health', 'ACME01', 'ACME-77', 'Allowed', 'Adjudication', 'Billed', 'CO']) {
        expect(text).not.toContain(hidden);
      }
      expect(await page.$('.dispute-panel table.adjudication')).toBeNull();
      expect(await page.$('.dispute-panel form')).toBeNull();
      expect(await page.$('.dispute-panel .stepper')).toBeNull();
      // The payer contact is on the timeline as an event, without what was said (server-side redaction).
      expect(await page.textContent('.timeline')).not.toContain('Payer agreed to reprocess');
      await axe(page, 'dispute panel (agent)');

      await page.evaluate(() => {
        location.hash = '#/billing';
      });
      await page.waitForSelector('#claims-h');
      expect(await page.$('table.queue')).toBeNull();
    } finally {
      await context.close();
    }
  }, 60_000);

  it('disputes a denied claim from the claims table: the ticket opens with its dispute record, and billing queues it', async () => {
    // A denied claim of the launched patient, cached as a sync would (CO-50 on the whole charge, nothing paid).
    const claim = hl7<Claim>('Claim-100150.json');
    claim.id = 'AGT-CLM-1';
    claim.patient = { reference: `Patient/${patientId}` };
    const eob = deniedEob('50');
    eob.id = 'AGT-EOB-1';
    eob.claim = { reference: 'Claim/AGT-CLM-1' };
    eob.patient = { reference: `Patient/${patientId}` };
    await cacheResources(
      h.database,
      h.tenantId,
      sourceId,
      [
        { resource: claim, patientId },
        { resource: eob, patientId },
      ],
      new Date(),
    );
    const context = await h.newContext();
    try {
      const page = await standalone(context);
      const row = 'tr[data-claim="Claim/AGT-CLM-1"]';
      await page.waitForSelector(`${row} .denied-mark`);
      await page.click(`${row} button:has-text("Dispute")`);
      await page.waitForSelector('#nt-reason');
      // Prefilled from the row: a denial; an agent's row has no billed/paid (HIPAA-07), so the amount is left
      // for the server to derive from the cached EOB, and the agent could type one instead.
      expect(await page.inputValue('#nt-reason')).toBe('denied');
      expect(await page.inputValue('#nt-amount')).toBe('');
      await page.click('button:has-text("Open dispute")');
      await page.waitForURL(/#\/tickets\/[0-9a-f-]{36}$/, { timeout: 20_000 });
      const ticketId = /#\/tickets\/([0-9a-f-]{36})$/.exec(page.url())![1]!;
      const panel = await page.waitForSelector('.dispute-panel[data-view=agent]', { timeout: 20_000 });
      const text = (await panel.textContent()) ?? '';
      expect(text).not.toContain('no dispute record');
      expect(text).toContain('Intake');
      expect(await page.textContent('.ticket-title')).toContain('Claim dispute');

      const queued = (await service.list(actor, {})).items as FullDisputeView[];
      const mine = queued.find((d) => d.ticketId === ticketId);
      expect(mine).toMatchObject({
        claim: 'Claim/AGT-CLM-1',
        adjudication: 'ExplanationOfBenefit/AGT-EOB-1',
        patient: `Patient/${patientId}`,
        reasonCategory: 'denied',
        stage: 'intake',
        disputedAmount: { value: '135.57', currency: 'USD' },
      });
      await axe(page, 'dispute opened by an agent');
    } finally {
      await context.close();
    }
  }, 90_000);
});
