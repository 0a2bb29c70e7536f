// Auto-open from denials (issue 5): one ticket per claim and reason across re-syncs, retries and concurrent
// workers; tenant rules (off switch, threshold, queue); reversal detection; system actor in the audit.
import { type Database, processAdjudicationChanges, schema } from '@fhirdesk/core';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTenant, openTestDatabase } from '../support/db';
import { cache, claimContext, createEhrSource, deniedEob, paidEob } from './support';

let database: Database;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => {
  await database.close();
});

async function setup(settings: Record<string, unknown> = {}) {
  const tenantId = await createTestTenant(database);
  if (Object.keys(settings).length > 0)
    await database.db.update(schema.tenant).set({ settings }).where(eq(schema.tenant.id, tenantId));
  const sourceId = await createEhrSource(database, tenantId);
  await cache(database, tenantId, sourceId, claimContext());
  return { tenantId, sourceId };
}

const disputesOf = (tenantId: string) =>
  database.db.select().from(schema.dispute).where(eq(schema.dispute.tenantId, tenantId));

describe('auto-open of claim disputes from adjudications', () => {
  it('opens one billing ticket for a denied EOB, linked to claim, coverage and patient, as the system actor', async () => {
    const { tenantId, sourceId } = await setup();
    const eob = deniedEob('50');
    await cache(database, tenantId, sourceId, [eob]);
    const result = await processAdjudicationChanges(database, { tenantId, sourceId, resources: [eob] });
    expect(result.opened).toHaveLength(1);
    const [d] = await disputesOf(tenantId);
    expect(d).toMatchObject({
      claimRef: 'Claim/100150',
      adjudicationRef: 'ExplanationOfBenefit/EB3500',
      reasonCategory: 'denied',
      origin: 'auto',
      disputedAmountMinor: 13557,
      stage: 'intake',
      dedupeKey: 'Claim/100150#denied',
    });
    expect(d!.reasonCodes.carcs).toEqual(['50']);
    expect(d!.appealDeadline).toBeInstanceOf(Date);
    const [t] = await database.db.select().from(schema.ticket).where(eq(schema.ticket.id, d!.ticketId));
    expect(t).toMatchObject({ category: 'claim-dispute', queue: 'billing', patientRef: 'Patient/pat1' });
    const links = await database.db.select().from(schema.ticketLink).where(eq(schema.ticketLink.ticketId, d!.ticketId));
    expect(links.map((l) => `${l.role}:${l.resourceType}/${l.resourceId}`).sort()).toEqual([
      'adjudication:ExplanationOfBenefit/EB3500',
      'coverage:Coverage/9876B1',
      'disputed-claim:Claim/100150',
      'patient:Patient/pat1',
    ]);
    const events = await database.db
      .select()
      .from(schema.ticketEvent)
      .where(eq(schema.ticketEvent.ticketId, d!.ticketId));
    expect(events.map((e) => e.type)).toContain('auto-opened');
    expect(events.every((e) => e.actorKind === 'system' && e.actorId === null)).toBe(true);
    const audit = await database.db
      .select()
      .from(schema.auditEvent)
      .where(and(eq(schema.auditEvent.tenantId, tenantId), eq(schema.auditEvent.action, 'dispute.auto-open')));
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actorKind: 'system', actorId: null, patientRef: 'Patient/pat1' });
  });

  it('does not open a second ticket when the same denial is synced again or retried', async () => {
    const { tenantId, sourceId } = await setup();
    const eob = deniedEob('50');
    await processAdjudicationChanges(database, { tenantId, sourceId, resources: [eob] });
    const again = await processAdjudicationChanges(database, { tenantId, sourceId, resources: [eob, eob] });
    expect(again.opened).toHaveLength(0);
    expect(again.existing).toEqual(['Claim/100150#denied', 'Claim/100150#denied']);
    expect(await disputesOf(tenantId)).toHaveLength(1);
  });

  it('opens exactly one ticket when several workers process the same denial at once', async () => {
    const { tenantId, sourceId } = await setup();
    const eob = deniedEob('50');
    const results = await Promise.all(
      Array.from({ length: 4 }, () => processAdjudicationChanges(database, { tenantId, sourceId, resources: [eob] })),
    );
    expect(results.flatMap((r) => r.opened)).toHaveLength(1);
    expect(await disputesOf(tenantId)).toHaveLength(1);
    const tickets = await database.db.select().from(schema.ticket).where(eq(schema.ticket.tenantId, tenantId));
    expect(tickets).toHaveLength(1);
  });

  it('opens a second ticket for the same claim when a different reason appears', async () => {
    const { tenantId, sourceId } = await setup();
    await processAdjudicationChanges(database, { tenantId, sourceId, resources: [deniedEob('50', 2)] });
    const second = await processAdjudicationChanges(database, { tenantId, sourceId, resources: [deniedEob('18', 3)] });
    expect(second.opened).toHaveLength(1);
    const rows = await disputesOf(tenantId);
    expect(rows.map((r) => r.reasonCategory).sort()).toEqual(['denied', 'duplicate']);
  });

  it('respects the tenant off switch', async () => {
    const { tenantId, sourceId } = await setup({ disputeRules: { enabled: false } });
    const result = await processAdjudicationChanges(database, { tenantId, sourceId, resources: [deniedEob('50')] });
    expect(result).toMatchObject({ opened: [], skipped: 1 });
    expect(await disputesOf(tenantId)).toHaveLength(0);
  });

  it('skips denials below the tenant threshold and uses the configured queue above it', async () => {
    const { tenantId, sourceId } = await setup({ disputeRules: { minimumAmount: '500.00', queue: 'denials' } });
    const small = await processAdjudicationChanges(database, {
      tenantId,
      sourceId,
      resources: [deniedEob('50', 2, 135.57)],
    });
    expect(small.opened).toHaveLength(0);
    const big = await processAdjudicationChanges(database, {
      tenantId,
      sourceId,
      resources: [deniedEob('50', 3, 900)],
    });
    expect(big.opened).toHaveLength(1);
    const [t] = await database.db.select().from(schema.ticket).where(eq(schema.ticket.id, big.opened[0]!));
    expect(t!.queue).toBe('denials');
  });

  it('adds a reversal-detected event proposing resolution when the claim is later paid, once', async () => {
    const { tenantId, sourceId } = await setup();
    const opened = await processAdjudicationChanges(database, { tenantId, sourceId, resources: [deniedEob('50')] });
    const ticketId = opened.opened[0]!;
    const paid = paidEob();
    const first = await processAdjudicationChanges(database, { tenantId, sourceId, resources: [paid] });
    const second = await processAdjudicationChanges(database, { tenantId, sourceId, resources: [paid] });
    expect(first.reversals).toEqual([ticketId]);
    expect(second.reversals).toEqual([]);
    const events = await database.db.select().from(schema.ticketEvent).where(eq(schema.ticketEvent.ticketId, ticketId));
    const reversal = events.filter((e) => e.type === 'reversal-detected');
    expect(reversal).toHaveLength(1);
    expect(reversal[0]!.data).toMatchObject({ proposedResolution: { stage: 'decided', outcome: 'overturned' } });
    const [d] = await disputesOf(tenantId);
    expect(d!.reversalDetectedAt).toBeInstanceOf(Date);
    expect(d!.stage).toBe('intake');
  });

  it('ignores resources that are not adjudications and paid claims without disputes', async () => {
    const { tenantId, sourceId } = await setup();
    const result = await processAdjudicationChanges(database, {
      tenantId,
      sourceId,
      resources: [...claimContext(), paidEob()],
    });
    expect(result).toEqual({ opened: [], existing: [], reversals: [], skipped: 1 });
  });
});
