// Ticket commands and queries. Each command is one transaction: the change, its timeline event and
// its audit row commit together or not at all.
import { randomUUID } from 'node:crypto';
import { and, asc, desc, eq, gt, ilike, inArray, type SQL, sql } from 'drizzle-orm';
import { autoAssign, reassignOnQueueChange } from '../assignment/auto-assign';
import { type AuditEntry, recordAudit } from '../audit/record';
import type { Actor, Clock } from '../context/actor';
import { systemClock } from '../context/actor';
import {
  recordEhrSessionVerification,
  type VerificationState,
  verificationChannels,
  verificationStates,
} from '../conversations/caller-verification';
import {
  type DeliveryView,
  deliveriesOfEvents,
  deliveryView,
  isOutboundChannel,
  queueReplyDelivery,
  recipientSummary,
} from '../conversations/outbound-delivery';
import { resolveReplyRecipient } from '../conversations/reply-recipient';
import {
  type LinkView,
  restrictEvent,
  restrictLink,
  restrictTicket,
  verificationStateOf,
} from '../conversations/verification-view';
import type { Database, Executor, Tx } from '../db/database';
import {
  type LinkableResourceType,
  linkableResourceTypes,
  type MessageDirection,
  type TicketCategory,
  type TicketChannel,
  type TicketEventType,
  type TicketPriority,
  type TicketStatus,
} from '../db/schema/enums';
import { fhirResource, source } from '../db/schema/sources';
import { appUser } from '../db/schema/tenants';
import { type Ticket, type TicketEvent, type TicketLink, ticket, ticketEvent, ticketLink } from '../db/schema/tickets';
import { ConflictError, NotFoundError, PreconditionFailedError, UnprocessableError, ValidationError } from '../errors';
import { formatReference, parseReference } from '../fhir/reference';
import { withoutSurveyLink } from '../surveys/survey-invitation';
import { appendTicketEvent } from './ticket-event';
import { insertNumberedTicket } from './ticket-insert';
import { formatTicketNumber } from './ticket-number';
import { allowedTransitions, canTransition } from './ticket-status';

export interface TicketDeps {
  database: Database;
  clock?: Clock;
  /** Called after a command commits (e.g. to schedule audit sealing). */
  afterCommit?: (actor: Actor) => void;
  /** Called after a reply was queued for delivery (e.g. to wake the delivery worker). */
  onReplyQueued?: () => void;
}

/** A timeline event; outbound replies on a deliverable channel carry their delivery state. */
export type TimelineEvent = TicketEvent & { delivery?: DeliveryView | undefined };

export interface LinkInput {
  reference: string;
  role: string;
  sourceId?: string | undefined;
}

export interface CreateTicketInput {
  subject: string;
  description?: string | undefined;
  category: TicketCategory;
  channel: TicketChannel;
  priority?: TicketPriority | undefined;
  queue?: string | undefined;
  assigneeId?: string | null | undefined;
  patient?: string | null | undefined;
  language?: string | null | undefined;
  links?: LinkInput[] | undefined;
}

export interface UpdateTicketInput {
  subject?: string | undefined;
  description?: string | undefined;
  category?: TicketCategory | undefined;
  priority?: TicketPriority | undefined;
  queue?: string | undefined;
  patient?: string | null | undefined;
  language?: string | null | undefined;
}

export interface TicketView extends Ticket {
  displayNumber: string;
  links: TicketLink[];
  /** Every response carries it; `required` means patient and links are withheld (caller not verified). */
  verification?: VerificationState | undefined;
}

export interface ListTicketsQuery {
  status?: TicketStatus[] | undefined;
  category?: TicketCategory[] | undefined;
  priority?: TicketPriority[] | undefined;
  queue?: string | undefined;
  assigneeId?: string | undefined;
  patient?: string | undefined;
  q?: string | undefined;
  sort?: 'created_desc' | 'created_asc' | undefined;
  cursor?: string | undefined;
  limit?: number | undefined;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

const PATIENT_ONLY = ['Patient'] as const;

function view(row: Ticket, links: TicketLink[] = []): TicketView {
  return { ...row, displayNumber: formatTicketNumber(row.number), links };
}

export class TicketService {
  private readonly database: Database;
  private readonly clock: Clock;
  private readonly afterCommit: (actor: Actor) => void;
  private readonly onReplyQueued: () => void;

