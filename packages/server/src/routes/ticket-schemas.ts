// The ticket API's wire format: zod schemas that validate requests and document the API (OpenAPI).

import {
  deliveryStatuses,
  type LinkView,
  linkableResourceTypes,
  messageDirections,
  type TicketLink,
  type TicketView,
  type TimelineEvent,
  ticketCategories,
  ticketChannels,
  ticketPriorities,
  ticketStatuses,
} from '@fhirdesk/core';
import { z } from '@hono/zod-openapi';

// PostgreSQL text cannot hold NUL; refuse it up front instead of failing inside the transaction.
const noNul = (s: string) => !s.includes('\u0000');
const text = (max: number) =>
  z.string().max(max, `must be at most ${max} characters`).refine(noNul, 'must not contain NUL characters');
const nonEmpty = (max: number) =>
  z
    .string()
    .max(max, `must be at most ${max} characters`)
    .trim()
    .min(1, 'must not be empty')
    .refine(noNul, 'must not contain NUL characters');
const queue = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'must be lower-case letters, digits and dashes (max 64)');
const language = z
  .string()
  .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$/, 'must be a BCP 47 language tag, e.g. es or en-US');
const uuid = z.string().uuid('must be a UUID');
const reference = z
  .string()
  .min(1)
  .max(2048)
  .refine(noNul, 'must not contain NUL characters')
  .openapi({ example: 'Claim/100150' });

export const LinkInputSchema = z
  .object({
    reference,
    role: z.string().min(1).max(64).openapi({ example: 'disputed-claim' }),
    sourceId: uuid.optional(),
  })
  .strict()
  .openapi('LinkInput');

export const CreateTicketSchema = z
  .object({
    subject: nonEmpty(500),
    description: text(20_000).optional(),
    category: z.enum(ticketCategories),
    channel: z.enum(ticketChannels),
    priority: z.enum(ticketPriorities).optional(),
    queue: queue.optional(),
    assigneeId: uuid.nullable().optional(),
    patient: reference.nullable().optional().openapi({ example: 'Patient/example' }),
    language: language.nullable().optional(),
    links: z.array(LinkInputSchema).max(20).optional(),
  })
  .strict()
  .openapi('CreateTicket');

export const UpdateTicketSchema = z
  .object({
    subject: nonEmpty(500).optional(),
    description: text(20_000).optional(),
    category: z.enum(ticketCategories).optional(),
    priority: z.enum(ticketPriorities).optional(),
    queue: queue.optional(),
    patient: reference.nullable().optional(),
    language: language.nullable().optional(),
  })
  .strict()
  .openapi('UpdateTicket');

export const TransitionSchema = z
  .object({ status: z.enum(ticketStatuses), reason: text(2000).optional() })
  .strict()
  .openapi('StatusTransition');

export const AssignSchema = z.object({ assigneeId: uuid.nullable() }).strict().openapi('Assignment');

export const MessageSchema = z
  .object({ channel: z.enum(ticketChannels), direction: z.enum(messageDirections), body: nonEmpty(20_000) })
  .strict()
  .openapi('MessageInput');

export const NoteSchema = z
  .object({ body: nonEmpty(20_000) })
  .strict()
  .openapi('NoteInput');

const csv = <T extends readonly [string, ...string[]]>(values: T) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return undefined;
      const parts = v.split(',').map((p) => p.trim());
      const bad = parts.filter((p) => !(values as readonly string[]).includes(p));
      if (bad.length) {
        ctx.addIssue({ code: 'custom', message: `unknown value(s) ${bad.join(', ')}; allowed: ${values.join(', ')}` });
        return z.NEVER;
      }
      return parts as T[number][];
    })
    .openapi({ type: 'string', description: `comma-separated: ${values.join(', ')}` });

export const ListQuerySchema = z
  .object({
    status: csv(ticketStatuses),
    category: csv(ticketCategories),
    priority: csv(ticketPriorities),
    queue: queue.optional(),
    assignee: uuid.optional(),
    patient: reference.optional(),
    q: z.string().min(1).max(200).optional().openapi({ description: 'text contained in the subject' }),
    sort: z.enum(['created_desc', 'created_asc']).optional(),
    cursor: z.string().max(500).optional(),
    limit: z.coerce.number().int().min(1).max(100).optional(),
  })
  .strict();

export const IdParam = z.object({ id: uuid.openapi({ param: { name: 'id', in: 'path' } }) });
export const LinkIdParam = IdParam.extend({ linkId: uuid.openapi({ param: { name: 'linkId', in: 'path' } }) });

export const TimelineQuerySchema = z
  .object({
    after: z.coerce.number().int().min(0).optional(),
    limit: z.coerce.number().int().min(1).max(500).optional(),
  })
  .strict();

