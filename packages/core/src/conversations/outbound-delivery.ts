// Delivering outbound replies (issue #6): a reply is queued in the transaction that writes it, a
// worker claims due deliveries (FOR UPDATE SKIP LOCKED + a lease), sends them through the tenant's
// transport and records `sent` only when the transport accepted the message. Transient failures are
// retried with backoff; every status change is appended to the timeline and audited.
import { and, eq, inArray, lte, sql } from 'drizzle-orm';
import { recordAudit } from '../audit/record';
import {
  defaultRetryPolicy,
  type RetryPolicy,
  retryDelayMs,
  TransportError,
  type TransportResolver,
} from '../channels/reply-transport';
import type { Actor, Clock } from '../context/actor';
import { systemClock } from '../context/actor';
import type { Database, Executor, Tx } from '../db/database';
import {
  type DeliveryStatus,
  type OutboundChannel,
  type OutboundDelivery,
  outboundChannels,
  outboundDelivery,
} from '../db/schema/conversations';
import { type Ticket, type TicketEvent, ticket, ticketEvent } from '../db/schema/tickets';
import { ConflictError, NotFoundError } from '../errors';
import { type SurveyLinkBuilder, surveyInvitation, surveyInvitationOf } from '../surveys/survey-invitation';
import { ensureReplyToken } from './inbound-service';
import type { ReplyRecipient } from './reply-recipient';
import { appendTicketEvent } from './timeline';

/** What the API shows of a delivery next to its reply (no address, no provider text). */
export interface DeliveryView {
  id: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: string | null;
  lastError: string | null;
  providerMessageId: string | null;
  sentAt: string | null;
  deliveredAt: string | null;
}

export function deliveryView(d: OutboundDelivery): DeliveryView {
  const iso = (v: Date | null) => (v ? v.toISOString() : null);
  return {
    id: d.id,
    // A claimed row is still "queued" to a reader until the transport answers.
    status: d.status,
    attempts: d.attempts,
    nextAttemptAt: d.status === 'queued' ? iso(d.nextAttemptAt) : null,
    lastError: d.lastError,
    providerMessageId: d.providerMessageId,
    sentAt: iso(d.sentAt),
    deliveredAt: iso(d.deliveredAt),
  };
}

export const isOutboundChannel = (channel: string | null): channel is OutboundChannel =>
  (outboundChannels as readonly string[]).includes(channel ?? '');

/**
 * Queue the delivery of a reply inside the transaction that appended it, to the recipient resolved
 * for it (`resolveReplyRecipient`). Without one the delivery is queued anyway and fails visibly
 * (`no-recipient`) rather than disappearing; agent replies are refused with a 422 before that.
 */
export async function queueReplyDelivery(
  tx: Tx,
  row: Ticket,
  event: TicketEvent,
  deliveryId: string,
  now: Date,
  recipient: ReplyRecipient,
): Promise<OutboundDelivery> {
  const [delivery] = await tx
    .insert(outboundDelivery)
    .values({
      id: deliveryId,
      tenantId: row.tenantId,
      ticketId: row.id,
      eventId: event.id,
      channel: event.channel as OutboundChannel,
      recipient: recipient.address,
      inReplyTo: recipient.inReplyTo,
      status: 'queued',
      nextAttemptAt: now,
      createdAt: now,
      updatedAt: now,
    })
    .returning();
  return delivery!;
}

/** Where a queued reply goes, as the timeline and the audit trail record it (no address). */
export function recipientSummary(recipient: ReplyRecipient): Record<string, unknown> {
  if (!recipient.source) return { source: null };
  return recipient.contactPoint
    ? { source: recipient.source, system: recipient.contactPoint.system, use: recipient.contactPoint.use }
    : { source: recipient.source };
}

/** Deliveries of the given message events, keyed by event id (for the timeline). */
export async function deliveriesOfEvents(
  executor: Executor,
  tenantId: string,
  eventIds: readonly string[],
): Promise<Map<string, OutboundDelivery>> {
  if (eventIds.length === 0) return new Map();
  const rows = await executor
    .select()
    .from(outboundDelivery)
    .where(and(eq(outboundDelivery.tenantId, tenantId), inArray(outboundDelivery.eventId, [...eventIds])));
  return new Map(rows.map((r) => [r.eventId, r]));
}

