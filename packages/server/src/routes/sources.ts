// /api/v1/sources (roles integration, admin): configure EHR/payer connectors, test them, start syncs,
// read runs and dead letters. Secrets go in, never come out.

import type { SourceService, SyncScheduler } from '@fhirdesk/connectors';
import type { Database } from '@fhirdesk/core';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { requireRoles } from '../auth/middleware';
import type { AppEnv } from '../http/env';
import { bearerSecurity, body, json, problems } from '../http/openapi';
import { validationHook } from '../http/validation';
import { IdParam } from './ticket-schemas';

const kinds = ['fhir-r4', 'epic', 'oracle-health', 'sandbox'] as const;
const AuthSchema = z
  .object({
    mode: z.enum(['none', 'bearer', 'client-secret', 'backend-services']),
    clientId: z.string().min(1).max(200).optional(),
    tokenUrl: z.string().url().optional(),
    alg: z.enum(['RS384', 'ES384']).optional(),
    kid: z.string().min(1).max(200).optional(),
    jwksUrl: z.string().url().optional(),
    scope: z.string().max(2000).optional(),
  })
  .strict();
const SecretsSchema = z
  .object({
    bearerToken: z.string().min(1).max(8192).optional(),
    clientSecret: z.string().min(1).max(8192).optional(),
    privateJwk: z.record(z.string(), z.unknown()).optional(),
  })
  .strict()
  .openapi({ description: 'Stored encrypted; never returned' });
const SourceInputSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    kind: z.enum(kinds).optional(),
    baseUrl: z.string().url().max(2048),
    auth: AuthSchema.optional(),
    secrets: SecretsSchema.optional(),
    resourceTypes: z
      .array(z.string().regex(/^[A-Z][A-Za-z]{1,63}$/))
      .min(1)
      .max(30)
      .optional(),
    syncMode: z.enum(['incremental', 'bulk']).optional(),
    schedule: z.string().max(100).optional(),
    rateLimit: z.number().positive().max(10_000).optional(),
    concurrency: z.number().int().min(1).max(16).optional(),
    settings: z.record(z.string(), z.unknown()).optional(),
    test: z
      .boolean()
      .optional()
      .openapi({ description: 'Run discovery and authentication before saving (default true)' }),
  })
  .strict()
  .openapi('SourceInput');
const SourceUpdateSchema = SourceInputSchema.partial()
  .extend({ enabled: z.boolean().optional() })
  .strict()
  .openapi('SourceUpdate');
const SourceSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    kind: z.string(),
    baseUrl: z.string().nullable(),
    auth: z.record(z.string(), z.unknown()),
    hasSecret: z.boolean(),
    resourceTypes: z.array(z.string()),
    syncMode: z.string(),
    schedule: z.string().nullable(),
    rateLimit: z.number().nullable(),
    concurrency: z.number(),
    settings: z.record(z.string(), z.unknown()),
    enabled: z.boolean(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Source');
const ConnectionTestSchema = z
  .object({
    ok: z.literal(true),
    fhirVersion: z.string().optional(),
    resourceTypes: z.array(z.string()),
    lastUpdatedTypes: z.array(z.string()),
    historyTypes: z.array(z.string()),
    bulkExport: z.boolean(),
    tokenEndpoint: z.string().optional(),
  })
  .openapi('ConnectionTest');
const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function sourceRoutes(deps: {
  database: Database;
  sources: SourceService;
  scheduler?: SyncScheduler | undefined;
}) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  const security = bearerSecurity;
  const integrators = requireRoles(deps.database, 'integration', 'admin');

  app.openapi(
    createRoute({
      tags: ['Sources'],
      security,
      middleware: [integrators] as const,
      method: 'get',
      path: '/',
      summary: 'List sources',
      responses: { 200: json(z.object({ items: z.array(SourceSchema) }), 'Sources') },
    }),
    async (c) => c.json({ items: await deps.sources.list(c.get('actor')) }, 200),
  );
  app.openapi(
    createRoute({
      tags: ['Sources'],
      security,
      middleware: [integrators] as const,
      method: 'post',
      path: '/',
      summary:
        'Create a source (tests the connection first unless test=false; generates a Backend Services key when none is given)',
      request: body(SourceInputSchema),
      responses: { 201: json(SourceSchema, 'Created'), ...problems(400, 403, 422) },
    }),
    async (c) => c.json(await deps.sources.create(c.get('actor'), c.req.valid('json')), 201),
  );
  app.openapi(
    createRoute({
      tags: ['Sources'],
      security,
      middleware: [integrators] as const,
      method: 'get',
      path: '/{id}',
      summary: 'Get a source',
      request: { params: IdParam },
      responses: { 200: json(SourceSchema, 'Source'), ...problems(404) },
    }),
    async (c) => c.json(await deps.sources.get(c.get('actor'), c.req.valid('param').id), 200),
  );
  app.openapi(
    createRoute({
      tags: ['Sources'],
      security,
      middleware: [integrators] as const,
      method: 'patch',
      path: '/{id}',
      summary: 'Update a source (re-tests the connection when URL, auth, secrets or types change)',
      request: { params: IdParam, ...body(SourceUpdateSchema) },
      responses: { 200: json(SourceSchema, 'Updated'), ...problems(400, 404, 422) },
    }),
    async (c) => c.json(await deps.sources.update(c.get('actor'), c.req.valid('param').id, c.req.valid('json')), 200),
  );
  app.openapi(
    createRoute({
      tags: ['Sources'],
      security,
      middleware: [integrators] as const,
      method: 'delete',
      path: '/{id}',
      summary: 'Delete a source that never synced; disable one that did (its secrets are destroyed)',
      request: { params: IdParam },
      responses: { 200: json(z.object({ deleted: z.boolean(), disabled: z.boolean() }), 'Result'), ...problems(404) },
    }),
    async (c) => c.json(await deps.sources.remove(c.get('actor'), c.req.valid('param').id), 200),
  );
  app.openapi(
    createRoute({
      tags: ['Sources'],
      security,
      middleware: [integrators] as const,
      method: 'post',
      path: '/{id}/test',
      summary: 'Test the connection: discovery (CapabilityStatement, SMART configuration) and authentication',
      request: { params: IdParam },
      responses: { 200: json(ConnectionTestSchema, 'Capabilities'), ...problems(404, 422) },
    }),
    async (c) => c.json(await deps.sources.testStored(c.get('actor'), c.req.valid('param').id), 200),
  );
  app.openapi(
    createRoute({
      tags: ['Sources'],
      security,
      middleware: [integrators] as const,
      method: 'post',
      path: '/{id}/sync',
      summary: 'Start a sync (queued; one run per source at a time)',
      request: {
        params: IdParam,
        body: {
          content: {
            // reconcile: list every id at the source and mark cached resources it no longer has as deleted.
            'application/json': {
              schema: z.object({ mode: z.enum(['incremental', 'bulk', 'reconcile']).optional() }).strict(),
            },
          },
          required: false,
        },
      },
      responses: {
        202: json(z.object({ jobId: z.string().nullable(), queued: z.boolean() }), 'Queued'),
        ...problems(404, 503),
      },
    }),
    async (c) => {
      const actor = c.get('actor');
      const { id } = c.req.valid('param');
      await deps.sources.get(actor, id);
      if (!deps.scheduler) return c.json({ jobId: null, queued: false }, 202);
      const mode = (c.req.valid('json') as { mode?: 'incremental' | 'bulk' | 'reconcile' } | undefined)?.mode;
      const jobId = await deps.scheduler.enqueue({ tenantId: actor.tenantId, sourceId: id, ...(mode ? { mode } : {}) });
      return c.json({ jobId, queued: true }, 202);
    },
  );
  app.openapi(
    createRoute({
      tags: ['Sources'],
      security,
      middleware: [integrators] as const,
      method: 'get',
      path: '/{id}/runs',
      summary: 'Sync runs with their counts, newest first',
      request: { params: IdParam },
      responses: {
        200: json(z.object({ items: z.array(z.record(z.string(), z.unknown())) }), 'Runs'),
        ...problems(404),
      },
    }),
    async (c) => {
      const runs = await deps.sources.runs(c.get('actor'), c.req.valid('param').id);
      return c.json(
        {
          items: runs.map((r) => ({
            ...r,
            startedAt: r.startedAt.toISOString(),
            finishedAt: iso(r.finishedAt),
            heartbeatAt: iso(r.heartbeatAt),
          })),
        },
        200,
      );
    },
  );
  app.openapi(
    createRoute({
      tags: ['Sources'],
      security,
      middleware: [integrators] as const,
      method: 'get',
      path: '/{id}/dead-letters',
      summary: 'Resources the source sent that are not valid FHIR for their type, with the reason and page',
      request: { params: IdParam },
      responses: {
        200: json(z.object({ items: z.array(z.record(z.string(), z.unknown())) }), 'Dead letters'),
        ...problems(404),
      },
    }),
    async (c) => c.json({ items: await deps.sources.deadLetters(c.get('actor'), c.req.valid('param').id) }, 200),
  );
  return app;
}

/** The tenant's public JWKS (no auth, cacheable), the URL to register with EHRs for Backend Services (BS-01). */
export function jwksRoutes(deps: { database: Database; sources: SourceService }) {
  const app = new OpenAPIHono<AppEnv>();
  app.get('/:tenantId/jwks.json', async (c) => {
    const tenantId = c.req.param('tenantId');
    if (!/^[0-9a-f-]{36}$/i.test(tenantId)) return c.json({ keys: [] }, 404);
    c.header('Cache-Control', 'public, max-age=300');
    return c.json(await deps.sources.jwks(tenantId), 200);
  });
  return app;
}
