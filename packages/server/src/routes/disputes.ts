// /api/v1/disputes (claim disputes, issue 5) and /api/v1/claims/{type}/{id}/summary. Billing roles get the
// whole record; an agent gets the patient-facing summary only, shaped in core (HIPAA-07).
import {
  type Clock,
  type Database,
  DISPUTE_OUTCOMES,
  DISPUTE_REASON_CATEGORIES,
  DISPUTE_STAGES,
  DisputeService,
  PAYER_CONTACT_CHANNELS,
  ticketChannels,
  ticketPriorities,
} from '@fhirdesk/core';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { requireRoles } from '../auth/middleware';
import type { AppEnv } from '../http/env';
import { etagOf, versionFromIfMatch } from '../http/etag';
import { bearerSecurity, body, problems } from '../http/openapi';
import { validationHook } from '../http/validation';

const security = bearerSecurity;
const noNul = (s: string) => !s.includes('\u0000');
const text = (max: number) => z.string().trim().min(1).max(max).refine(noNul, 'must not contain NUL characters');
const amount = z
  .string()
  .regex(/^\d{1,13}(\.\d{1,4})?$/, 'a non-negative decimal string, e.g. "120.50"')
  .openapi({ example: '120.50' });
const currency = z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code, e.g. USD');
const fhirDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a FHIR date, e.g. 2024-03-01');
const ref = z.string().min(3).max(2048).refine(noNul, 'must not contain NUL characters');
const uuid = z.string().uuid('must be a UUID');
/** `a,b` or repeated parameters, validated against a closed list. */
const listOf = <T extends readonly [string, ...string[]]>(values: T) =>
  z
    .union([z.string(), z.array(z.string())])
    .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(z.enum(values)))
    .optional();

const CreateDisputeSchema = z
  .object({
    claim: ref.optional().openapi({ example: 'Claim/100150' }),
    adjudication: ref.optional().openapi({ example: 'ExplanationOfBenefit/EB3500' }),
    payerClaimNumber: text(64).optional(),
    sourceId: uuid.optional(),
    coverage: ref.optional(),
    patient: ref.optional(),
    reasonCategory: z.enum(DISPUTE_REASON_CATEGORIES),
    disputedAmount: amount.optional(),
    currency: currency.optional(),
    payerId: text(128).optional(),
    payerName: text(200).optional(),
    adjudicationDate: fhirDate.optional(),
    subject: text(200).optional(),
    description: z.string().max(10_000).refine(noNul).optional(),
    queue: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,63}$/)
      .optional(),
    priority: z.enum(ticketPriorities).optional(),
    assigneeId: uuid.nullable().optional(),
    channel: z.enum(ticketChannels).optional(),
  })
  .strict()
  .refine((v) => v.claim || v.adjudication || v.payerClaimNumber, {
    message: 'give claim, adjudication or payerClaimNumber (FIN-11)',
    path: ['claim'],
  });

const UpdateDisputeSchema = z
  .object({
    reasonCategory: z.enum(DISPUTE_REASON_CATEGORIES).optional(),
    disputedAmount: amount.nullable().optional(),
    currency: currency.optional(),
    payerId: text(128).nullable().optional(),
    payerName: text(200).nullable().optional(),
    payerClaimNumber: text(64).nullable().optional(),
    adjudicationDate: fhirDate.nullable().optional(),
  })
  .strict();

const StageSchema = z
  .object({
    to: z.enum(DISPUTE_STAGES),
    outcome: z.enum(DISPUTE_OUTCOMES).optional(),
    recoveredAmount: amount.optional(),
    note: z.string().max(10_000).refine(noNul).optional(),
  })
  .strict();

const OutcomeSchema = z
  .object({
    outcome: z.enum(DISPUTE_OUTCOMES),
    recoveredAmount: amount.optional(),
    note: z.string().max(10_000).refine(noNul).optional(),
  })
  .strict();

const PayerContactSchema = z
  .object({
    channel: z.enum(PAYER_CONTACT_CHANNELS),
    summary: text(10_000),
    referenceNumber: text(128).optional(),
    contactName: text(200).optional(),
    occurredAt: z.string().datetime({ offset: true }).optional(),
  })
  .strict();

const BulkAssignSchema = z.object({ ticketIds: z.array(uuid).min(1).max(200), assigneeId: uuid.nullable() }).strict();