export interface DeliveryOptions {
  database: Database;
  transports: TransportResolver;
  clock?: Clock;
  policy?: RetryPolicy;
  /** How long a claim is exclusive; a worker that dies mid-send loses it after this (default 2 min). */
  leaseMs?: number;
  random?: () => number;
  afterCommit?: (actor: Actor) => void;
  /** Signs CSAT survey links; an invitation is given its link only here, as it goes to the transport. */
  surveyLink?: SurveyLinkBuilder | undefined;
}

const workerActor = (tenantId: string): Actor => ({
  tenantId,
  userId: null,
  kind: 'system',
  roles: [],
  label: 'delivery-worker',
});

type Outcome = { ok: true; providerMessageId: string | null } | { ok: false; error: TransportError };

export class DeliveryService {
  private readonly database: Database;
  private readonly transports: TransportResolver;
  private readonly clock: Clock;
  private readonly policy: RetryPolicy;
  private readonly leaseMs: number;
  private readonly random: () => number;
  private readonly afterCommit: (actor: Actor) => void;
  private readonly surveyLink: SurveyLinkBuilder | undefined;

  constructor(options: DeliveryOptions) {
    this.surveyLink = options.surveyLink;
    this.database = options.database;
    this.transports = options.transports;
    this.clock = options.clock ?? systemClock;
    this.policy = options.policy ?? defaultRetryPolicy;
    this.leaseMs = options.leaseMs ?? 120_000;
    this.random = options.random ?? Math.random;
    this.afterCommit = options.afterCommit ?? (() => {});
  }

  private now(): Date {
    return new Date(Math.floor(this.clock.now().getTime()));
  }

  /**
   * Claim up to `limit` due deliveries. SKIP LOCKED lets concurrent workers take disjoint rows; the
   * claim commits `sending` with a lease before any network I/O, so no transaction is held open
   * while a provider is slow, and a second worker sees the row as not due until the lease ends.
   */
  async claim(limit = 10): Promise<OutboundDelivery[]> {
    const now = this.now();
    return this.database.db.transaction(async (tx) => {
      const due = await tx
        .select({ id: outboundDelivery.id })
        .from(outboundDelivery)
        .where(and(inArray(outboundDelivery.status, ['queued', 'sending']), lte(outboundDelivery.nextAttemptAt, now)))
        .orderBy(outboundDelivery.nextAttemptAt)
        .limit(limit)
        .for('update', { skipLocked: true });
      if (due.length === 0) return [];
      return tx
        .update(outboundDelivery)
        .set({
          status: 'sending',
          attempts: sql`${outboundDelivery.attempts} + 1`,
          nextAttemptAt: new Date(now.getTime() + this.leaseMs),
          updatedAt: now,
        })
        .where(
          inArray(
            outboundDelivery.id,
            due.map((d) => d.id),
          ),
        )
        .returning();
    });
  }

  /** Claim and send what is due; returns how many deliveries were attempted. */
  async processDue(limit = 10): Promise<number> {
    const claimed = await this.claim(limit);
    for (const delivery of claimed) await this.attempt(delivery);
    return claimed.length;
  }

  private async attempt(delivery: OutboundDelivery): Promise<void> {
    let outcome: Outcome;
    try {
      outcome = { ok: true, providerMessageId: (await this.send(delivery)).providerMessageId };
    } catch (error) {
      // Anything that is not a classified transport failure (a bug, a bad config) is not retried
      // blindly: it is transient once the attempts allow it, and its class name is the reason.
      const e =
        error instanceof TransportError
          ? error
          : new TransportError(`error-${(error as Error).name ?? 'unknown'}`, true);
      outcome = { ok: false, error: e };
    }
    await this.record(delivery, outcome);
  }

  private async send(delivery: OutboundDelivery) {
    if (!delivery.recipient) throw new TransportError('no-recipient', false);
    const transport = await this.transports(delivery.tenantId, delivery.channel);
    if (!transport) throw new TransportError('no-transport-configured', false);
    const prepared = await this.database.db.transaction(async (tx) => {
      const [row] = await tx
        .select({
          number: ticket.number,
          subject: ticket.subject,
          language: ticket.language,
          body: ticketEvent.body,
          data: ticketEvent.data,
        })
        .from(ticketEvent)
        .innerJoin(ticket, eq(ticket.id, ticketEvent.ticketId))
        .where(eq(ticketEvent.id, delivery.eventId));
      const replyToken = await ensureReplyToken(tx, delivery.tenantId, delivery.ticketId, this.now());
      return { ...row!, replyToken };
    });
    let body = prepared.body ?? '';
    const survey = surveyInvitationOf(prepared.data);
    if (survey) {
      // Never "sent" without a working link: a worker without the signing key fails the delivery visibly.
      if (!this.surveyLink || !survey.expiresAt) throw new TransportError('survey-link-unavailable', false);
      body = surveyInvitation(await this.surveyLink(survey.id, new Date(survey.expiresAt)), prepared.language);
    }
    return transport.send({
      deliveryId: delivery.id,
      tenantId: delivery.tenantId,
      channel: delivery.channel,
      recipient: delivery.recipient,
      body,
      ticketNumber: prepared.number,
      ticketSubject: prepared.subject,
      replyToken: prepared.replyToken,
      inReplyTo: delivery.inReplyTo,
    });
  }

