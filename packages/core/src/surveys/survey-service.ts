// CSAT surveys (issue #6): one survey per resolution, answered once (1–5 rating, optional comment
// and 0–10 NPS) before it expires; the answer lands on the ticket timeline. Tokens are signed by the
// server (jose) and carry only the survey id, so no PHI ever appears in a survey URL.

import { randomUUID } from 'node:crypto';
import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import { recordAudit } from '../audit/record';
import type { Actor } from '../context/actor';
import { isOutboundChannel, queueReplyDelivery } from '../conversations/outbound-delivery';
import { type ReplyRecipient, resolveReplyRecipient } from '../conversations/reply-recipient';
import { appendTicketEvent } from '../conversations/timeline';
import type { Database, Executor } from '../db/database';
import { rowsOf } from '../db/database';
import { type Survey, survey } from '../db/schema/conversations';
import { ticket } from '../db/schema/tickets';
import { ConflictError, NotFoundError, ValidationError } from '../errors';
import { type SurveyInvitationRef, surveyInvitationNotice } from './survey-invitation';

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
  /** The queued outbound message carrying the link, or null when the channel has no transport. */
  deliveryId: string | null;
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
 * re-resolved ticket gets a new one). Run as a job. With `invite`, each survey's invitation is queued
 * as an outbound message on the ticket's channel in the same transaction as the survey insert, so a
 * survey never exists without its message and a rerun (the unique key refuses the insert) never
 * queues a second one. The message stored on the timeline is a notice without the link: the delivery
 * worker signs the link when it hands the message to the transport (see survey-invitation.ts), so no
 * agent can read it and answer in the patient's name. Phone and in-person tickets have no transport:
 * their survey is issued and the timeline records that no link was sent.
 */
export async function issueSurveysForResolved(
  database: Database,
  now: Date,
  options: { ttlDays?: number; tenantId?: string; limit?: number; invite?: boolean } = {},
): Promise<IssuedSurvey[]> {
  const ttl = options.ttlDays ?? 14;
  const expiresAt = new Date(now.getTime() + ttl * 86_400_000);
  const tenantFilter = options.tenantId ? sql`and t.tenant_id = ${options.tenantId}` : sql``;
  return database.db.transaction(async (tx) => {
    // Concurrent runs are safe: the unique (ticket_id, resolution_at) key lets only one insert win,
    // and the loser's transaction inserts nothing, so it queues nothing either.
    const result = await tx.execute(sql`
      insert into survey (tenant_id, ticket_id, channel, resolution_at, issued_at, expires_at)
      select t.tenant_id, t.id, t.channel, t.resolved_at, ${now.toISOString()}::timestamptz,
        ${expiresAt.toISOString()}::timestamptz
      from ticket t
      where t.status = 'resolved' and t.resolved_at is not null ${tenantFilter}
        and not exists (select 1 from survey s where s.ticket_id = t.id and s.resolution_at = t.resolved_at)
      limit ${options.limit ?? 500}::int
      on conflict (ticket_id, resolution_at) do nothing
      returning id, tenant_id, ticket_id, channel, expires_at`);
    const rows = rowsOf<{
      id: string;
      tenant_id: string;
      ticket_id: string;
      channel: string;
      expires_at: string | Date;
    }>(result);
    const issued: IssuedSurvey[] = [];
    for (const r of rows) {
      const surveyExpiresAt = new Date(r.expires_at);
      let deliveryId: string | null = null;
      if (options.invite) {
        const actor = surveyActor(r.tenant_id);
        const [t] = await tx.select().from(ticket).where(eq(ticket.id, r.ticket_id));
        let recipient: ReplyRecipient | null = null;
        if (isOutboundChannel(r.channel)) {
          deliveryId = randomUUID();
          // Sent through the reply path: queued now, `sent` only once a transport accepted it.
          const survey: SurveyInvitationRef = { id: r.id, expiresAt: surveyExpiresAt.toISOString() };
          const event = await appendTicketEvent(tx, actor, r.ticket_id, 'message', now, {
            channel: r.channel,
            direction: 'outbound',
            body: surveyInvitationNotice(r.channel, surveyExpiresAt),
            data: { delivery: { id: deliveryId, status: 'queued' }, survey },
          });
          // No address (no inbound message, no usable patient contact): queued anyway, so it fails visibly.
          recipient = await resolveReplyRecipient(tx, t!, r.channel, now);
          await queueReplyDelivery(tx, t!, event, deliveryId, now, recipient);
        } else {
          await appendTicketEvent(tx, actor, r.ticket_id, 'csat', now, {
            data: { surveyId: r.id, stage: 'issued', linkSent: false, reason: 'no-outbound-channel' },
          });
        }
        await recordAudit(
          tx,
          actor,
          {
            action: 'ticket.survey.issue',
            fhirAction: 'C',
            entityType: 'Ticket',
            entityId: r.ticket_id,
            patientRef: t!.patientRef,
            detail: {
              surveyId: r.id,
              channel: r.channel,
              ...(deliveryId ? { deliveryId } : { linkSent: false }),
              ...(recipient?.contactPoint ? { contactPoint: recipient.contactPoint.reference } : {}),
            },
          },
          now,
        );
      }
      issued.push({
        surveyId: r.id,
        tenantId: r.tenant_id,
        ticketId: r.ticket_id,
        expiresAt: surveyExpiresAt,
        deliveryId,
      });
    }
    return issued;
  });
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
