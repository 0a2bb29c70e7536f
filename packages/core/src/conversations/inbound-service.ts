// Receiving one inbound message (email, SMS, chat, portal): de-duplicate by provider message id,
// match the sender to a cached Patient, thread onto an existing ticket or open a triaged new one.
// Everything for one message commits in one transaction with its audit rows.
import { randomBytes, randomUUID } from 'node:crypto';
import { and, desc, eq, gte, inArray, notInArray, sql } from 'drizzle-orm';
import { autoAssign, reassignOnQueueChange } from '../assignment/auto-assign';
import { recordAudit } from '../audit/record';
import { normaliseEmail, normalisePhone } from '../channels/contact-address';
import { parseTicketReferences, threadHints } from '../channels/ticket-reference';
import type { Actor, Clock } from '../context/actor';
import { systemClock } from '../context/actor';
import type { Database, Tx } from '../db/database';
import { type InboundChannel, inboundMessage, ticketReplyToken, ticketTriage } from '../db/schema/conversations';
import type { TicketStatus } from '../db/schema/enums';
import { tenant } from '../db/schema/tenants';
import { type Ticket, ticket } from '../db/schema/tickets';
import { refreshTicketSla, slaSettingsOf } from '../sla/sla-service';
import { insertNumberedTicket } from '../tickets/ticket-insert';
import { defaultRoutingFallback, defaultRoutingRules } from '../triage/default-rules';
import { RedFlagDetector } from '../triage/red-flags';
import { Router } from '../triage/routing-engine';
import { parseRoutingRules } from '../triage/routing-rule';
import { type TriageResult, triageMessage } from '../triage/triage';
import type { IntegrationPrincipal } from './integration-keys';
import { matchPatientByContact, type PatientMatch } from './patient-match';
import { appendTicketEvent, lockTicket, writeTicket } from './timeline';

export interface InboundMessageInput {
  channel: InboundChannel;
  providerMessageId: string;
  from: {
    email?: string | null | undefined;
    phone?: string | null | undefined;
    conversationId?: string | null | undefined;
  };
  to?: readonly string[] | undefined;
  subject?: string | undefined;
  body: string;
  receivedAt?: Date | undefined;
}

export type InboundOutcome = 'created' | 'threaded' | 'duplicate';

export interface InboundResult {
  outcome: InboundOutcome;
  ticketId: string;
  ticketNumber: number;
  eventId: string;
  /** Token for `reply+<token>@…` so replies thread back here. */
  replyToken: string;
  patient: { status: PatientMatch['status']; reference: string | null };
  threadedBy: 'reply-token' | 'ticket-reference' | 'sender-window' | null;
}

export interface ConversationSettings {
  /** A sender's open ticket of the same category within this window takes a new message. */
  threadWindowMinutes: number;
  defaultCountryCode: string;
}

export function conversationSettingsOf(settings: Record<string, unknown> | null | undefined): ConversationSettings {
  const raw = (settings?.conversations ?? {}) as Partial<ConversationSettings>;
  return {
    threadWindowMinutes:
      typeof raw.threadWindowMinutes === 'number' && raw.threadWindowMinutes >= 0 ? raw.threadWindowMinutes : 72 * 60,
    defaultCountryCode: typeof raw.defaultCountryCode === 'string' ? raw.defaultCountryCode : '1',
  };
}

class DuplicateDelivery extends Error {}

const resumable: TicketStatus[] = ['pending-patient', 'pending-payer', 'resolved'];

export class InboundService {
  private readonly database: Database;
  private readonly clock: Clock;
  private readonly afterCommit: (actor: Actor) => void;
  private readonly redFlags = new RedFlagDetector();

  constructor(deps: { database: Database; clock?: Clock; afterCommit?: (actor: Actor) => void }) {
    this.database = deps.database;
    this.clock = deps.clock ?? systemClock;
    this.afterCommit = deps.afterCommit ?? (() => {});
  }

