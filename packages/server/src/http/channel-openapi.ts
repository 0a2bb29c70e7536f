// OpenAPI entries for the channel routes (inbound webhooks, conversations, metrics, escalations,
// surveys). Those handlers read raw bodies (signatures, form posts) and validate with the same zod
// schemas referenced here, so the document describes exactly what they accept.
import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from '@hono/zod-openapi';
import { AcknowledgeSchema, EscalateSchema } from '../routes/escalations';
import { IntegrationKeyBody, inboundSchemas, PatientBody, RoutingBody } from '../routes/inbound';
import { MetricsQuerySchema } from '../routes/metrics';
import { bearerSecurity, body, json, problems } from './openapi';

const Durations = z.object({
  count: z.number().int(),
  medianSeconds: z.number().nullable(),
  p90Seconds: z.number().nullable(),
});
const Counts = z.record(z.string(), z.number().int());
const DeskMetricsSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    tickets: z.number().int(),
    volumeByChannel: Counts,
    volumeByCategory: Counts,
    volumeByQueue: Counts,
    volumeByAgent: Counts,
    firstContactResolution: z.object({
      resolved: z.number().int(),
      firstContact: z.number().int(),
      rate: z.number().nullable(),
    }),
    timeToFirstResponse: Durations,
    timeToResolution: Durations,
    sla: z.object({ tracked: z.number().int(), breached: z.number().int(), compliance: z.number().nullable() }),
    reopen: z.object({ resolved: z.number().int(), reopened: z.number().int(), rate: z.number().nullable() }),
    routing: z.object({ triaged: z.number().int(), corrected: z.number().int(), accuracy: z.number().nullable() }),
    escalations: z.object({ total: z.number().int(), writtenBack: z.number().int(), queued: z.number().int() }),
    csat: z.object({
      answers: z.number().int(),
      average: z.number().nullable(),
      satisfied: z.number().int(),
      satisfactionRate: z.number().nullable(),
    }),
    nps: z.object({
      answers: z.number().int(),
      promoters: z.number().int(),
      detractors: z.number().int(),
      score: z.number().nullable(),
    }),
  })
  .openapi('DeskMetrics');
const InboundResultSchema = z
  .object({
    outcome: z.enum(['created', 'threaded', 'duplicate']),
    ticketId: z.string(),
    ticketNumber: z.number().int(),
    eventId: z.string(),
    replyToken: z.string(),
    patient: z.object({ status: z.enum(['matched', 'ambiguous', 'unmatched']), reference: z.string().nullable() }),
    threadedBy: z.enum(['reply-token', 'ticket-reference', 'sender-window']).nullable(),
  })
  .passthrough()
  .openapi('InboundResult');
const EscalationResultSchema = z
  .object({
    escalation: z.object({ id: z.string(), status: z.enum(['written-back', 'queued']), taskId: z.string().nullable() }),
    writtenBack: z.boolean(),
    problem: z.string().nullable(),
  })
  .passthrough()
  .openapi('EscalationResult');
const idParam = z.object({ id: z.string().uuid() });
const tokenParam = z.object({ token: z.string() });
const inboundSecurity: Record<string, string[]>[] = [{ integrationApiKey: [] }, { integrationSignature: [] }];

type Registry = OpenAPIHono['openAPIRegistry'];

