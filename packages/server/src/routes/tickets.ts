// /api/v1/tickets: create, read, search, update (If-Match), transition, assign, messages, notes, links, timeline.

import {
  type Database,
  type DeliveryService,
  deliveryView,
  type TicketService,
  type VerificationService,
} from '@fhirdesk/core';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { requireRoles } from '../auth/middleware';
import type { AppEnv } from '../http/env';
import { etagOf, versionFromIfMatch } from '../http/etag';
import { bearerSecurity, body, json, problems } from '../http/openapi';
import { validationHook } from '../http/validation';
import {
  AssignSchema,
  CreateTicketSchema,
  DeliverySchema,
  EventSchema,
  eventJson,
  IdParam,
  LinkIdParam,
  LinkInputSchema,
  LinkSchema,
  ListQuerySchema,
  linkJson,
  MessageSchema,
  NoteSchema,
  TicketPageSchema,
  TicketSchema,
  TimelineQuerySchema,
  TimelineSchema,
  TransitionSchema,
  ticketJson,
  UpdateTicketSchema,
} from './ticket-schemas';

const security = bearerSecurity;
const ifMatch = z.object({
  'if-match': z.string().optional().openapi({ description: 'ETag of the version being changed, e.g. W/"3"' }),
});

const DeliveryParam = z.object({
  id: z.string().uuid(),
  deliveryId: z.string().uuid(),
});

const stated = z.string().min(1).max(200);
const VerificationBody = z
  .object({
    party: z.enum(['patient', 'proxy']),
    proxy: z
      .string()
      .max(200)
      .optional()
      .openapi({ description: 'RelatedPerson/<id> or Patient/<id>#contact[<n>] (required for a proxy)' }),
    stated: z
      .object({
        birthDate: z
          .string()
          .regex(/^\d{4}-\d{2}-\d{2}$/)
          .optional(),
        postalCode: stated.optional(),
        memberId: stated.optional(),
        phone: stated.optional(),
      })
      .strict(),
  })
  .strict()
  .refine((b) => b.party === 'patient' || Boolean(b.proxy), { message: 'a proxy needs proxy', path: ['proxy'] })
  .openapi('CallerVerificationInput');
const VerificationSchema = z
  .object({
    id: z.string(),
    outcome: z.enum(['verified', 'failed']),
    party: z.enum(['patient', 'proxy']),
    proxy: z.string().nullable(),
    matched: z.array(z.string()),
    mismatched: z.array(z.string()),
    verifiedAt: z.string(),
  })
  .openapi('CallerVerification');