  /** Idempotent: a retried delivery (same channel + provider message id) returns the first result. */
  async receive(integration: IntegrationPrincipal, input: InboundMessageInput): Promise<InboundResult> {
    const actor: Actor = {
      tenantId: integration.tenantId,
      userId: null,
      kind: 'integration',
      roles: ['integration'],
      label: integration.name,
    };
    const existing = await this.existing(actor.tenantId, input);
    if (existing) return existing;
    try {
      const result = await this.database.db.transaction((tx) => this.receiveInTx(tx, actor, input));
      this.afterCommit(actor);
      return result;
    } catch (error) {
      // A concurrent delivery of the same message committed first: answer with its result.
      if (error instanceof DuplicateDelivery) {
        const again = await this.existing(actor.tenantId, input);
        if (again) return again;
      }
      throw error;
    }
  }

  private async existing(tenantId: string, input: InboundMessageInput): Promise<InboundResult | null> {
    const [row] = await this.database.db
      .select({ message: inboundMessage, number: ticket.number, patientRef: ticket.patientRef })
      .from(inboundMessage)
      .innerJoin(ticket, eq(ticket.id, inboundMessage.ticketId))
      .where(
        and(
          eq(inboundMessage.tenantId, tenantId),
          eq(inboundMessage.channel, input.channel),
          eq(inboundMessage.providerMessageId, input.providerMessageId),
        ),
      );
    if (!row) return null;
    const [token] = await this.database.db
      .select({ token: ticketReplyToken.token })
      .from(ticketReplyToken)
      .where(eq(ticketReplyToken.ticketId, row.message.ticketId));
    return {
      outcome: 'duplicate',
      ticketId: row.message.ticketId,
      ticketNumber: row.number,
      eventId: row.message.eventId,
      replyToken: token?.token ?? '',
      patient: { status: row.patientRef ? 'matched' : 'unmatched', reference: row.patientRef },
      threadedBy: null,
    };
  }

  private async receiveInTx(tx: Tx, actor: Actor, input: InboundMessageInput): Promise<InboundResult> {
    const now = new Date(Math.floor(this.clock.now().getTime()));
    const [t] = await tx.select({ settings: tenant.settings }).from(tenant).where(eq(tenant.id, actor.tenantId));
    const settings = t?.settings ?? {};
    const conv = conversationSettingsOf(settings);
    const phone = input.from.phone
      ? normalisePhone(input.from.phone, { defaultCountryCode: conv.defaultCountryCode })
      : null;
    const email = input.from.email ? normaliseEmail(input.from.email) : null;
    const sender =
      phone ?? email ?? (input.from.conversationId ? `conversation:${input.from.conversationId}` : null) ?? 'unknown';

    const match = await matchPatientByContact(tx, actor.tenantId, { phone, email });
    const triage = this.triage(settings, input);
    const thread = await this.findThread(tx, actor.tenantId, input, sender, match, triage, now, conv);

    let result: InboundResult;
    if (thread) {
      result = await this.appendToThread(tx, actor, thread.row, thread.by, input, match, triage, now);
    } else {
      result = await this.createTicket(tx, actor, input, match, triage, settings, now);
    }
    const inserted = await tx
      .insert(inboundMessage)
      .values({
        tenantId: actor.tenantId,
        channel: input.channel,
        providerMessageId: input.providerMessageId,
        sender,
        ticketId: result.ticketId,
        eventId: result.eventId,
        outcome: result.outcome === 'created' ? 'created' : 'threaded',
        receivedAt: now,
      })
      .onConflictDoNothing()
      .returning({ id: inboundMessage.id });
    if (inserted.length === 0) throw new DuplicateDelivery();
    return result;
  }