export function registerChannelPaths(registry: Registry): void {
  registry.registerComponent('securitySchemes', 'integrationApiKey', {
    type: 'apiKey',
    in: 'header',
    name: 'X-Api-Key',
    description: 'Integration API key (stored hashed, HIPAA-09)',
  });
  registry.registerComponent('securitySchemes', 'integrationSignature', {
    type: 'apiKey',
    in: 'header',
    name: 'X-Fhirdesk-Signature',
    description: '`t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">` with the key id in X-Fhirdesk-Key-Id',
  });

  for (const channel of ['email', 'sms', 'chat', 'portal'] as const) {
    registry.registerPath({
      method: 'post',
      path: `/inbound/${channel}`,
      tags: ['Channels'],
      summary: `Receive one ${channel} message (idempotent by messageId)`,
      security: inboundSecurity,
      request: {
        body: {
          required: true,
          content: {
            'application/json': { schema: inboundSchemas[channel] },
            ...(channel === 'sms'
              ? {
                  'application/x-www-form-urlencoded': {
                    schema: z.object({ MessageSid: z.string(), From: z.string(), Body: z.string() }),
                  },
                }
              : {}),
          },
        },
      },
      responses: {
        200: json(InboundResultSchema, 'A duplicate delivery: the first result again'),
        201: json(InboundResultSchema, 'A new triaged ticket, or the message threaded onto an existing one'),
        ...problems(400, 401, 413),
      },
    });
  }
  registry.registerPath({
    method: 'post',
    path: '/api/v1/conversations/integration-keys',
    tags: ['Channels'],
    summary: 'Create a named inbound integration credential (admin); the secrets are shown only once',
    security: bearerSecurity,
    request: body(IntegrationKeyBody),
    responses: { 201: json(z.object({}).passthrough(), 'Created'), ...problems(400, 403) },
  });
  registry.registerPath({
    method: 'put',
    path: '/api/v1/conversations/tickets/{id}/patient',
    tags: ['Channels'],
    summary: 'Link (or unlink) the patient of an inbound ticket',
    security: bearerSecurity,
    request: { params: idParam, ...body(PatientBody) },
    responses: {
      200: json(z.object({ id: z.string(), patientRef: z.string().nullable(), version: z.number() }), 'Updated'),
      ...problems(400, 403, 404),
    },
  });
  registry.registerPath({
    method: 'put',
    path: '/api/v1/conversations/tickets/{id}/routing',
    tags: ['Channels'],
    summary: "Correct triage's category or queue (counts against routing accuracy)",
    security: bearerSecurity,
    request: { params: idParam, ...body(RoutingBody) },
    responses: {
      200: json(z.object({ id: z.string(), category: z.string(), queue: z.string(), version: z.number() }), 'Updated'),
      ...problems(400, 403, 404),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/metrics',
    tags: ['Metrics'],
    summary: 'Desk metrics of the tickets created in [from, to) (supervisor, admin; docs/metrics.md)',
    security: bearerSecurity,
    request: { query: MetricsQuerySchema },
    responses: { 200: json(DeskMetricsSchema, 'Metrics'), ...problems(400, 403) },
  });
  registry.registerPath({
    method: 'post',
    path: '/api/v1/escalations',
    tags: ['Escalations'],
    summary: 'Escalate a ticket to clinical staff: FHIR Task + Communication on the EHR, or queued',
    security: bearerSecurity,
    request: body(EscalateSchema),
    responses: {
      201: json(EscalationResultSchema, 'Written back to the EHR'),
      202: json(EscalationResultSchema, 'Queued: write-back unavailable'),
      ...problems(400, 403, 404),
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/api/v1/escalations/{id}/retry',
    tags: ['Escalations'],
    summary: 'Retry a queued escalation (idempotent on the EHR by identifier)',
    security: bearerSecurity,
    request: { params: idParam, ...body(EscalateSchema.omit({ ticketId: true, sourceId: true })) },
    responses: {
      200: json(EscalationResultSchema, 'Written back'),
      202: json(EscalationResultSchema, 'Still queued'),
      ...problems(400, 403, 404),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/escalations',
    tags: ['Escalations'],
    summary: 'List escalations (supervisor, admin)',
    security: bearerSecurity,
    request: { query: z.object({ status: z.enum(['queued', 'written-back']).optional() }) },
    responses: {
      200: json(z.object({ items: z.array(z.object({}).passthrough()) }), 'Escalations'),
      ...problems(400, 403),
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/api/v1/escalations/acknowledgements',
    tags: ['Escalations'],
    summary: "Record that the agent read a red-flag ticket's safety script to the patient",
    security: bearerSecurity,
    request: body(AcknowledgeSchema),
    responses: {
      201: json(z.object({ eventId: z.string(), acknowledgedAt: z.string() }), 'Recorded'),
      200: json(z.object({ eventId: z.string(), acknowledgedAt: z.string() }), 'Already acknowledged by this agent'),
      ...problems(400, 403, 404, 409),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/survey/{token}',
    tags: ['Surveys'],
    summary: 'The CSAT survey page (signed single-use token, no PHI)',
    request: { params: tokenParam },
    responses: {
      200: { description: 'HTML form', content: { 'text/html': { schema: z.string() } } },
      ...problems(404, 409),
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/survey/{token}',
    tags: ['Surveys'],
    summary: 'Answer the survey once: rating 1–5, optional 0–10 NPS and comment (JSON or form)',
    request: {
      params: tokenParam,
      body: {
        required: true,
        content: {
          'application/json': {
            schema: z.object({
              rating: z.number().int().min(1).max(5),
              nps: z.number().int().min(0).max(10).optional(),
              comment: z.string().max(2000).optional(),
            }),
          },
        },
      },
    },
    responses: {
      201: json(z.object({ rating: z.number(), nps: z.number().nullable(), answeredAt: z.string() }), 'Recorded'),
      ...problems(400, 404, 409),
    },
  });
}