  constructor(deps: TicketDeps) {
    this.database = deps.database;
    this.clock = deps.clock ?? systemClock;
    this.afterCommit = deps.afterCommit ?? (() => {});
    this.onReplyQueued = deps.onReplyQueued ?? (() => {});
  }

  private async command<T>(actor: Actor, work: (tx: Tx, now: Date) => Promise<T>): Promise<T> {
    const now = new Date(Math.floor(this.clock.now().getTime()));
    const result = await this.database.db.transaction((tx) => work(tx, now));
    this.afterCommit(actor);
    return result;
  }

  private async tenantSources(executor: Executor, tenantId: string) {
    return executor
      .select({ id: source.id, baseUrl: source.baseUrl })
      .from(source)
      .where(eq(source.tenantId, tenantId))
      .then((rows) => rows.filter((r): r is { id: string; baseUrl: string } => Boolean(r.baseUrl)));
  }

  private async parsePatient(executor: Executor, actor: Actor, raw: string | null | undefined, field = 'patient') {
    if (raw === null || raw === undefined) return null;
    const sources = /^[a-z]+:\/\//i.test(raw) ? await this.tenantSources(executor, actor.tenantId) : [];
    return parseReference(raw, { allowedTypes: PATIENT_ONLY, sources, field });
  }

  private async assertAssignee(executor: Executor, actor: Actor, assigneeId: string | null | undefined) {
    if (!assigneeId) return;
    const [user] = await executor
      .select({ id: appUser.id })
      .from(appUser)
      .where(and(eq(appUser.id, assigneeId), eq(appUser.tenantId, actor.tenantId), eq(appUser.active, true)));
    if (!user) {
      throw new ValidationError('Assignee is not an active user of this tenant', [
        { field: 'assigneeId', message: 'no active user with this id in the tenant' },
      ]);
    }
  }

  private async loadForUpdate(tx: Tx, actor: Actor, id: string): Promise<Ticket> {
    const [row] = await tx
      .select()
      .from(ticket)
      .where(and(eq(ticket.id, id), eq(ticket.tenantId, actor.tenantId)))
      .for('update');
    if (!row) throw new NotFoundError('Ticket not found');
    return row;
  }

  private appendEvent(
    tx: Tx,
    actor: Actor,
    ticketId: string,
    type: TicketEventType,
    now: Date,
    extra: Partial<Pick<TicketEvent, 'channel' | 'direction' | 'body' | 'data'>> = {},
  ): Promise<TicketEvent> {
    return appendTicketEvent(tx, actor, ticketId, type, now, extra);
  }

  private audit(
    tx: Tx,
    actor: Actor,
    row: Pick<Ticket, 'id' | 'patientRef'>,
    action: string,
    fhirAction: AuditEntry['fhirAction'],
    now: Date,
    detail: Record<string, unknown> = {},
  ) {
    return recordAudit(
      tx,
      actor,
      { action, fhirAction, entityType: 'Ticket', entityId: row.id, patientRef: row.patientRef, detail },
      now,
    );
  }

  async create(actor: Actor, input: CreateTicketInput): Promise<TicketView> {
    return this.command(actor, async (tx, now) => {
      const patient = await this.parsePatient(tx, actor, input.patient);
      await this.assertAssignee(tx, actor, input.assigneeId);
      const id = randomUUID();
      const patientRef = patient ? formatReference(patient) : null;
      // Audit first: it takes no lock, so the counter row below is held for as short a time as possible.
      await this.audit(tx, actor, { id, patientRef }, 'ticket.create', 'C', now, {
        category: input.category,
        channel: input.channel,
      });
      const row = await insertNumberedTicket(
        tx,
        actor,
        {
          id,
          subject: input.subject,
          description: input.description ?? '',
          category: input.category,
          channel: input.channel,
          priority: input.priority ?? 'normal',
          queue: input.queue ?? 'general',
          assigneeId: input.assigneeId ?? null,
          patientRef,
          patientSourceId: patient?.sourceId ?? null,
          language: input.language ?? null,
        },
        now,
        { category: input.category, priority: input.priority ?? 'normal', queue: input.queue ?? 'general' },
      );
      // A ticket routed to a queue without an assignee goes to one of the queue's agents (issue #6).
      if (!input.assigneeId) await autoAssign(tx, actor, row, now);
      const links: TicketLink[] = [];
      for (const [i, link] of (input.links ?? []).entries()) {
        links.push(await this.insertLink(tx, actor, row, link, now, `links.${i}`));
      }
      // A new ticket has no verification yet unless the SMART launch established who the caller is.
      const verified = await recordEhrSessionVerification(tx, actor, row, now);
      const state: VerificationState = verified
        ? 'verified'
        : verificationChannels.includes(row.channel)
          ? 'required'
          : 'not-required';
      return restrictTicket(view(row, links), state);
    });
  }