export const LinkSchema = z
  .object({
    id: z.string(),
    reference: z.string().nullable().openapi({
      description: 'null while the ticket needs caller verification (the resource is withheld, see `withheld`)',
    }),
    resourceType: z.enum(linkableResourceTypes),
    role: z.string(),
    sourceId: z.string().nullable(),
    seenVersionId: z.string().nullable(),
    seenLastUpdated: z.string().nullable(),
    createdAt: z.string(),
    withheld: z.string().optional(),
  })
  .openapi('TicketLink');

export const TicketSchema = z
  .object({
    id: z.string(),
    number: z.string().openapi({ example: 'T-1001' }),
    subject: z.string(),
    description: z.string(),
    category: z.enum(ticketCategories),
    channel: z.enum(ticketChannels),
    status: z.enum(ticketStatuses),
    priority: z.enum(ticketPriorities),
    queue: z.string(),
    assigneeId: z.string().nullable(),
    patient: z.string().nullable(),
    patientSourceId: z.string().nullable(),
    language: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
    firstResponseAt: z.string().nullable(),
    resolvedAt: z.string().nullable(),
    closedAt: z.string().nullable(),
    version: z.number(),
    links: z.array(LinkSchema),
    verification: z.enum(['required', 'verified', 'not-required']).optional().openapi({
      description:
        'required: a phone/SMS/email/chat ticket whose caller is not verified yet; patient and links are withheld',
    }),
  })
  .openapi('Ticket');

export const TicketPageSchema = z
  .object({ items: z.array(TicketSchema), nextCursor: z.string().nullable() })
  .openapi('TicketPage');

export const DeliverySchema = z
  .object({
    id: z.string(),
    status: z.enum(deliveryStatuses).openapi({
      description: 'queued → sending → sent (→ delivered) or failed; `sent` only once the transport accepted it',
    }),
    attempts: z.number(),
    nextAttemptAt: z.string().nullable(),
    lastError: z.string().nullable().openapi({ description: 'value-free reason, e.g. smtp-550, http-503' }),
    providerMessageId: z.string().nullable(),
    sentAt: z.string().nullable(),
    deliveredAt: z.string().nullable(),
  })
  .openapi('Delivery');

export const EventSchema = z
  .object({
    id: z.string(),
    seq: z.number(),
    type: z.string(),
    actorId: z.string().nullable(),
    actorKind: z.string(),
    channel: z.string().nullable(),
    direction: z.string().nullable(),
    body: z.string().nullable(),
    data: z.record(z.string(), z.unknown()),
    createdAt: z.string(),
    delivery: DeliverySchema.optional().openapi({ description: 'outbound replies on email, sms, chat, portal' }),
  })
  .openapi('TicketEvent');

export const TimelineSchema = z
  .object({ items: z.array(EventSchema), nextCursor: z.string().nullable() })
  .openapi('Timeline');

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number(),
    detail: z.string(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .passthrough()
  .openapi('Problem');

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function linkJson(l: TicketLink | LinkView): z.infer<typeof LinkSchema> {
  return {
    id: l.id,
    reference: l.resourceId === null ? null : `${l.resourceType}/${l.resourceId}`,
    resourceType: l.resourceType,
    role: l.role,
    sourceId: l.sourceId,
    seenVersionId: l.seenVersionId,
    seenLastUpdated: l.seenLastUpdated,
    createdAt: l.createdAt.toISOString(),
    ...('withheld' in l && l.withheld ? { withheld: l.withheld } : {}),
  };
}

export function ticketJson(t: TicketView): z.infer<typeof TicketSchema> {
  return {
    id: t.id,
    number: t.displayNumber,
    subject: t.subject,
    description: t.description,
    category: t.category,
    channel: t.channel,
    status: t.status,
    priority: t.priority,
    queue: t.queue,
    assigneeId: t.assigneeId,
    patient: t.patientRef,
    patientSourceId: t.patientSourceId,
    language: t.language,
    createdAt: t.createdAt.toISOString(),
    updatedAt: t.updatedAt.toISOString(),
    firstResponseAt: iso(t.firstResponseAt),
    resolvedAt: iso(t.resolvedAt),
    closedAt: iso(t.closedAt),
    version: t.version,
    links: t.links.map(linkJson),
    ...(t.verification ? { verification: t.verification } : {}),
  };
}

export function eventJson(e: TimelineEvent): z.infer<typeof EventSchema> {
  return {
    id: e.id,
    seq: e.seq,
    type: e.type,
    actorId: e.actorId,
    actorKind: e.actorKind,
    channel: e.channel,
    direction: e.direction,
    body: e.body,
    data: e.data,
    createdAt: e.createdAt.toISOString(),
    ...(e.delivery ? { delivery: e.delivery } : {}),
  };
}
