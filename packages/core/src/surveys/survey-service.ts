// CSAT surveys (issue #6): one survey per resolution, answered once (1–5 rating, optional comment
// and 0–10 NPS) before it expires; the answer lands on the ticket timeline. Tokens are signed by the
// server (jose) and carry only the survey id, so no PHI ever appears in a survey URL.
import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import type { Actor } from '../context/actor';
import { appendTicketEvent, rowsOf } from '../conversations/timeline';
import type { Database, Executor } from '../db/database';
import { type Survey, survey } from '../db/schema/conversations';
import { ticket } from '../db/schema/tickets';
import { ConflictError, NotFoundError, ValidationError } from '../errors';

export interface SurveyAnswer {
  rating: number;
  comment?: string | undefined;
  nps?: number | undefined;
}

export interface IssuedSurvey {
  surveyId: string;
  tenantId: string;
  ticketId: string;
  expiresAt: Date;
}

const surveyActor = (tenantId: string): Actor => ({
  tenantId,
  userId: null,
  kind: 'system',
  roles: [],
  label: 'csat-survey',
});

/**
 * Issue surveys for resolved tickets that have none for their current resolution (a reopened and
 * re-resolved ticket gets a new one). Run as a job; `deliver` sends the link on the ticket's channel.
 */
export async function issueSurveysForResolved(
  database: Database,
  now: Date,
  options: { ttlDays?: number; tenantId?: string; limit?: number } = {},
): Promise<IssuedSurvey[]> {
  const ttl = options.ttlDays ?? 14;
  const expiresAt = new Date(now.getTime() + ttl * 86_400_000);
  const tenantFilter = options.tenantId ? sql`and t.tenant_id = ${options.tenantId}` : sql``;
  // Concurrent runs are safe: the unique (ticket_id, resolution_at) key lets only one insert win.
  const result = await database.db.execute(sql`
    insert into survey (tenant_id, ticket_id, channel, resolution_at, issued_at, expires_at)
    select t.tenant_id, t.id, t.channel, t.resolved_at, ${now.toISOString()}::timestamptz,
      ${expiresAt.toISOString()}::timestamptz
    from ticket t
    where t.status = 'resolved' and t.resolved_at is not null ${tenantFilter}
      and not exists (select 1 from survey s where s.ticket_id = t.id and s.resolution_at = t.resolved_at)
    limit ${options.limit ?? 500}::int
    on conflict (ticket_id, resolution_at) do nothing
    returning id, tenant_id, ticket_id, expires_at`);
  return rowsOf<{ id: string; tenant_id: string; ticket_id: string; expires_at: string | Date }>(result).map((r) => ({
    surveyId: r.id,
    tenantId: r.tenant_id,
    ticketId: r.ticket_id,
    expiresAt: new Date(r.expires_at),
  }));
}

/** The survey behind a verified token, for the public page; refuses used or expired ones. */
export async function openSurvey(
  database: Database,
  surveyId: string,
  now: Date,
  executor?: Executor,
): Promise<Survey> {
  const [row] = await (executor ?? database.db).select().from(survey).where(eq(survey.id, surveyId));
  if (!row) throw new NotFoundError('This survey link is not valid');
  if (row.usedAt) throw new ConflictError('This survey was already answered; thank you', {}, 'survey-answered');
  if (row.expiresAt <= now) throw new ConflictError('This survey link has expired', {}, 'survey-expired');
  return row;
}

/** Record the answer once: the conditional update is what makes the token single-use. */
export async function answerSurvey(database: Database, surveyId: string, answer: SurveyAnswer, now: Date) {
  if (!Number.isInteger(answer.rating) || answer.rating < 1 || answer.rating > 5) {
    throw new ValidationError('Invalid rating', [{ field: 'rating', message: 'a whole number from 1 to 5' }]);
  }
  if (answer.nps !== undefined && (!Number.isInteger(answer.nps) || answer.nps < 0 || answer.nps > 10)) {
    throw new ValidationError('Invalid NPS', [{ field: 'nps', message: 'a whole number from 0 to 10' }]);
  }
  return database.db.transaction(async (tx) => {
    const [row] = await tx
      .update(survey)
      .set({ usedAt: now, rating: answer.rating, nps: answer.nps ?? null, comment: answer.comment?.trim() || null })
      .where(and(eq(survey.id, surveyId), isNull(survey.usedAt), gt(survey.expiresAt, now)))
      .returning();
    if (!row) {
      await openSurvey(database, surveyId, now, tx);
      throw new ConflictError('This survey can no longer be answered', {}, 'survey-closed');
    }
    const [t] = await tx.select({ id: ticket.id }).from(ticket).where(eq(ticket.id, row.ticketId));
    await appendTicketEvent(tx, surveyActor(row.tenantId), t!.id, 'csat', now, {
      body: row.comment,
      data: { surveyId: row.id, rating: row.rating, nps: row.nps },
    });
    return row;
  });
}
