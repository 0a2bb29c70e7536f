// Conversations (issue #6): inbound channel integrations, message de-duplication, reply tokens,
// triage decisions, SLA due times and notices, EHR escalations and CSAT surveys.
import { sql } from 'drizzle-orm';
import {
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
  uuid,
} from 'drizzle-orm/pg-core';
import { sqlList, type TicketCategory, type TicketChannel, type TicketPriority } from './enums';
import { appUser, tenant } from './tenants';
import { ticket, ticketEvent } from './tickets';

const tstz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const inboundChannels = ['email', 'sms', 'chat', 'portal'] as const;
export type InboundChannel = (typeof inboundChannels)[number];

/**
 * A named credential of one inbound integration (HIPAA-09). The API key is stored only as its
 * SHA-256; the HMAC secret must be readable to verify signatures, so it is sealed with the secret box
 * (bound to the key id) and rotated in place: the old one stops working at once.
 */
export const integrationKey = pgTable(
  'integration_key',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenant.id),
    name: text('name').notNull(),
    /** Hex SHA-256 of the whole API key; null for signature-only integrations. */
    keyHash: text('key_hash').unique(),
    /**
     * Sealed HMAC secret for `X-Fhirdesk-Signature` (`encryptSecret`, aad `integration_key:<id>`); null for
     * API-key-only integrations. Rows written before sealing held it in clear; `sealLegacySecrets` converts them.
     */
    hmacSecret: text('hmac_secret'),
    /** Keyed fingerprint of the HMAC secret, shown instead of it. */
    hmacFingerprint: text('hmac_fingerprint'),
    /** Last rotation of the API key or HMAC secret. */
    rotatedAt: tstz('rotated_at'),
    channels: text('channels').array().$type<InboundChannel[]>().notNull().default(sql`'{}'::text[]`),
    active: boolean('active').notNull().default(true),
    createdAt: tstz('created_at').notNull().defaultNow(),
  },
  (t) => [
    unique('integration_key_name_uq').on(t.tenantId, t.name),
    check('integration_key_channels_ck', sql.raw(`channels <@ ARRAY[${sqlList(inboundChannels)}]::text[]`)),
  ],
);

/** Signatures seen inside the replay window, shared by every server (unique key = replay). */
export const webhookReplay = pgTable(
  'webhook_replay',
  {
    keyId: uuid('key_id')
      .notNull()
      .references(() => integrationKey.id),
    signature: text('signature').notNull(),
    expiresAt: tstz('expires_at').notNull(),
  },
  (t) => [primaryKey({ name: 'webhook_replay_pk', columns: [t.keyId, t.signature] })],
);

/** One row per provider message: the unique key makes a retried delivery a no-op. */
export const inboundMessage = pgTable(
  'inbound_message',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenant.id),
    channel: text('channel').$type<InboundChannel>().notNull(),
    providerMessageId: text('provider_message_id').notNull(),
    /** Normalised sender (E.164 phone or lower-case email), used for threading. */
    sender: text('sender').notNull(),
    ticketId: uuid('ticket_id')
      .notNull()
      .references(() => ticket.id),
    eventId: uuid('event_id')
      .notNull()
      .references(() => ticketEvent.id),
    outcome: text('outcome').$type<'created' | 'threaded'>().notNull(),
    receivedAt: tstz('received_at').notNull(),
  },
  (t) => [
    unique('inbound_message_provider_uq').on(t.tenantId, t.channel, t.providerMessageId),
    // Threading by sender within a time window.
    index('inbound_message_sender_idx').on(t.tenantId, t.sender, t.receivedAt.desc()),
  ],
);

/** Unguessable per-ticket reply token used in `reply+<token>@…` addresses. */
export const ticketReplyToken = pgTable('ticket_reply_token', {
  token: text('token').primaryKey(),
  tenantId: uuid('tenant_id')
    .notNull()
    .references(() => tenant.id),
  ticketId: uuid('ticket_id')
    .notNull()
    .unique()
    .references(() => ticket.id),
  createdAt: tstz('created_at').notNull(),
});

/** What triage decided for a ticket, kept to measure routing accuracy against agent corrections. */
export const ticketTriage = pgTable('ticket_triage', {
  ticketId: uuid('ticket_id')
    .primaryKey()
    .references(() => ticket.id),
  tenantId: uuid('tenant_id')
    .notNull()
    .references(() => tenant.id),
  category: text('category').$type<TicketCategory>().notNull(),
  queue: text('queue').notNull(),
  priority: text('priority').$type<TicketPriority>().notNull(),
  ruleIds: text('rule_ids').array().$type<string[]>().notNull().default(sql`'{}'::text[]`),
  redFlag: boolean('red_flag').notNull().default(false),
  /** Set the first time an agent changes the category or queue triage chose. */
  correctedAt: tstz('corrected_at'),
  createdAt: tstz('created_at').notNull(),
});