  private async record(claimed: OutboundDelivery, outcome: Outcome): Promise<void> {
    const now = this.now();
    const actor = workerActor(claimed.tenantId);
    await this.database.db.transaction(async (tx) => {
      const [current] = await tx
        .select()
        .from(outboundDelivery)
        .where(eq(outboundDelivery.id, claimed.id))
        .for('update');
      if (!current) return;
      let patch: Partial<OutboundDelivery>;
      let eventData: Record<string, unknown>;
      if (outcome.ok) {
        // The provider accepted it: that is the truth whatever happened to the row meanwhile.
        if (current.status === 'sent' || current.status === 'delivered') return;
        patch = {
          status: 'sent',
          providerMessageId: outcome.providerMessageId,
          sentAt: now,
          nextAttemptAt: null,
          lastError: null,
        };
        eventData = { status: 'sent', providerMessageId: outcome.providerMessageId };
      } else {
        // Our claim is stale (lease expired and another worker took it, or a manual retry): leave it.
        if (current.status !== 'sending' || current.attempts !== claimed.attempts) return;
        const { error } = outcome;
        const exhausted = current.attempts >= this.policy.maxAttempts;
        if (error.transient && !exhausted) {
          const delay = retryDelayMs(current.attempts, this.policy, error.retryAfterMs, this.random);
          const nextAttemptAt = new Date(now.getTime() + delay);
          patch = { status: 'queued', lastError: error.reason, nextAttemptAt };
          eventData = { status: 'retry-scheduled', reason: error.reason, nextAttemptAt: nextAttemptAt.toISOString() };
        } else {
          patch = { status: 'failed', lastError: error.reason, nextAttemptAt: null };
          eventData = { status: 'failed', reason: error.reason, permanent: !error.transient, exhausted };
        }
      }
      await tx
        .update(outboundDelivery)
        .set({ ...patch, updatedAt: now })
        .where(eq(outboundDelivery.id, current.id));
      await this.appendStatus(tx, actor, current, now, { ...eventData, attempt: current.attempts });
      await recordAudit(
        tx,
        actor,
        {
          action: 'ticket.reply.deliver',
          fhirAction: 'E',
          entityType: 'Ticket',
          entityId: current.ticketId,
          patientRef: await this.patientOf(tx, current.ticketId),
          outcome: outcome.ok ? 'success' : 'failure',
          detail: {
            deliveryId: current.id,
            channel: current.channel,
            attempt: current.attempts,
            ...(outcome.ok ? {} : { reason: outcome.error.reason }),
          },
        },
        now,
      );
    });
    this.afterCommit(actor);
  }

  private async patientOf(tx: Tx, ticketId: string): Promise<string | null> {
    const [row] = await tx.select({ patientRef: ticket.patientRef }).from(ticket).where(eq(ticket.id, ticketId));
    return row?.patientRef ?? null;
  }

  private appendStatus(tx: Tx, actor: Actor, d: OutboundDelivery, now: Date, data: Record<string, unknown>) {
    return appendTicketEvent(tx, actor, d.ticketId, 'delivery-status', now, {
      channel: d.channel,
      data: { deliveryId: d.id, messageEventId: d.eventId, ...data },
    });
  }

