// CSAT survey links: signed, PHI-free, single-use and expiring (issue #6).
import { AuditSealer, type Database, issueSurveysForResolved, schema } from '@fhirdesk/core';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../packages/server/src/app';
import { TokenKeys } from '../../packages/server/src/auth/tokens';
import { createLogger } from '../../packages/server/src/http/logger';
import { SurveyTokens } from '../../packages/server/src/routes/surveys';
import { LogCapture, TEST_SECRET } from '../support/app';
import { createTestTenant, openTestDatabase } from '../support/db';
import { resolvedTicket } from './support';

let database: Database;
let now = new Date('2026-11-23T12:00:00Z');
const clock = { now: () => now };
const surveyKey = new TextEncoder().encode('survey-key-survey-key-survey-key-0123');
let app: ReturnType<typeof createApp>;
let sealer: AuditSealer;

beforeAll(async () => {
  database = await openTestDatabase();
  sealer = new AuditSealer(database, { delayMs: 5 });
  app = createApp({
    database,
    keys: new TokenKeys(TEST_SECRET),
    logger: createLogger('info', new LogCapture()),
    sealer,
    clock,
    surveyKey,
  });
});
afterAll(async () => {
  await sealer.flush();
  await database.close();
});

/** When this file's tickets were resolved (its clock is fixed an hour later). */
const RESOLVED_AT = new Date('2026-11-23T11:00:00Z');

describe('CSAT surveys', () => {
  it('issues one survey per resolution, takes one answer onto the timeline and refuses a second', async () => {
    now = new Date('2026-11-23T12:00:00Z');
    const tenantId = await createTestTenant(database);
    const ticket = await resolvedTicket(database, tenantId, { resolvedAt: RESOLVED_AT });
    const issued = await issueSurveysForResolved(database, now, { tenantId });
    expect(issued).toHaveLength(1);
    expect(await issueSurveysForResolved(database, now, { tenantId })).toHaveLength(0);
    const token = await new SurveyTokens(surveyKey, clock).sign(issued[0]!.surveyId, issued[0]!.expiresAt);
    expect(token).not.toContain(ticket.id);

    const pageRes = await app.request(`/survey/${token}`);
    expect(pageRes.status).toBe(200);
    expect(await pageRes.text()).toContain('name="rating"');

    const answer = (body: unknown) =>
      app.request(`/survey/${token}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await answer({ rating: 6 })).status).toBe(400);
    const ok = await answer({ rating: 4, nps: 9, comment: 'Quick and kind' });
    expect(ok.status).toBe(201);
    const again = await answer({ rating: 1 });
    expect(again.status).toBe(409);
    expect((await app.request(`/survey/${token}`)).status).toBe(409);

    const events = await database.db
      .select()
      .from(schema.ticketEvent)
      .where(eq(schema.ticketEvent.ticketId, ticket.id));
    const csat = events.filter((e) => e.type === 'csat');
    expect(csat).toHaveLength(1);
    expect(csat[0]!.data).toMatchObject({ rating: 4, nps: 9 });
  });

  it('refuses an expired link and a link signed with another key', async () => {
    now = new Date('2026-11-23T12:00:00Z');
    const tenantId = await createTestTenant(database);
    await resolvedTicket(database, tenantId, { resolvedAt: RESOLVED_AT });
    const [issued] = await issueSurveysForResolved(database, now, { tenantId, ttlDays: 1 });
    const token = await new SurveyTokens(surveyKey, clock).sign(issued!.surveyId, issued!.expiresAt);
    const forged = await new SurveyTokens(
      new TextEncoder().encode('another-key-another-key-another-key-00'),
      clock,
    ).sign(issued!.surveyId, issued!.expiresAt);
    expect((await app.request(`/survey/${forged}`)).status).toBe(404);
    now = new Date('2026-11-25T12:00:00Z');
    const expired = await app.request(`/survey/${token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"rating":5}',
    });
    expect(expired.status).toBe(404);
    const [row] = await database.db.select().from(schema.survey).where(eq(schema.survey.id, issued!.surveyId));
    expect(row?.usedAt).toBeNull();
  });
});
