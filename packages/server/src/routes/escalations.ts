// /api/v1/escalations: escalate a ticket to the EHR clinical team (Task + Communication), list and
// retry queued escalations. Agents escalate; supervisors and admins also see the queue.
import {
  type AuditSealer,
  acknowledgeSafetyPrompt,
  type Clock,
  type Database,
  EscalationService,
  escalationOwnerPattern,
  escalationPerformerTypes,
  listEscalations,
  restrictEscalation,
  ValidationError,
} from '@fhirdesk/core';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { z } from 'zod';
import { requireRoles } from '../auth/middleware';
import type { AppEnv } from '../http/env';

const reference = z
  .string()
  .regex(escalationOwnerPattern, 'must be an Organization, PractitionerRole, CareTeam or Practitioner reference');
export const EscalateSchema = z.strictObject({
  ticketId: z.uuid(),
  reason: z.string().min(1).max(500),
  message: z.string().min(1).max(4000),
  priority: z.enum(['routine', 'urgent', 'asap', 'stat']).optional(),
  owner: reference.optional(),
  /** Task.performerType (SNOMED CT + HL7 practitioner-role codes); also picks the source's configured owner. */
  performerType: z.enum(escalationPerformerTypes).optional(),
  callback: z.string().max(200).optional(),
  sourceId: z.uuid().optional(),
});
const RetrySchema = EscalateSchema.omit({ ticketId: true, sourceId: true });
export const AcknowledgeSchema = z.strictObject({ ticketId: z.uuid() });

async function parse<T extends z.ZodType>(c: { req: { json(): Promise<unknown> } }, schema: T): Promise<z.output<T>> {
  const parsed = schema.safeParse(await c.req.json());
  if (!parsed.success) {
    throw new ValidationError(
      'The request body is invalid',
      parsed.error.issues.map((i) => ({ field: i.path.map(String).join('.') || 'body', message: i.message })),
    );
  }
  return parsed.data;
}

export function escalationRoutes(deps: {
  database: Database;
  clock?: Clock;
  escalationFetch?: typeof fetch;
  sealer?: AuditSealer;
}) {
  const escalations = new EscalationService({
    database: deps.database,
    ...(deps.clock ? { clock: deps.clock } : {}),
    ...(deps.escalationFetch ? { fetch: deps.escalationFetch } : {}),
  });
  const app = new Hono<AppEnv>();
  const staff = requireRoles(deps.database, 'agent', 'supervisor', 'admin');
  app.post('/', staff, async (c) => {
    const { ticketId, ...input } = await parse(c, EscalateSchema);
    const result = await escalations.escalate(c.get('actor'), ticketId, input);
    return c.json(restrictEscalation(result), result.writtenBack ? 201 : 202);
  });
  // The agent read the red-flag safety script to the patient (timeline + audit).
  app.post('/acknowledgements', staff, async (c) => {
    const { ticketId } = await parse(c, AcknowledgeSchema);
    const actor = c.get('actor');
    const { event, created } = await acknowledgeSafetyPrompt(deps.database, actor, ticketId, deps.clock);
    deps.sealer?.schedule(actor.tenantId);
    return c.json({ eventId: event.id, acknowledgedAt: event.createdAt.toISOString() }, created ? 201 : 200);
  });
  app.post('/:id/retry', staff, async (c) => {
    const id = c.req.param('id');
    if (!/^[0-9a-f-]{36}$/i.test(id)) throw new HTTPException(404, { message: 'Escalation not found' });
    const result = await escalations.retry(c.get('actor'), id, await parse(c, RetrySchema));
    return c.json(restrictEscalation(result), result.writtenBack ? 200 : 202);
  });
  app.get('/', requireRoles(deps.database, 'supervisor', 'admin'), async (c) => {
    const status = c.req.query('status');
    if (status !== undefined && status !== 'queued' && status !== 'written-back') {
      throw new ValidationError('Invalid status', [{ field: 'status', message: 'queued or written-back' }]);
    }
    return c.json({ items: await listEscalations(deps.database, c.get('actor').tenantId, status) });
  });
  return app;
}
