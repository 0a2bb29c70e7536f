import { sql } from 'drizzle-orm';
import { bigserial, check, index, integer, jsonb, pgTable, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';
import {
  type ActorKind,
  actorKinds,
  type LinkableResourceType,
  linkableResourceTypes,
  type MessageDirection,
  messageDirections,
  sqlList,
  type TicketCategory,
  type TicketChannel,
  type TicketEventType,
  type TicketPriority,
  type TicketStatus,
  ticketCategories,
  ticketChannels,
  ticketEventTypes,
  ticketPriorities,
  ticketStatuses,
} from './enums';
import { source } from './sources';
import { appUser, tenant } from './tenants';

const tstz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const ticket = pgTable(
  'ticket',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenant.id),
    number: integer('number').notNull(),
    subject: text('subject').notNull(),
    description: text('description').notNull().default(''),
    category: text('category').$type<TicketCategory>().notNull(),
    channel: text('channel').$type<TicketChannel>().notNull(),
    status: text('status').$type<TicketStatus>().notNull().default('new'),
    priority: text('priority').$type<TicketPriority>().notNull().default('normal'),
    queue: text('queue').notNull().default('general'),
    assigneeId: uuid('assignee_id').references(() => appUser.id),
    /** Relative FHIR reference of the patient the ticket is about (`Patient/123`). */
    patientRef: text('patient_ref'),
    patientSourceId: uuid('patient_source_id').references(() => source.id),
    /** BCP 47 tag of the patient's preferred language. */
    language: text('language'),
    createdBy: uuid('created_by').references(() => appUser.id),
    createdAt: tstz('created_at').notNull(),
    updatedAt: tstz('updated_at').notNull(),
    firstResponseAt: tstz('first_response_at'),
    resolvedAt: tstz('resolved_at'),
    closedAt: tstz('closed_at'),
    /** Row version for optimistic concurrency (If-Match). */
    version: integer('version').notNull().default(1),
  },
  (t) => [
    unique('ticket_number_uq').on(t.tenantId, t.number),
    // List by tenant+status+queue, newest first, with (created_at, id) as the cursor. NULLS FIRST matches
    // `ORDER BY created_at DESC, id DESC` (PostgreSQL's default for DESC); with NULLS LAST the planner
    // cannot use the index for the order and sorts the whole tenant instead (measured: 42 ms vs 0.13 ms).
    index('ticket_tenant_status_queue_idx').on(
      t.tenantId,
      t.status,
      t.queue,
      t.createdAt.desc().nullsFirst(),
      t.id.desc().nullsFirst(),
    ),
    // The default list (no filters) and cursor pagination by time+id.
    index('ticket_tenant_created_idx').on(t.tenantId, t.createdAt.desc().nullsFirst(), t.id.desc().nullsFirst()),
    index('ticket_tenant_patient_idx').on(
      t.tenantId,
      t.patientRef,
      t.createdAt.desc().nullsFirst(),
      t.id.desc().nullsFirst(),
    ),
    index('ticket_tenant_assignee_idx').on(
      t.tenantId,
      t.assigneeId,
      t.createdAt.desc().nullsFirst(),
      t.id.desc().nullsFirst(),
    ),
    check('ticket_category_ck', sql.raw(`category IN (${sqlList(ticketCategories)})`)),
    check('ticket_channel_ck', sql.raw(`channel IN (${sqlList(ticketChannels)})`)),
    check('ticket_status_ck', sql.raw(`status IN (${sqlList(ticketStatuses)})`)),
    check('ticket_priority_ck', sql.raw(`priority IN (${sqlList(ticketPriorities)})`)),
  ],
);

export const ticketLink = pgTable(
  'ticket_link',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenant.id),
    ticketId: uuid('ticket_id')
      .notNull()
      .references(() => ticket.id),
    sourceId: uuid('source_id').references(() => source.id),
    resourceType: text('resource_type').$type<LinkableResourceType>().notNull(),
    resourceId: text('resource_id').notNull(),
    role: text('role').notNull(),
    /** The cached copy the agent saw when linking, so the product can show what changed since. */
    seenVersionId: text('seen_version_id'),
    seenLastUpdated: text('seen_last_updated'),
    seenContentHash: text('seen_content_hash'),
    createdBy: uuid('created_by').references(() => appUser.id),
    createdAt: tstz('created_at').notNull(),
  },
  (t) => [
    unique('ticket_link_uq').on(t.ticketId, t.sourceId, t.resourceType, t.resourceId, t.role).nullsNotDistinct(),
    index('ticket_link_resource_idx').on(t.tenantId, t.resourceType, t.resourceId),
    check('ticket_link_type_ck', sql.raw(`resource_type IN (${sqlList(linkableResourceTypes)})`)),
  ],
);

/** Append-only timeline (a trigger in a hand-written migration refuses UPDATE and DELETE). */
export const ticketEvent = pgTable(
  'ticket_event',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    seq: bigserial('seq', { mode: 'number' }).notNull(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenant.id),
    ticketId: uuid('ticket_id')
      .notNull()
      .references(() => ticket.id),
    type: text('type').$type<TicketEventType>().notNull(),
    actorId: uuid('actor_id').references(() => appUser.id),
    actorKind: text('actor_kind').$type<ActorKind>().notNull(),
    channel: text('channel').$type<TicketChannel>(),
    direction: text('direction').$type<MessageDirection>(),
    body: text('body'),
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: tstz('created_at').notNull(),
  },
  (t) => [
    index('ticket_event_ticket_idx').on(t.ticketId, t.seq),
    check('ticket_event_type_ck', sql.raw(`type IN (${sqlList(ticketEventTypes)})`)),
    check('ticket_event_actor_ck', sql.raw(`actor_kind IN (${sqlList(actorKinds)})`)),
    check('ticket_event_direction_ck', sql.raw(`direction IS NULL OR direction IN (${sqlList(messageDirections)})`)),
  ],
);

export type Ticket = typeof ticket.$inferSelect;
export type TicketLink = typeof ticketLink.$inferSelect;
export type TicketEvent = typeof ticketEvent.$inferSelect;