const QueueFilters = {
  stage: listOf(DISPUTE_STAGES),
  reason: listOf(DISPUTE_REASON_CATEGORIES),
  payer: z.string().min(1).max(128).optional(),
  assignee: uuid.optional(),
  deadlineFrom: z.string().datetime({ offset: true }).or(fhirDate).optional(),
  deadlineTo: z.string().datetime({ offset: true }).or(fhirDate).optional(),
  amountMin: amount.optional(),
  amountMax: amount.optional(),
  sort: z.enum(['deadline', 'amount']).optional(),
};
const QueueQuerySchema = z
  .object({
    ...QueueFilters,
    cursor: z.string().max(512).optional(),
    limit: z.coerce.number().int().min(1).max(200).optional(),
  })
  .strict();
const ExportQuerySchema = z.object(QueueFilters).strict();

const IdParam = z.object({ id: uuid });
const AnyJson = z.record(z.string(), z.unknown()).openapi('DisputeView');
const json = (description: string) => ({ content: { 'application/json': { schema: AnyJson } }, description });

type QueueQuery = z.infer<typeof QueueQuerySchema>;
function queueQuery(q: Partial<QueueQuery>) {
  return {
    stage: q.stage,
    reasonCategory: q.reason,
    payerId: q.payer,
    assigneeId: q.assignee,
    deadlineFrom: q.deadlineFrom,
    deadlineTo: q.deadlineTo,
    amountMin: q.amountMin,
    amountMax: q.amountMax,
    sort: q.sort,
    cursor: q.cursor,
    limit: q.limit,
  };
}

/** What the dispute routes need; `createApp`'s deps satisfy it. */
export interface DisputeRouteDeps {
  database: Database;
  clock?: Clock | undefined;
  sealer?: { schedule(tenantId: string): void };
}

export function disputeServiceOf(deps: DisputeRouteDeps): DisputeService {
  return new DisputeService({
    database: deps.database,
    ...(deps.clock ? { clock: deps.clock } : {}),
    afterCommit: (actor) => deps.sealer?.schedule(actor.tenantId),
  });
}