  async get(actor: Actor, id: string): Promise<TicketView> {
    return this.command(actor, async (tx, now) => {
      const [row] = await tx
        .select()
        .from(ticket)
        .where(and(eq(ticket.id, id), eq(ticket.tenantId, actor.tenantId)));
      if (!row) throw new NotFoundError('Ticket not found');
      const links = await tx
        .select()
        .from(ticketLink)
        .where(eq(ticketLink.ticketId, id))
        .orderBy(asc(ticketLink.createdAt), asc(ticketLink.id));
      const state = (await verificationStates(tx, actor.tenantId, [row])).get(row.id)!;
      await this.audit(tx, actor, row, 'ticket.read', 'R', now, {
        verification: state,
        ...(state === 'required' ? { restricted: true } : {}),
      });
      return restrictTicket(view(row, links), state);
    });
  }

  async list(actor: Actor, query: ListTicketsQuery): Promise<Page<TicketView>> {
    const limit = Math.min(Math.max(query.limit ?? 25, 1), 100);
    const ascending = query.sort === 'created_asc';
    return this.command(actor, async (tx, now) => {
      const where: SQL[] = [eq(ticket.tenantId, actor.tenantId)];
      if (query.status?.length) where.push(inArray(ticket.status, query.status));
      if (query.category?.length) where.push(inArray(ticket.category, query.category));
      if (query.priority?.length) where.push(inArray(ticket.priority, query.priority));
      if (query.queue) where.push(eq(ticket.queue, query.queue));
      if (query.assigneeId) where.push(eq(ticket.assigneeId, query.assigneeId));
      if (query.patient) {
        const patient = await this.parsePatient(tx, actor, query.patient);
        where.push(eq(ticket.patientRef, formatReference(patient!)));
      }
      if (query.q) where.push(ilike(ticket.subject, `%${escapeLike(query.q)}%`));
      if (query.cursor) {
        const c = decodeCursor(query.cursor);
        // A row comparison is an index condition (seek); the equivalent OR is only a filter (scan).
        where.push(
          ascending
            ? sql`(${ticket.createdAt}, ${ticket.id}) > (${c.t.toISOString()}::timestamptz, ${c.id}::uuid)`
            : sql`(${ticket.createdAt}, ${ticket.id}) < (${c.t.toISOString()}::timestamptz, ${c.id}::uuid)`,
        );
      }
      const order = ascending ? [asc(ticket.createdAt), asc(ticket.id)] : [desc(ticket.createdAt), desc(ticket.id)];
      const rows = await tx
        .select()
        .from(ticket)
        .where(and(...where))
        .orderBy(...order)
        .limit(limit + 1);
      const items = rows.slice(0, limit);
      const last = items[items.length - 1];
      const nextCursor = rows.length > limit && last ? encodeCursor(last.createdAt, last.id) : null;
      // One audit row per patient touched by the search (AUD-04), plus one for the query itself.
      const patients = [...new Set(items.map((r) => r.patientRef).filter((p): p is string => Boolean(p)))];
      const entries: AuditEntry[] = [
        { action: 'ticket.search', fhirAction: 'E', entityType: 'Ticket', detail: { results: items.length } },
        ...patients.map((p) => ({
          action: 'ticket.search',
          fhirAction: 'E' as const,
          entityType: 'Ticket',
          patientRef: p,
        })),
      ];
      await recordAudit(tx, actor, entries, now);
      const states = await verificationStates(tx, actor.tenantId, items);
      return { items: items.map((r) => restrictTicket(view(r), states.get(r.id)!)), nextCursor };
    });
  }