  private triage(settings: Record<string, unknown>, input: InboundMessageInput): TriageResult {
    // Tenant rules are validated when saved; a broken set falls back to the defaults rather than
    // dropping patient messages.
    let rules = defaultRoutingRules;
    if (settings.routingRules !== undefined) {
      try {
        rules = parseRoutingRules(settings.routingRules);
      } catch {
        rules = defaultRoutingRules;
      }
    }
    const router = new Router(rules, { defaults: defaultRoutingFallback });
    return triageMessage(
      { channel: input.channel, body: input.body, ...(input.subject ? { subject: input.subject } : {}) },
      { router, redFlags: this.redFlags },
    );
  }

  private async findThread(
    tx: Tx,
    tenantId: string,
    input: InboundMessageInput,
    sender: string,
    match: PatientMatch,
    triage: TriageResult,
    now: Date,
    conv: ConversationSettings,
  ): Promise<{ row: Ticket; by: NonNullable<InboundResult['threadedBy']> } | null> {
    const hints =
      input.channel === 'email' || input.channel === 'portal'
        ? threadHints({ subject: input.subject ?? '', body: input.body, to: input.to ?? [] })
        : { replyTokens: [], ticketReferences: parseTicketReferences(input.body) };

    // 1. Reply tokens are unguessable: trust them for any ticket that is not closed.
    if (hints.replyTokens.length > 0) {
      const [row] = await tx
        .select({ ticket })
        .from(ticketReplyToken)
        .innerJoin(ticket, eq(ticket.id, ticketReplyToken.ticketId))
        .where(and(eq(ticketReplyToken.tenantId, tenantId), inArray(ticketReplyToken.token, hints.replyTokens)));
      if (row && row.ticket.status !== 'closed') return { row: row.ticket, by: 'reply-token' };
    }
    // 2. `T-1042` is guessable: accept it only from the ticket's own patient or a sender already
    //    on that ticket, so nobody can write into someone else's conversation by typing a number.
    if (hints.ticketReferences.length > 0) {
      const numbers = hints.ticketReferences.map((r) => r.number);
      const rows = await tx
        .select()
        .from(ticket)
        .where(and(eq(ticket.tenantId, tenantId), inArray(ticket.number, numbers), sql`${ticket.status} <> 'closed'`));
      for (const n of numbers) {
        const row = rows.find((r) => r.number === n);
        if (!row) continue;
        const samePatient = match.status === 'matched' && row.patientRef === match.reference;
        const [seen] = samePatient
          ? [true]
          : await tx
              .select({ id: inboundMessage.id })
              .from(inboundMessage)
              .where(and(eq(inboundMessage.ticketId, row.id), eq(inboundMessage.sender, sender)))
              .limit(1);
        if (seen) return { row, by: 'ticket-reference' };
      }
    }
    // 3. The sender's latest open ticket on the same topic (category) inside the window.
    if (sender !== 'unknown' && conv.threadWindowMinutes > 0) {
      const since = new Date(now.getTime() - conv.threadWindowMinutes * 60_000);
      const [row] = await tx
        .select({ ticket })
        .from(inboundMessage)
        .innerJoin(ticket, eq(ticket.id, inboundMessage.ticketId))
        .where(
          and(
            eq(inboundMessage.tenantId, tenantId),
            eq(inboundMessage.sender, sender),
            gte(inboundMessage.receivedAt, since),
            notInArray(ticket.status, ['resolved', 'closed']),
            eq(ticket.category, triage.category ?? defaultRoutingFallback.category),
          ),
        )
        .orderBy(desc(inboundMessage.receivedAt))
        .limit(1);
      if (row) return { row: row.ticket, by: 'sender-window' };
    }
    return null;
  }