export function disputeRoutes(routeDeps: DisputeRouteDeps) {
  const deps = { database: routeDeps.database, disputes: disputeServiceOf(routeDeps) };
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  // Deny by default: the work queue and every write are billing work; agents read the shaped view only.
  const billing = requireRoles(deps.database, 'billing', 'supervisor', 'admin');
  const staff = requireRoles(deps.database, 'agent', 'billing', 'supervisor', 'admin');

  app.openapi(
    createRoute({
      method: 'post',
      path: '/',
      tags: ['Disputes'],
      summary:
        'Open a claim dispute (ticket, dispute record and links in one transaction). Agents may open one for a ' +
        'cached claim ("dispute this claim"); payer details, queue and assignee are billing-only (403).',
      security,
      // Agents open disputes from the patient view; everything after intake stays billing work (HIPAA-07).
      middleware: [staff] as const,
      request: body(CreateDisputeSchema),
      responses: { 201: json('Created'), ...problems(400, 401, 403, 404, 409, 422) },
    }),
    async (c) => {
      const view = await deps.disputes.create(c.get('actor'), c.req.valid('json'));
      c.header('Location', `/api/v1/disputes/${view.ticketId}`);
      return c.json(view as unknown as Record<string, unknown>, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags: ['Disputes'],
      summary:
        'Work queue: filter by stage, payer, reason, deadline window, amount, assignee; sort by deadline or amount',
      security,
      middleware: [billing] as const,
      request: { query: QueueQuerySchema },
      responses: { 200: json('A page of disputes'), ...problems(400, 401, 403) },
    }),
    async (c) => {
      const page = await deps.disputes.list(c.get('actor'), queueQuery(c.req.valid('query')));
      return c.json(page as unknown as Record<string, unknown>, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/export.csv',
      tags: ['Disputes'],
      summary: 'The filtered work queue as CSV (formula cells neutralised)',
      security,
      middleware: [billing] as const,
      request: { query: ExportQuerySchema },
      responses: {
        200: { content: { 'text/csv': { schema: z.string() } }, description: 'CSV' },
        ...problems(400, 401, 403),
      },
    }),
    async (c) => {
      const csv = await deps.disputes.exportCsv(c.get('actor'), queueQuery(c.req.valid('query')));
      return c.body(csv, 200, {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': 'attachment; filename="disputes.csv"',
      });
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/assignment',
      tags: ['Disputes'],
      summary: 'Assign several disputes at once (all or none)',
      security,
      middleware: [billing] as const,
      request: body(BulkAssignSchema),
      responses: { 200: json('Assigned'), ...problems(400, 401, 403, 404) },
    }),
    async (c) => {
      const { ticketIds, assigneeId } = c.req.valid('json');
      return c.json(await deps.disputes.bulkAssign(c.get('actor'), ticketIds, assigneeId), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/{id}',
      tags: ['Disputes'],
      summary: 'A dispute, shaped by role (agents: status, patient share and plain reasons only)',
      security,
      middleware: [staff] as const,
      request: { params: IdParam },
      responses: { 200: json('The dispute'), ...problems(400, 401, 403, 404) },
    }),
    async (c) => {
      const view = await deps.disputes.get(c.get('actor'), c.req.valid('param').id);
      if (view.view === 'full') c.header('ETag', etagOf(view.version));
      return c.json(view as unknown as Record<string, unknown>, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/{id}',
      tags: ['Disputes'],
      summary: 'Update dispute fields (If-Match optional; a stale version gets 412)',
      security,
      middleware: [billing] as const,
      request: { params: IdParam, ...body(UpdateDisputeSchema) },
      responses: { 200: json('Updated'), ...problems(400, 401, 403, 404, 409, 412) },
    }),
    async (c) => {
      const version = versionFromIfMatch(c.req.header('if-match'), false);
      const view = await deps.disputes.update(c.get('actor'), c.req.valid('param').id, version, c.req.valid('json'));
      if (view.view === 'full') c.header('ETag', etagOf(view.version));
      return c.json(view as unknown as Record<string, unknown>, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/{id}/stage',
      tags: ['Disputes'],
      summary: 'Move the dispute stage (a disallowed move gets 409 naming the allowed stages)',
      security,
      middleware: [billing] as const,
      request: { params: IdParam, ...body(StageSchema) },
      responses: { 200: json('Moved'), ...problems(400, 401, 403, 404, 409, 412) },
    }),
    async (c) => {
      const version = versionFromIfMatch(c.req.header('if-match'), false);
      const view = await deps.disputes.moveStage(c.get('actor'), c.req.valid('param').id, c.req.valid('json'), version);
      return c.json(view as unknown as Record<string, unknown>, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/{id}/outcome',
      tags: ['Disputes'],
      summary: "Record the payer's decision and the amount recovered",
      security,
      middleware: [billing] as const,
      request: { params: IdParam, ...body(OutcomeSchema) },
      responses: { 200: json('Recorded'), ...problems(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const view = await deps.disputes.recordOutcome(c.get('actor'), c.req.valid('param').id, c.req.valid('json'));
      return c.json(view as unknown as Record<string, unknown>, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/{id}/payer-contacts',
      tags: ['Disputes'],
      summary: 'Log a contact with the payer (timeline event)',
      security,
      middleware: [billing] as const,
      request: { params: IdParam, ...body(PayerContactSchema) },
      responses: { 201: json('Logged'), ...problems(400, 401, 403, 404) },
    }),
    async (c) => {
      const event = await deps.disputes.logPayerContact(c.get('actor'), c.req.valid('param').id, c.req.valid('json'));
      return c.json(
        {
          id: event.id,
          seq: event.seq,
          type: event.type,
          body: event.body,
          data: event.data,
          createdAt: event.createdAt.toISOString(),
        },
        201,
      );
    },
  );

  return app;
}

const ClaimParams = z.object({
  type: z.enum(['ExplanationOfBenefit', 'ClaimResponse']),
  id: z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, 'a FHIR id'),
});

/** GET /api/v1/claims/{type}/{id}/summary: financial summary of a cached adjudication, role-shaped (VIEW-03). */
export function claimRoutes(routeDeps: DisputeRouteDeps) {
  const deps = { database: routeDeps.database, disputes: disputeServiceOf(routeDeps) };
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  const staff = requireRoles(deps.database, 'agent', 'billing', 'supervisor', 'admin');
  app.openapi(
    createRoute({
      method: 'get',
      path: '/{type}/{id}/summary',
      tags: ['Disputes'],
      summary: 'Financial summary and plain-language explanation of a cached EOB or ClaimResponse',
      security,
      middleware: [staff] as const,
      request: { params: ClaimParams, query: z.object({ source: uuid.optional() }).strict() },
      responses: { 200: json('The summary'), ...problems(400, 401, 403, 404) },
    }),
    async (c) => {
      const { type, id } = c.req.valid('param');
      const view = await deps.disputes.claimSummary(c.get('actor'), type, id, c.req.valid('query').source);
      return c.json(view as unknown as Record<string, unknown>, 200);
    },
  );
  return app;
}