  async update(actor: Actor, id: string, expectedVersion: number, input: UpdateTicketInput): Promise<TicketView> {
    return this.command(actor, async (tx, now) => {
      const current = await this.loadForUpdate(tx, actor, id);
      if (current.version !== expectedVersion) {
        throw new PreconditionFailedError('The ticket was changed by someone else; reload and retry', {
          currentVersion: current.version,
        });
      }
      const patch: Partial<Ticket> = {};
      const changes: Record<string, { from: unknown; to: unknown }> = {};
      const setField = <K extends keyof Ticket>(key: K, value: Ticket[K] | undefined) => {
        if (value === undefined || value === current[key]) return;
        patch[key] = value;
        changes[key] = { from: current[key], to: value };
      };
      setField('subject', input.subject);
      setField('description', input.description);
      setField('category', input.category);
      setField('priority', input.priority);
      setField('queue', input.queue);
      setField('language', input.language);
      if (input.patient !== undefined) {
        const patient = await this.parsePatient(tx, actor, input.patient);
        setField('patientRef', patient ? formatReference(patient) : null);
        if (patient) setField('patientSourceId', patient.sourceId ?? null);
      }
      if (Object.keys(patch).length === 0) {
        await this.audit(tx, actor, current, 'ticket.update', 'U', now, { changed: [] });
        return this.present(tx, actor, current);
      }
      const row = await this.writeRow(tx, current, { ...patch, updatedAt: now });
      // Free text (subject, description) is PHI-prone: the timeline keeps it, the audit only names fields.
      await this.appendEvent(tx, actor, id, 'field-changed', now, { data: { changes } });
      await this.audit(tx, actor, row, 'ticket.update', 'U', now, { changed: Object.keys(changes) });
      // Issue #6: an assignee who does not serve the new queue gives way to the queue's strategy; the
      // response then shows the ticket as re-assigned, not the row from before the assignment.
      const outcome = changes.queue ? await reassignOnQueueChange(tx, actor, row, current.queue, now) : null;
      const latest = outcome ? ((await tx.select().from(ticket).where(eq(ticket.id, row.id)))[0] ?? row) : row;
      return this.present(tx, actor, latest);
    });
  }

  async transition(
    actor: Actor,
    id: string,
    to: TicketStatus,
    options: { expectedVersion?: number | undefined; reason?: string | undefined } = {},
  ): Promise<TicketView> {
    return this.command(actor, async (tx, now) => {
      const current = await this.loadForUpdate(tx, actor, id);
      if (options.expectedVersion !== undefined && current.version !== options.expectedVersion) {
        throw new PreconditionFailedError('The ticket was changed by someone else; reload and retry', {
          currentVersion: current.version,
        });
      }
      if (!canTransition(current.status, to)) {
        const allowed = allowedTransitions(current.status);
        throw new ConflictError(
          `Cannot move a ticket from ${current.status} to ${to}; allowed: ${allowed.length ? allowed.join(', ') : 'none (closed tickets are final)'}`,
          { from: current.status, to, allowed },
          'transition-not-allowed',
        );
      }
      const patch: Partial<Ticket> = { status: to, updatedAt: now };
      if (to === 'resolved') patch.resolvedAt = now;
      if (to === 'closed') patch.closedAt = now;
      if (current.status === 'resolved' && to === 'open') patch.resolvedAt = null;
      const row = await this.writeRow(tx, current, patch);
      await this.appendEvent(tx, actor, id, 'status-changed', now, {
        body: options.reason ?? null,
        data: { from: current.status, to, reopened: current.status === 'resolved' && to === 'open' },
      });
      await this.audit(tx, actor, row, 'ticket.status', 'U', now, { from: current.status, to });
      return this.present(tx, actor, row);
    });
  }

  async assign(
    actor: Actor,
    id: string,
    assigneeId: string | null,
    options: { expectedVersion?: number | undefined } = {},
  ): Promise<TicketView> {
    return this.command(actor, async (tx, now) => {
      const current = await this.loadForUpdate(tx, actor, id);
      if (options.expectedVersion !== undefined && current.version !== options.expectedVersion) {
        throw new PreconditionFailedError('The ticket was changed by someone else; reload and retry', {
          currentVersion: current.version,
        });
      }
      await this.assertAssignee(tx, actor, assigneeId);
      if (current.assigneeId === assigneeId) return this.present(tx, actor, current);
      const row = await this.writeRow(tx, current, { assigneeId, updatedAt: now });
      await this.appendEvent(tx, actor, id, 'assigned', now, { data: { from: current.assigneeId, to: assigneeId } });
      await this.audit(tx, actor, row, 'ticket.assign', 'U', now, { assigneeId });
      return this.present(tx, actor, row);
    });
  }