  private async appendToThread(
    tx: Tx,
    actor: Actor,
    found: Ticket,
    by: NonNullable<InboundResult['threadedBy']>,
    input: InboundMessageInput,
    match: PatientMatch,
    triage: TriageResult,
    now: Date,
  ): Promise<InboundResult> {
    const current = await lockTicket(tx, actor.tenantId, found.id);
    const patch: Partial<Ticket> = { updatedAt: now };
    // A red flag in a follow-up message escalates the existing ticket as it would a new one (the rule's queue
    // and priority); other rules do not re-route a conversation an agent may already have corrected.
    const action = triage.redFlag.flagged ? triage.redFlag.action : undefined;
    const reroute =
      action && (current.queue !== action.queue || current.priority !== action.priority)
        ? { queue: action.queue, priority: action.priority }
        : null;
    if (reroute) Object.assign(patch, reroute);
    // The patient answered: a ticket waiting on them (or just resolved) is active again.
    if (resumable.includes(current.status)) {
      patch.status = 'open';
      if (current.status === 'resolved') patch.resolvedAt = null;
    }
    const linkPatient = !current.patientRef && match.status === 'matched';
    if (linkPatient) patch.patientRef = match.reference;
    if (linkPatient) patch.patientSourceId = match.sourceId;
    const row = await writeTicket(tx, current, patch);
    if (patch.status) {
      await appendTicketEvent(tx, actor, row.id, 'status-changed', now, {
        data: { from: current.status, to: 'open', reopened: current.status === 'resolved', cause: 'inbound-message' },
      });
    }
    const event = await appendTicketEvent(tx, actor, row.id, 'message', now, {
      channel: input.channel,
      direction: 'inbound',
      body: messageText(input),
      data: { providerMessageId: input.providerMessageId, threadedBy: by },
    });
    if (linkPatient) {
      await appendTicketEvent(tx, actor, row.id, 'patient-linked', now, {
        data: { reference: match.reference, by: 'contact-match' },
      });
    }
    if (triage.redFlag.flagged) {
      await appendTicketEvent(tx, actor, row.id, 'red-flag', now, {
        body: triage.redFlag.safetyPrompt?.text ?? null,
        data: {
          kinds: triage.redFlag.kinds,
          termIds: triage.redFlag.matches.map((m) => m.termId),
          safetyPrompt: triage.redFlag.safetyPrompt ?? null,
          action: triage.redFlag.action ?? null,
          eventId: event.id,
        },
      });
    }
    if (reroute) {
      const ruleIds = triage.matchedRuleIds.filter((id) => id.startsWith('red-flag:'));
      await appendTicketEvent(tx, actor, row.id, 'triaged', now, {
        data: {
          ruleIds,
          cause: 'threaded-message',
          eventId: event.id,
          queue: reroute.queue,
          priority: reroute.priority,
          previous: { queue: current.queue, priority: current.priority },
        },
      });
      await reassignOnQueueChange(tx, actor, row, current.queue, now);
    }
    await recordAudit(
      tx,
      actor,
      {
        action: 'ticket.message',
        fhirAction: 'U',
        entityType: 'Ticket',
        entityId: row.id,
        patientRef: row.patientRef,
        detail: {
          eventId: event.id,
          channel: input.channel,
          direction: 'inbound',
          threadedBy: by,
          ...(reroute ? { rerouted: reroute } : {}),
        },
      },
      now,
    );
    return {
      outcome: 'threaded',
      ticketId: row.id,
      ticketNumber: row.number,
      eventId: event.id,
      replyToken: await ensureReplyToken(tx, actor.tenantId, row.id, now),
      patient: { status: row.patientRef ? 'matched' : match.status, reference: row.patientRef },
      threadedBy: by,
    };
  }

