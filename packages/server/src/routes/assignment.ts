// /api/v1/assignment: agents' queues, languages and availability, and each queue's assignment
// strategy (supervisors and admins; every change audited).
import { type AssignmentSettingsService, assignmentStrategies, type Database } from '@fhirdesk/core';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { requireRoles } from '../auth/middleware';
import type { AppEnv } from '../http/env';
import { bearerSecurity, body, json, problems } from '../http/openapi';
import { validationHook } from '../http/validation';
import { IdParam } from './ticket-schemas';

const queueName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'must be a queue name (lower-case letters, digits, dashes)');
const language = z.string().regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$/, 'must be a BCP 47 language tag');

const AgentSkillsSchema = z
  .object({
    userId: z.string(),
    displayName: z.string(),
    languages: z.array(z.string()),
    queues: z.array(z.string()),
    available: z.boolean(),
    maxOpen: z.number().int().nullable(),
  })
  .openapi('AgentSkills');
const SetAgentSkillsSchema = z
  .object({
    queues: z.array(queueName).max(50),
    languages: z.array(language).max(10).optional(),
    available: z.boolean(),
    maxOpen: z.number().int().min(0).max(10_000).nullable().optional(),
  })
  .strict()
  .openapi('SetAgentSkills');
const QueuePolicySchema = z
  .object({ queue: z.string(), strategy: z.enum(assignmentStrategies), languageFallback: z.boolean() })
  .openapi('QueuePolicy');
const SetQueuePolicySchema = z
  .object({ strategy: z.enum(assignmentStrategies), languageFallback: z.boolean().optional() })
  .strict()
  .openapi('SetQueuePolicy');
const QueueParam = z.object({ queue: queueName.openapi({ param: { name: 'queue', in: 'path' } }) });

export function assignmentRoutes(deps: { database: Database; assignment: AssignmentSettingsService }) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  const supervisors = requireRoles(deps.database, 'supervisor', 'admin');
  const tags = ['Assignment'];

  app.openapi(
    createRoute({
      method: 'get',
      path: '/agents',
      tags,
      summary: "The tenant's active users with their queues, languages and availability",
      security: bearerSecurity,
      middleware: [supervisors] as const,
      responses: { 200: json(z.object({ items: z.array(AgentSkillsSchema) }), 'Agents'), ...problems(403) },
    }),
    async (c) => c.json({ items: await deps.assignment.listAgents(c.get('actor')) }, 200),
  );
  app.openapi(
    createRoute({
      method: 'put',
      path: '/agents/{id}',
      tags,
      summary: 'Set the queues an agent serves, their languages, availability and open-ticket cap',
      security: bearerSecurity,
      middleware: [supervisors] as const,
      request: { params: IdParam, ...body(SetAgentSkillsSchema) },
      responses: { 200: json(AgentSkillsSchema, 'Updated'), ...problems(400, 403, 404) },
    }),
    async (c) =>
      c.json(await deps.assignment.setAgentSkills(c.get('actor'), c.req.valid('param').id, c.req.valid('json')), 200),
  );
  app.openapi(
    createRoute({
      method: 'put',
      path: '/me/availability',
      tags,
      summary: 'Go on or off shift: whether new tickets of your queues may be assigned to you',
      security: bearerSecurity,
      middleware: [requireRoles(deps.database, 'agent', 'billing', 'supervisor', 'admin')] as const,
      request: body(z.object({ available: z.boolean() }).strict().openapi('SetAvailability')),
      responses: { 200: json(AgentSkillsSchema, 'Updated'), ...problems(400, 403, 404) },
    }),
    async (c) => c.json(await deps.assignment.setOwnAvailability(c.get('actor'), c.req.valid('json').available), 200),
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/queues',
      tags,
      summary: 'Assignment strategy of each configured queue',
      security: bearerSecurity,
      middleware: [supervisors] as const,
      responses: { 200: json(z.object({ items: z.array(QueuePolicySchema) }), 'Queues'), ...problems(403) },
    }),
    async (c) => c.json({ items: await deps.assignment.listQueues(c.get('actor')) }, 200),
  );
  app.openapi(
    createRoute({
      method: 'put',
      path: '/queues/{queue}',
      tags,
      summary: 'Set how a queue assigns new tickets: round-robin, least-loaded or manual',
      security: bearerSecurity,
      middleware: [supervisors] as const,
      request: { params: QueueParam, ...body(SetQueuePolicySchema) },
      responses: { 200: json(QueuePolicySchema, 'Updated'), ...problems(400, 403) },
    }),
    async (c) =>
      c.json(
        await deps.assignment.setQueuePolicy(c.get('actor'), c.req.valid('param').queue, c.req.valid('json')),
        200,
      ),
  );
  return app;
}