  async addMessage(
    actor: Actor,
    id: string,
    input: { channel: TicketChannel; direction: MessageDirection; body: string },
  ): Promise<TimelineEvent> {
    const result = await this.command(actor, async (tx, now): Promise<TimelineEvent> => {
      const current = await this.loadForUpdate(tx, actor, id);
      if (current.status === 'closed')
        throw new ConflictError(
          'Closed tickets take no new messages; reopen is not possible after close',
          {},
          'ticket-closed',
        );
      // An outbound message on a channel we can send on is a reply: it is queued for delivery in this
      // transaction, and stays `queued` until a transport has accepted it (never "sent" by assumption).
      // A reply nobody could receive is refused before anything is written.
      const recipient =
        input.direction === 'outbound' && isOutboundChannel(input.channel)
          ? await resolveReplyRecipient(tx, current, input.channel, now)
          : null;
      if (recipient && !recipient.address) {
        throw new UnprocessableError(
          `No ${input.channel} recipient for this reply: ${recipient.missing}`,
          { channel: input.channel },
          'no-recipient',
        );
      }
      const patch: Partial<Ticket> = { updatedAt: now };
      // First response: the first outbound message from a person or integration on the desk's side.
      if (input.direction === 'outbound' && !current.firstResponseAt) patch.firstResponseAt = now;
      const row = await this.writeRow(tx, current, patch);
      const deliveryId = recipient ? randomUUID() : null;
      const event = await this.appendEvent(tx, actor, id, 'message', now, {
        channel: input.channel,
        direction: input.direction,
        body: input.body,
        ...(recipient
          ? { data: { delivery: { id: deliveryId, status: 'queued', to: recipientSummary(recipient) } } }
          : {}),
      });
      const delivery =
        deliveryId && recipient ? await queueReplyDelivery(tx, row, event, deliveryId, now, recipient) : null;
      // HIPAA-06: which of the patient's contact points received it is audited (by position, not value).
      await this.audit(tx, actor, row, 'ticket.message', 'U', now, {
        eventId: event.id,
        channel: input.channel,
        direction: input.direction,
        ...(deliveryId ? { deliveryId } : {}),
        ...(recipient
          ? {
              recipient: {
                ...recipientSummary(recipient),
                ...(recipient.contactPoint
                  ? { contactPoint: recipient.contactPoint.reference, rank: recipient.contactPoint.rank }
                  : {}),
              },
            }
          : {}),
      });
      const shown = restrictEvent(event, await verificationStateOf(tx, actor.tenantId, row));
      return delivery ? { ...shown, delivery: deliveryView(delivery) } : shown;
    });
    if (result.delivery) this.onReplyQueued();
    return result;
  }

  async addNote(actor: Actor, id: string, input: { body: string }): Promise<TicketEvent> {
    return this.command(actor, async (tx, now) => {
      const current = await this.loadForUpdate(tx, actor, id);
      await this.writeRow(tx, current, { updatedAt: now });
      const event = await this.appendEvent(tx, actor, id, 'note', now, { body: input.body });
      await this.audit(tx, actor, current, 'ticket.note', 'U', now, { eventId: event.id });
      return restrictEvent(event, await verificationStateOf(tx, actor.tenantId, current));
    });
  }

  async link(actor: Actor, id: string, input: LinkInput): Promise<LinkView> {
    return this.command(actor, async (tx, now) => {
      const current = await this.loadForUpdate(tx, actor, id);
      const link = await this.insertLink(tx, actor, current, input, now, 'reference');
      await this.writeRow(tx, current, { updatedAt: now });
      return restrictLink(link, await verificationStateOf(tx, actor.tenantId, current));
    });
  }