  private async createTicket(
    tx: Tx,
    actor: Actor,
    input: InboundMessageInput,
    match: PatientMatch,
    triage: TriageResult,
    settings: Record<string, unknown>,
    now: Date,
  ): Promise<InboundResult> {
    const id = randomUUID();
    const patientRef = match.status === 'matched' ? match.reference : null;
    const category = triage.category ?? defaultRoutingFallback.category;
    const queue = triage.queue ?? defaultRoutingFallback.queue;
    const priority = triage.priority ?? defaultRoutingFallback.priority;
    await recordAudit(
      tx,
      actor,
      {
        action: 'ticket.create',
        fhirAction: 'C',
        entityType: 'Ticket',
        entityId: id,
        patientRef,
        detail: { category, channel: input.channel, inbound: true },
      },
      now,
    );
    // The same numbering path as the ticket API: one counter, gap-free per tenant.
    const row = await insertNumberedTicket(
      tx,
      actor,
      {
        id,
        subject: subjectOf(input),
        description: '',
        category,
        channel: input.channel,
        priority,
        queue,
        assigneeId: null,
        patientRef,
        patientSourceId: match.status === 'matched' ? match.sourceId : null,
        language: triage.language ?? triage.detectedLanguage.language ?? null,
      },
      now,
      { category, priority, queue, inbound: true },
    );
    const event = await appendTicketEvent(tx, actor, id, 'message', now, {
      channel: input.channel,
      direction: 'inbound',
      body: messageText(input),
      data: { providerMessageId: input.providerMessageId },
    });
    await appendTicketEvent(tx, actor, id, 'triaged', now, {
      data: {
        ruleIds: triage.matchedRuleIds,
        setBy: triage.setBy,
        category,
        queue,
        priority,
        language: triage.detectedLanguage,
        warnings: triage.warnings,
      },
    });
    if (triage.redFlag.flagged) {
      await appendTicketEvent(tx, actor, id, 'red-flag', now, {
        body: triage.redFlag.safetyPrompt?.text ?? null,
        data: {
          kinds: triage.redFlag.kinds,
          termIds: triage.redFlag.matches.map((m) => m.termId),
          safetyPrompt: triage.redFlag.safetyPrompt ?? null,
          action: triage.redFlag.action ?? null,
        },
      });
    }
    if (patientRef) {
      await appendTicketEvent(tx, actor, id, 'patient-linked', now, {
        data: { reference: patientRef, by: 'contact-match' },
      });
    } else {
      // Visible in the timeline so an agent links the patient by hand; never a guess.
      await appendTicketEvent(tx, actor, id, 'patient-unlinked', now, {
        data: {
          reason: match.status === 'ambiguous' ? 'several-patients-match' : 'no-patient-matches',
          candidates: match.candidates,
        },
      });
    }
    await tx.insert(ticketTriage).values({
      ticketId: id,
      tenantId: actor.tenantId,
      category,
      queue,
      priority,
      ruleIds: triage.matchedRuleIds,
      redFlag: triage.redFlag.flagged,
      createdAt: now,
    });
    await autoAssign(tx, actor, row, now);
    await refreshTicketSla(tx, row, slaSettingsOf(settings), now);
    return {
      outcome: 'created',
      ticketId: id,
      ticketNumber: row.number,
      eventId: event.id,
      replyToken: await ensureReplyToken(tx, actor.tenantId, id, now),
      patient: { status: match.status, reference: patientRef },
      threadedBy: null,
    };
  }
}

export async function ensureReplyToken(tx: Tx, tenantId: string, ticketId: string, now: Date): Promise<string> {
  const [found] = await tx
    .select({ token: ticketReplyToken.token })
    .from(ticketReplyToken)
    .where(eq(ticketReplyToken.ticketId, ticketId));
  if (found) return found.token;
  const token = randomBytes(18).toString('base64url');
  await tx.insert(ticketReplyToken).values({ token, tenantId, ticketId, createdAt: now });
  return token;
}

function subjectOf(input: InboundMessageInput): string {
  const s = input.subject?.trim();
  if (s) return s.slice(0, 200);
  const firstLine = input.body.trim().split('\n')[0] ?? '';
  return `${input.channel.toUpperCase()} message${firstLine ? `: ${firstLine.slice(0, 80)}` : ''}`;
}

function messageText(input: InboundMessageInput): string {
  return input.subject && input.channel === 'email' ? `${input.subject}\n\n${input.body}` : input.body;
}