/** SLA due times of a ticket (kept beside `ticket` so the ticket aggregate stays unchanged). */
export const ticketSla = pgTable(
  'ticket_sla',
  {
    ticketId: uuid('ticket_id')
      .primaryKey()
      .references(() => ticket.id),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenant.id),
    firstResponseDueAt: tstz('first_response_due_at'),
    resolutionDueAt: tstz('resolution_due_at'),
    paused: boolean('paused').notNull().default(false),
    /** `ticket.version` the due times were computed from; a newer version triggers a recompute. */
    ticketVersion: integer('ticket_version').notNull(),
    computedAt: tstz('computed_at').notNull(),
  },
  (t) => [index('ticket_sla_tenant_due_idx').on(t.tenantId, t.resolutionDueAt)],
);

export const slaClocks = ['first-response', 'resolution'] as const;
export type SlaClock = (typeof slaClocks)[number];
export const slaNoticeKinds = ['at-risk', 'breached'] as const;
export type SlaNoticeKind = (typeof slaNoticeKinds)[number];

/** Raised SLA notices: the primary key is what makes each notice happen exactly once. */
export const slaNotice = pgTable(
  'sla_notice',
  {
    ticketId: uuid('ticket_id')
      .notNull()
      .references(() => ticket.id),
    clock: text('clock').$type<SlaClock>().notNull(),
    kind: text('kind').$type<SlaNoticeKind>().notNull(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenant.id),
    dueAt: tstz('due_at').notNull(),
    raisedAt: tstz('raised_at').notNull(),
  },
  (t) => [
    primaryKey({ name: 'sla_notice_pk', columns: [t.ticketId, t.clock, t.kind] }),
    check('sla_notice_clock_ck', sql.raw(`clock IN (${sqlList(slaClocks)})`)),
    check('sla_notice_kind_ck', sql.raw(`kind IN (${sqlList(slaNoticeKinds)})`)),
  ],
);

export const escalationStatuses = ['written-back', 'queued'] as const;
export type EscalationStatus = (typeof escalationStatuses)[number];

/** A clinical escalation to the EHR (WB-01..04); queued when write-back is unavailable. */
export const escalation = pgTable(
  'escalation',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenant.id),
    ticketId: uuid('ticket_id')
      .notNull()
      .references(() => ticket.id),
    sourceId: uuid('source_id'),
    status: text('status').$type<EscalationStatus>().notNull(),
    priority: text('priority').notNull(),
    taskId: text('task_id'),
    communicationId: text('communication_id'),
    /** Why write-back did not happen (safe, value-free). */
    problem: text('problem'),
    attempts: integer('attempts').notNull().default(1),
    createdAt: tstz('created_at').notNull(),
    updatedAt: tstz('updated_at').notNull(),
  },
  (t) => [
    index('escalation_tenant_status_idx').on(t.tenantId, t.status, t.createdAt),
    check('escalation_status_ck', sql.raw(`status IN (${sqlList(escalationStatuses)})`)),
  ],
);

/** One CSAT survey per resolution; `usedAt` makes its token single-use. */
export const survey = pgTable(
  'survey',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenant.id),
    ticketId: uuid('ticket_id')
      .notNull()
      .references(() => ticket.id),
    channel: text('channel').$type<TicketChannel>().notNull(),
    /** The `ticket.resolved_at` this survey asks about: one survey per resolution. */
    resolutionAt: tstz('resolution_at').notNull(),
    issuedAt: tstz('issued_at').notNull(),
    expiresAt: tstz('expires_at').notNull(),
    usedAt: tstz('used_at'),
    rating: integer('rating'),
    nps: integer('nps'),
    comment: text('comment'),
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [
    unique('survey_resolution_uq').on(t.ticketId, t.resolutionAt),
    index('survey_tenant_used_idx').on(t.tenantId, t.usedAt),
    check('survey_rating_ck', sql`rating IS NULL OR rating BETWEEN 1 AND 5`),
    check('survey_nps_ck', sql`nps IS NULL OR nps BETWEEN 0 AND 10`),
  ],
);

export const deliveryStatuses = ['queued', 'sending', 'sent', 'delivered', 'failed'] as const;
export type DeliveryStatus = (typeof deliveryStatuses)[number];
export const outboundChannels = ['email', 'sms', 'chat', 'portal'] as const;
export type OutboundChannel = (typeof outboundChannels)[number];

