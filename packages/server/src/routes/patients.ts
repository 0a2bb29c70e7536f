// /api/v1/patients/{id}/context: the agent view of one patient (issue #4, DESIGN §4), shaped per role (HIPAA-07).

import { type ConnectorDeps, refreshPatient } from '@fhirdesk/connectors';
import {
  type AuditSealer,
  type Clock,
  type Database,
  PatientContextService,
  type RefreshPatient,
} from '@fhirdesk/core';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { requireRoles } from '../auth/middleware';
import type { SmartDeps } from '../auth/smart-session';
import type { AppEnv } from '../http/env';
import { problems } from '../http/openapi';
import { validationHook } from '../http/validation';

const PatientIdParam = z.object({
  id: z
    .string()
    .regex(/^[A-Za-z0-9\-.]{1,64}$/, 'must be a FHIR id')
    .openapi({ param: { name: 'id', in: 'path' }, description: 'FHIR Patient.id as published by the source' }),
});

const ContextQuery = z.object({
  source: z
    .uuid()
    .optional()
    .openapi({ description: 'Source to read from when the same patient id exists in several sources' }),
});

const part = z.looseObject({});
const PatientContextSchema = z
  .looseObject({
    view: z.enum(['agent', 'billing']),
    patient: part,
    coverages: part,
    claims: part,
    tickets: part,
    warnings: z.array(z.looseObject({ code: z.literal('stale'), asOf: z.string().nullable(), message: z.string() })),
    refreshed: z.boolean(),
  })
  .openapi('PatientContext', {
    description:
      'Banner, coverages, claims with adjudication and tickets. `view: agent` omits allowed amounts and adjustments.',
  });

/** The agent view's refresher backed by the connectors' patient-scoped sync (wire it as `smart.refreshPatient`). */
export function patientRefresher(connectors: ConnectorDeps): RefreshPatient {
  return async (tenantId, sourceId, patientId, signal) => {
    await refreshPatient(connectors, { tenantId, sourceId, patientId, signal });
  };
}

export function patientRoutes(deps: { database: Database; sealer: AuditSealer; clock?: Clock; smart?: SmartDeps }) {
  const context = new PatientContextService({
    database: deps.database,
    clock: deps.clock,
    refreshPatient: deps.smart?.refreshPatient,
    maxAgeMs: deps.smart?.contextMaxAgeMs,
    refreshTimeoutMs: deps.smart?.refreshTimeoutMs,
    afterAudit: (actor) => deps.sealer.schedule(actor.tenantId),
  });
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  const staff = requireRoles(deps.database, 'agent', 'billing', 'supervisor', 'admin');

  app.openapi(
    createRoute({
      method: 'get',
      path: '/{id}/context',
      tags: ['Patients'],
      summary:
        'Agent view of a patient: banner, coverages, claims with adjudication, tickets (each with its fetch time)',
      security: [{ bearerAuth: [] }],
      middleware: [staff] as const,
      request: { params: PatientIdParam, query: ContextQuery },
      responses: {
        200: { content: { 'application/json': { schema: PatientContextSchema } }, description: 'The agent view' },
        ...problems(400, 401, 403, 404, 502),
      },
    }),
    async (c) => {
      const actor = c.get('actor');
      const body = await context.getJson(actor, c.req.valid('param').id, { sourceId: c.req.valid('query').source });
      // PostgreSQL assembled the role-shaped JSON (see PatientContextService.getJson); it passes through as text.
      return c.body(body, 200, { 'content-type': 'application/json' }) as never;
    },
  );

  return app;
}