export function ticketRoutes(deps: {
  database: Database;
  tickets: TicketService;
  deliveries: DeliveryService;
  verifications: VerificationService;
}) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  const staff = requireRoles(deps.database, 'agent', 'billing', 'supervisor', 'admin');

  app.openapi(
    createRoute({
      method: 'post',
      path: '/',
      tags: ['Tickets'],
      summary: 'Create a ticket',
      security,
      middleware: [staff] as const,
      request: body(CreateTicketSchema),
      responses: { 201: json(TicketSchema, 'Created'), ...problems(400, 401, 403, 409, 413, 415) },
    }),
    async (c) => {
      const ticket = await deps.tickets.create(c.get('actor'), c.req.valid('json'));
      c.header('ETag', etagOf(ticket.version));
      c.header('Location', `/api/v1/tickets/${ticket.id}`);
      return c.json(ticketJson(ticket), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags: ['Tickets'],
      summary: 'List and search tickets (cursor pagination, newest first)',
      security,
      middleware: [staff] as const,
      request: { query: ListQuerySchema },
      responses: { 200: json(TicketPageSchema, 'A page of tickets'), ...problems(400, 401, 403) },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const page = await deps.tickets.list(c.get('actor'), {
        status: q.status,
        category: q.category,
        priority: q.priority,
        queue: q.queue,
        assigneeId: q.assignee,
        patient: q.patient,
        q: q.q,
        sort: q.sort,
        cursor: q.cursor,
        limit: q.limit,
      });
      return c.json({ items: page.items.map(ticketJson), nextCursor: page.nextCursor }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/{id}',
      tags: ['Tickets'],
      summary: 'Get a ticket with its links',
      security,
      middleware: [staff] as const,
      request: { params: IdParam },
      responses: { 200: json(TicketSchema, 'The ticket'), ...problems(400, 401, 403, 404) },
    }),
    async (c) => {
      const ticket = await deps.tickets.get(c.get('actor'), c.req.valid('param').id);
      c.header('ETag', etagOf(ticket.version));
      return c.json(ticketJson(ticket), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/{id}',
      tags: ['Tickets'],
      summary: 'Update ticket fields (requires If-Match; a stale version gets 412 with the current one)',
      security,
      middleware: [staff] as const,
      request: { params: IdParam, headers: ifMatch, ...body(UpdateTicketSchema) },
      responses: { 200: json(TicketSchema, 'Updated'), ...problems(400, 401, 403, 404, 412, 428) },
    }),
    async (c) => {
      const version = versionFromIfMatch(c.req.header('if-match'), true);
      const ticket = await deps.tickets.update(c.get('actor'), c.req.valid('param').id, version, c.req.valid('json'));
      c.header('ETag', etagOf(ticket.version));
      return c.json(ticketJson(ticket), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/{id}/status',
      tags: ['Tickets'],
      summary: 'Change status (a disallowed transition gets 409 naming the allowed ones)',
      security,
      middleware: [staff] as const,
      request: { params: IdParam, headers: ifMatch, ...body(TransitionSchema) },
      responses: { 200: json(TicketSchema, 'Transitioned'), ...problems(400, 401, 403, 404, 409, 412) },
    }),
    async (c) => {
      const { status, reason } = c.req.valid('json');
      const ticket = await deps.tickets.transition(c.get('actor'), c.req.valid('param').id, status, {
        reason,
        expectedVersion: versionFromIfMatch(c.req.header('if-match'), false),
      });
      c.header('ETag', etagOf(ticket.version));
      return c.json(ticketJson(ticket), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/{id}/assignment',
      tags: ['Tickets'],
      summary: 'Assign (or unassign with null)',
      security,
      middleware: [staff] as const,
      request: { params: IdParam, headers: ifMatch, ...body(AssignSchema) },
      responses: { 200: json(TicketSchema, 'Assigned'), ...problems(400, 401, 403, 404, 412) },
    }),
    async (c) => {
      const ticket = await deps.tickets.assign(
        c.get('actor'),
        c.req.valid('param').id,
        c.req.valid('json').assigneeId,
        {
          expectedVersion: versionFromIfMatch(c.req.header('if-match'), false),
        },
      );
      c.header('ETag', etagOf(ticket.version));
      return c.json(ticketJson(ticket), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/{id}/messages',
      tags: ['Timeline'],
      summary: 'Add a message (inbound or outbound, per channel); a reply nobody can receive gets 422 no-recipient',
      security,
      middleware: [staff] as const,
      request: { params: IdParam, ...body(MessageSchema) },
      responses: { 201: json(EventSchema, 'Added'), ...problems(400, 401, 403, 404, 409, 422) },
    }),
    async (c) =>
      c.json(
        eventJson(await deps.tickets.addMessage(c.get('actor'), c.req.valid('param').id, c.req.valid('json'))),
        201,
      ),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/{id}/deliveries/{deliveryId}/retry',
      tags: ['Timeline'],
      summary: 'Retry a failed reply delivery now (409 unless it failed)',
      security,
      middleware: [staff] as const,
      request: { params: DeliveryParam },
      responses: { 200: json(DeliverySchema, 'Queued again'), ...problems(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const { id, deliveryId } = c.req.valid('param');
      return c.json(deliveryView(await deps.deliveries.retryNow(c.get('actor'), id, deliveryId)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/{id}/verification',
      tags: ['Tickets'],
      summary: 'Verify the caller (patient or listed proxy) against the cached Patient; 422 names unmatched fields',
      security,
      middleware: [staff] as const,
      request: { params: IdParam, ...body(VerificationBody) },
      responses: { 201: json(VerificationSchema, 'Verified'), ...problems(400, 401, 403, 404, 409, 422) },
    }),
    async (c) =>
      c.json(await deps.verifications.verify(c.get('actor'), c.req.valid('param').id, c.req.valid('json')), 201),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/{id}/notes',
      tags: ['Timeline'],
      summary: 'Add an internal note (never sent to the patient)',
      security,
      middleware: [staff] as const,
      request: { params: IdParam, ...body(NoteSchema) },
      responses: { 201: json(EventSchema, 'Added'), ...problems(400, 401, 403, 404) },
    }),
    async (c) =>
      c.json(eventJson(await deps.tickets.addNote(c.get('actor'), c.req.valid('param').id, c.req.valid('json'))), 201),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/{id}/links',
      tags: ['Links'],
      summary: 'Link a FHIR resource (Patient, Coverage, Claim, ClaimResponse, ExplanationOfBenefit, Account)',
      security,
      middleware: [staff] as const,
      request: { params: IdParam, ...body(LinkInputSchema) },
      responses: { 201: json(LinkSchema, 'Linked'), ...problems(400, 401, 403, 404, 409) },
    }),
    async (c) =>
      c.json(linkJson(await deps.tickets.link(c.get('actor'), c.req.valid('param').id, c.req.valid('json'))), 201),
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/{id}/links/{linkId}',
      tags: ['Links'],
      summary: 'Unlink a FHIR resource',
      security,
      middleware: [staff] as const,
      request: { params: LinkIdParam },
      responses: { 204: { description: 'Unlinked' }, ...problems(400, 401, 403, 404) },
    }),
    async (c) => {
      const { id, linkId } = c.req.valid('param');
      await deps.tickets.unlink(c.get('actor'), id, linkId);
      return c.body(null, 204);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/{id}/timeline',
      tags: ['Timeline'],
      summary: 'The ticket timeline, oldest first (page with ?after=<seq>)',
      security,
      middleware: [staff] as const,
      request: { params: IdParam, query: TimelineQuerySchema },
      responses: { 200: json(TimelineSchema, 'Events'), ...problems(400, 401, 403, 404) },
    }),
    async (c) => {
      const page = await deps.tickets.timeline(c.get('actor'), c.req.valid('param').id, c.req.valid('query'));
      return c.json({ items: page.items.map(eventJson), nextCursor: page.nextCursor }, 200);
    },
  );

  return app;
}