  async unlink(actor: Actor, id: string, linkId: string): Promise<void> {
    await this.command(actor, async (tx, now) => {
      const current = await this.loadForUpdate(tx, actor, id);
      const [removed] = await tx
        .delete(ticketLink)
        .where(and(eq(ticketLink.id, linkId), eq(ticketLink.ticketId, id), eq(ticketLink.tenantId, actor.tenantId)))
        .returning();
      if (!removed) throw new NotFoundError('Link not found on this ticket');
      await this.writeRow(tx, current, { updatedAt: now });
      await this.appendEvent(tx, actor, id, 'unlinked', now, {
        data: {
          linkId,
          reference: `${removed.resourceType}/${removed.resourceId}`,
          role: removed.role,
          sourceId: removed.sourceId,
        },
      });
      await this.audit(tx, actor, current, 'ticket.unlink', 'U', now, { linkId, resourceType: removed.resourceType });
    });
  }

  async timeline(
    actor: Actor,
    id: string,
    options: { after?: number | undefined; limit?: number | undefined } = {},
  ): Promise<Page<TimelineEvent>> {
    const limit = Math.min(Math.max(options.limit ?? 100, 1), 500);
    return this.command(actor, async (tx, now) => {
      const [row] = await tx
        .select({ id: ticket.id, patientRef: ticket.patientRef, channel: ticket.channel })
        .from(ticket)
        .where(and(eq(ticket.id, id), eq(ticket.tenantId, actor.tenantId)));
      if (!row) throw new NotFoundError('Ticket not found');
      const state = await verificationStateOf(tx, actor.tenantId, row);
      const where = [eq(ticketEvent.ticketId, id), eq(ticketEvent.tenantId, actor.tenantId)];
      if (options.after !== undefined) where.push(gt(ticketEvent.seq, options.after));
      const events = await tx
        .select()
        .from(ticketEvent)
        .where(and(...where))
        .orderBy(asc(ticketEvent.seq))
        .limit(limit + 1);
      const financial = actor.roles.some((r) => FINANCIAL_ROLES.includes(r));
      const page = events.slice(0, limit);
      const deliveries = await deliveriesOfEvents(
        tx,
        actor.tenantId,
        page.filter((e) => e.type === 'message' && e.direction === 'outbound').map((e) => e.id),
      );
      const items: TimelineEvent[] = page.map((e) => {
        const shown = restrictEvent(withoutSurveyLink(financial ? e : minimumNecessary(e)), state);
        const delivery = deliveries.get(e.id);
        return delivery ? { ...shown, delivery: deliveryView(delivery) } : shown;
      });
      await this.audit(tx, actor, row, 'ticket.timeline.read', 'R', now, {
        verification: state,
        ...(state === 'required' ? { restricted: true } : {}),
      });
      const last = items[items.length - 1];
      return { items, nextCursor: events.length > limit && last ? String(last.seq) : null };
    });
  }

  /** A write's response: the ticket as it now is, shaped by the caller's verification like a read. */
  private async present(executor: Executor, actor: Actor, row: Ticket): Promise<TicketView> {
    const state = await verificationStateOf(executor, actor.tenantId, row);
    const links =
      state === 'required'
        ? []
        : await executor
            .select()
            .from(ticketLink)
            .where(eq(ticketLink.ticketId, row.id))
            .orderBy(asc(ticketLink.createdAt), asc(ticketLink.id));
    return restrictTicket(view(row, links), state);
  }

  private async writeRow(tx: Tx, current: Ticket, patch: Partial<Ticket>): Promise<Ticket> {
    const [row] = await tx
      .update(ticket)
      .set({ ...patch, version: current.version + 1 })
      .where(and(eq(ticket.id, current.id), eq(ticket.version, current.version)))
      .returning();
    // The row is locked FOR UPDATE, so the version cannot have moved; guard anyway.
    if (!row) throw new PreconditionFailedError('The ticket was changed by someone else; reload and retry');
    return row;
  }

