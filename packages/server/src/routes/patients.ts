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

const FHIR_ID_PARAM = /^[A-Za-z0-9\-.]{1,64}$/;
const PatientIdParam = z.object({
  id: z
    .string()
    .regex(FHIR_ID_PARAM, 'must be a FHIR id')
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

  const contextRoute = createRoute({
    method: 'get',
    path: '/{id}/context',
    tags: ['Patients'],
    summary: 'Agent view of a patient: banner, coverages, claims with adjudication, tickets (each with its fetch time)',
    security: [{ bearerAuth: [] }],
    request: { params: PatientIdParam, query: ContextQuery },
    responses: {
      200: { content: { 'application/json': { schema: PatientContextSchema } }, description: 'The agent view' },
      ...problems(400, 401, 403, 404, 502),
    },
  });
  // Documented like every route, but validated by hand: this is the desk's hottest read, and zod's validators
  // cost a few per cent of it (bench:agent-view, issue #4). Anything the quick checks do not accept goes
  // through the same zod schemas and hook, so the answers to bad input are exactly those of `app.openapi`.
  app.openAPIRegistry.registerPath(contextRoute);
  app.get('/:id/context', staff, async (c) => {
    const id = c.req.param('id');
    let sourceId: string | undefined;
    if (!FHIR_ID_PARAM.test(id)) validationHook({ ...PatientIdParam.safeParse({ id }), target: 'param' });
    if (c.req.url.includes('?')) {
      const raw = Object.fromEntries(
        Object.entries(c.req.queries()).map(([k, v]) => (v.length === 1 ? [k, v[0]] : [k, v])),
      );
      const query = ContextQuery.safeParse(raw);
      validationHook({ ...query, target: 'query' });
      sourceId = query.data?.source;
    }
    const body = await context.getJson(c.get('actor'), id, { sourceId });
    // PostgreSQL assembled the role-shaped JSON (see PatientContextService.getJson); it passes through as text.
    return c.body(body, 200, { 'content-type': 'application/json' });
  });

  return app;
}