  /** Agent action on a failed delivery: queue it again now with a fresh retry budget. */
  async retryNow(actor: Actor, ticketId: string, deliveryId: string): Promise<OutboundDelivery> {
    const now = this.now();
    const row = await this.database.db.transaction(async (tx) => {
      const [current] = await tx
        .select()
        .from(outboundDelivery)
        .where(
          and(
            eq(outboundDelivery.id, deliveryId),
            eq(outboundDelivery.ticketId, ticketId),
            eq(outboundDelivery.tenantId, actor.tenantId),
          ),
        )
        .for('update');
      if (!current) throw new NotFoundError('Delivery not found on this ticket');
      if (current.status !== 'failed') {
        throw new ConflictError(
          `Only failed deliveries can be retried; this one is ${current.status}`,
          { deliveryStatus: current.status },
          'delivery-not-failed',
        );
      }
      const [updated] = await tx
        .update(outboundDelivery)
        .set({ status: 'queued', attempts: 0, nextAttemptAt: now, updatedAt: now })
        .where(eq(outboundDelivery.id, current.id))
        .returning();
      await this.appendStatus(tx, actor, current, now, { status: 'queued', retry: 'manual' });
      await recordAudit(
        tx,
        actor,
        {
          action: 'ticket.reply.retry',
          fhirAction: 'U',
          entityType: 'Ticket',
          entityId: ticketId,
          patientRef: await this.patientOf(tx, ticketId),
          detail: { deliveryId, channel: current.channel },
        },
        now,
      );
      return updated!;
    });
    this.afterCommit(actor);
    return row;
  }

  /**
   * A provider's delivery receipt (`delivered` or `failed`) for a message we sent. Idempotent: a
   * receipt repeating the current status changes nothing; a receipt never un-delivers a message.
   */
  async providerReceipt(
    actor: Actor,
    channel: OutboundChannel,
    input: { messageId: string; status: 'delivered' | 'failed'; reason?: string | undefined },
  ): Promise<{ deliveryId: string; status: DeliveryStatus; changed: boolean }> {
    const now = this.now();
    const result = await this.database.db.transaction(async (tx) => {
      const [current] = await tx
        .select()
        .from(outboundDelivery)
        .where(
          and(
            eq(outboundDelivery.tenantId, actor.tenantId),
            eq(outboundDelivery.channel, channel),
            eq(outboundDelivery.providerMessageId, input.messageId),
          ),
        )
        .for('update');
      if (!current) throw new NotFoundError('No outbound message with this provider message id');
      const unchanged = { deliveryId: current.id, status: current.status, changed: false };
      if (current.status === input.status || current.status === 'delivered') return unchanged;
      if (current.status !== 'sent') return unchanged;
      // Provider codes only (`30007`, `undeliverable`); anything else is replaced, never echoed.
      const reason =
        input.reason && /^[A-Za-z0-9._-]{1,64}$/.test(input.reason) ? `provider-${input.reason}` : 'provider-reported';
      const patch: Partial<OutboundDelivery> =
        input.status === 'delivered'
          ? { status: 'delivered', deliveredAt: now }
          : { status: 'failed', lastError: reason };
      await tx
        .update(outboundDelivery)
        .set({ ...patch, updatedAt: now })
        .where(eq(outboundDelivery.id, current.id));
      await this.appendStatus(tx, actor, current, now, {
        status: input.status,
        source: 'provider-receipt',
        ...(input.status === 'failed' ? { reason } : {}),
      });
      await recordAudit(
        tx,
        actor,
        {
          action: 'ticket.reply.receipt',
          fhirAction: 'U',
          entityType: 'Ticket',
          entityId: current.ticketId,
          patientRef: await this.patientOf(tx, current.ticketId),
          outcome: input.status === 'delivered' ? 'success' : 'failure',
          detail: { deliveryId: current.id, channel, status: input.status },
        },
        now,
      );
      return { deliveryId: current.id, status: patch.status!, changed: true };
    });
    if (result.changed) this.afterCommit(actor);
    return result;
  }
}

/**
 * Polls for due deliveries in this process. State lives in `outbound_delivery`, so a restart picks
 * up whatever was queued or left mid-lease; several processes may run one each (SKIP LOCKED).
 */
export class DeliveryWorker {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = true;

  constructor(
    private readonly service: DeliveryService,
    private readonly options: { pollMs?: number; batchSize?: number; onError?: (error: unknown) => void } = {},
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Run soon (e.g. right after a reply was queued) instead of waiting for the next poll. */
  kick(): void {
    if (!this.stopped && !this.running) this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = this.tick().finally(() => {
        this.running = null;
        if (!this.stopped) this.schedule(this.options.pollMs ?? 2_000);
      });
    }, ms);
    this.timer.unref?.();
  }

  private async tick(): Promise<void> {
    try {
      // Drain: a full batch means more may be due.
      const batch = this.options.batchSize ?? 10;
      while (!this.stopped && (await this.service.processDue(batch)) === batch) {}
    } catch (error) {
      this.options.onError?.(error);
    }
  }
}