/**
 * The delivery state of one outbound reply (its `message` event stays as written: the timeline is
 * append-only, each status change is also appended as a `delivery-status` event). This row is the
 * work queue of the delivery worker: due rows are claimed with FOR UPDATE SKIP LOCKED, and a claim
 * is a lease (`sending` until `next_attempt_at`), so a crashed worker's claim is picked up again.
 */
export const outboundDelivery = pgTable(
  'outbound_delivery',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenant.id),
    ticketId: uuid('ticket_id')
      .notNull()
      .references(() => ticket.id),
    eventId: uuid('event_id')
      .notNull()
      .unique()
      .references(() => ticketEvent.id),
    channel: text('channel').$type<OutboundChannel>().notNull(),
    /** Normalised address (email, E.164 phone, `conversation:<id>`); null when none is known. */
    recipient: text('recipient'),
    /** Provider id of the inbound message answered (email Message-ID for In-Reply-To). */
    inReplyTo: text('in_reply_to'),
    status: text('status').$type<DeliveryStatus>().notNull(),
    attempts: integer('attempts').notNull().default(0),
    /** When the worker may (re)try: the backoff after a failure, or the lease end while `sending`. */
    nextAttemptAt: tstz('next_attempt_at'),
    /** Value-free reason of the last failure (`smtp-550`, `http-503`, `connection-refused`). */
    lastError: text('last_error'),
    providerMessageId: text('provider_message_id'),
    sentAt: tstz('sent_at'),
    deliveredAt: tstz('delivered_at'),
    createdAt: tstz('created_at').notNull(),
    updatedAt: tstz('updated_at').notNull(),
  },
  (t) => [
    // The worker's claim query: due queued rows and expired leases, oldest due first.
    index('outbound_delivery_due_idx').on(t.nextAttemptAt).where(sql`status IN ('queued', 'sending')`),
    unique('outbound_delivery_provider_uq').on(t.tenantId, t.channel, t.providerMessageId),
    index('outbound_delivery_ticket_idx').on(t.ticketId),
    check('outbound_delivery_status_ck', sql.raw(`status IN (${sqlList(deliveryStatuses)})`)),
    check('outbound_delivery_channel_ck', sql.raw(`channel IN (${sqlList(outboundChannels)})`)),
  ],
);

export const verificationParties = ['patient', 'proxy'] as const;
export type VerificationParty = (typeof verificationParties)[number];
export const verificationOutcomes = ['verified', 'failed'] as const;
export type VerificationOutcome = (typeof verificationOutcomes)[number];

/**
 * How the caller on a ticket was verified (or failed to be): one row per attempt, never updated.
 * A ticket counts as verified when it has a `verified` row. Identifier names only, never values.
 */
export const ticketVerification = pgTable(
  'ticket_verification',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenant.id),
    ticketId: uuid('ticket_id')
      .notNull()
      .references(() => ticket.id),
    outcome: text('outcome').$type<VerificationOutcome>().notNull(),
    /** How identity was established: `identifiers` (caller stated them) or `ehr-session` (SMART launch). */
    method: text('method').notNull(),
    party: text('party').$type<VerificationParty>().notNull(),
    /** The patient the caller was checked against (`Patient/123`). */
    patientRef: text('patient_ref').notNull(),
    /** The proxy: `RelatedPerson/<id>` or `Patient/<id>#contact[<n>]`. */
    proxyRef: text('proxy_ref'),
    matched: text('matched').array().$type<string[]>().notNull().default(sql`'{}'::text[]`),
    mismatched: text('mismatched').array().$type<string[]>().notNull().default(sql`'{}'::text[]`),
    verifiedBy: uuid('verified_by').references(() => appUser.id),
    createdAt: tstz('created_at').notNull(),
  },
  (t) => [
    index('ticket_verification_ticket_idx').on(t.ticketId, t.createdAt),
    check('ticket_verification_outcome_ck', sql.raw(`outcome IN (${sqlList(verificationOutcomes)})`)),
    check('ticket_verification_party_ck', sql.raw(`party IN (${sqlList(verificationParties)})`)),
  ],
);

export type OutboundDelivery = typeof outboundDelivery.$inferSelect;
export type TicketVerification = typeof ticketVerification.$inferSelect;
export type IntegrationKey = typeof integrationKey.$inferSelect;
export type InboundMessage = typeof inboundMessage.$inferSelect;
export type TicketSla = typeof ticketSla.$inferSelect;
export type Escalation = typeof escalation.$inferSelect;
export type Survey = typeof survey.$inferSelect;