  private async insertLink(
    tx: Tx,
    actor: Actor,
    row: Ticket,
    input: LinkInput,
    now: Date,
    field: string,
  ): Promise<TicketLink> {
    const role = input.role.trim();
    if (!/^[a-z][a-z0-9-]{0,63}$/.test(role)) {
      throw new ValidationError('Invalid link role', [
        { field: `${field}.role`, message: 'must be lower-case kebab-case, e.g. disputed-claim' },
      ]);
    }
    const sources = await this.tenantSources(tx, actor.tenantId);
    const ref = parseReference<LinkableResourceType>(input.reference, {
      allowedTypes: linkableResourceTypes,
      sources,
      field,
    });
    let sourceId = ref.sourceId ?? input.sourceId ?? null;
    if (input.sourceId && ref.sourceId && input.sourceId !== ref.sourceId) {
      throw new ValidationError('Reference and sourceId disagree', [
        { field: `${field}.sourceId`, message: 'the absolute reference belongs to another source' },
      ]);
    }
    if (input.sourceId && !sources.some((s) => s.id === input.sourceId)) {
      const [known] = await tx
        .select({ id: source.id })
        .from(source)
        .where(and(eq(source.id, input.sourceId), eq(source.tenantId, actor.tenantId)));
      if (!known)
        throw new ValidationError('Unknown source', [
          { field: `${field}.sourceId`, message: 'no such source in this tenant' },
        ]);
    }
    // Record the cached copy the agent saw, so the product can later show what changed since.
    const cachedWhere = [
      eq(fhirResource.tenantId, actor.tenantId),
      eq(fhirResource.resourceType, ref.type),
      eq(fhirResource.resourceId, ref.id),
    ];
    if (sourceId) cachedWhere.push(eq(fhirResource.sourceId, sourceId));
    const cached = await tx
      .select({
        sourceId: fhirResource.sourceId,
        versionId: fhirResource.versionId,
        lastUpdated: fhirResource.lastUpdated,
        contentHash: fhirResource.contentHash,
      })
      .from(fhirResource)
      .where(and(...cachedWhere))
      .limit(2);
    if (!sourceId && cached.length === 1) sourceId = cached[0]!.sourceId;
    const seen = cached.length === 1 ? cached[0]! : null;
    const inserted = await tx
      .insert(ticketLink)
      .values({
        id: randomUUID(),
        tenantId: actor.tenantId,
        ticketId: row.id,
        sourceId,
        resourceType: ref.type,
        resourceId: ref.id,
        role,
        seenVersionId: seen?.versionId ?? ref.versionId ?? null,
        seenLastUpdated: seen?.lastUpdated ?? null,
        seenContentHash: seen?.contentHash ?? null,
        createdBy: actor.userId,
        createdAt: now,
      })
      .onConflictDoNothing()
      .returning();
    const link = inserted[0];
    if (!link) {
      throw new ConflictError(
        `The ticket is already linked to ${ref.type}/${ref.id} as ${role}`,
        { reference: `${ref.type}/${ref.id}`, role },
        'duplicate-link',
      );
    }
    await this.appendEvent(tx, actor, row.id, 'linked', now, {
      data: { linkId: link.id, reference: `${ref.type}/${ref.id}`, role, sourceId, seenVersionId: link.seenVersionId },
    });
    await this.audit(tx, actor, row, 'ticket.link', 'U', now, { linkId: link.id, resourceType: ref.type });
    return link;
  }
}

/** Roles that see payer contract detail (amounts, payer references) on the timeline (HIPAA-07). */
const FINANCIAL_ROLES: readonly string[] = ['billing', 'supervisor', 'admin'];
/** Timeline events whose content is payer/contract detail that agents do not need. */
const FINANCIAL_EVENTS: ReadonlySet<string> = new Set(['dispute-updated', 'payer-contact']);

function minimumNecessary(event: TicketEvent): TicketEvent {
  if (!FINANCIAL_EVENTS.has(event.type)) return event;
  return { ...event, body: null, data: { redacted: 'financial detail is shown to billing roles only' } };
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export function encodeCursor(t: Date, id: string): string {
  return Buffer.from(JSON.stringify({ t: t.toISOString(), id })).toString('base64url');
}

export function decodeCursor(cursor: string): { t: Date; id: string } {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { t?: unknown; id?: unknown };
    const t = typeof parsed.t === 'string' ? new Date(parsed.t) : null;
    if (!t || Number.isNaN(t.getTime()) || typeof parsed.id !== 'string' || !/^[0-9a-f-]{36}$/i.test(parsed.id))
      throw new Error('bad');
    return { t, id: parsed.id };
  } catch {
    throw new ValidationError('Invalid cursor', [
      { field: 'cursor', message: 'pass back the nextCursor value of a previous page unchanged' },
    ]);
  }
}
