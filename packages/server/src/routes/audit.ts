// /api/v1/audit: tamper check of the tenant's audit chain (ONC-02) and a sortable report (ONC-04).

import { type AuditSealer, type Database, schema, verifyAuditChain } from '@fhirdesk/core';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { and, asc, desc, eq, gte, lt } from 'drizzle-orm';
import { requireRoles } from '../auth/middleware';
import type { AppEnv } from '../http/env';
import { validationHook } from '../http/validation';

const VerificationSchema = z
  .object({
    ok: z.boolean(),
    checked: z.number(),
    unsealed: z.number(),
    firstBreak: z.object({ chainPos: z.number(), auditEventId: z.string().nullable(), reason: z.string() }).nullable(),
  })
  .openapi('AuditChainVerification');

const sortable = ['occurredAt', 'action', 'actorId', 'patientRef', 'outcome', 'entityType'] as const;

export function auditRoutes(deps: { database: Database; sealer: AuditSealer }) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  const admin = requireRoles(deps.database, 'admin', 'supervisor');

  app.openapi(
    createRoute({
      method: 'post',
      path: '/verify',
      tags: ['Audit'],
      summary: "Seal pending rows, then recompute the tenant's audit hash chain and report the first broken link",
      security: [{ bearerAuth: [] }],
      middleware: [requireRoles(deps.database, 'admin')] as const,
      responses: { 200: { content: { 'application/json': { schema: VerificationSchema } }, description: 'Result' } },
    }),
    async (c) => {
      const { tenantId } = c.get('actor');
      await deps.sealer.sealNow(tenantId);
      return c.json(await verifyAuditChain(deps.database.db, tenantId), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/events',
      tags: ['Audit'],
      summary: 'Audit report for a time period, sortable by each recorded element',
      security: [{ bearerAuth: [] }],
      middleware: [admin] as const,
      request: {
        query: z
          .object({
            from: z.string().datetime({ offset: true }),
            to: z.string().datetime({ offset: true }),
            sort: z.enum(sortable).optional(),
            order: z.enum(['asc', 'desc']).optional(),
            limit: z.coerce.number().int().min(1).max(1000).optional(),
          })
          .strict(),
      },
      responses: {
        200: {
          content: { 'application/json': { schema: z.object({ items: z.array(z.record(z.string(), z.unknown())) }) } },
          description: 'Events',
        },
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const { auditEvent } = schema;
      const column = auditEvent[q.sort ?? 'occurredAt'];
      const rows = await deps.database.db
        .select()
        .from(auditEvent)
        .where(
          and(
            eq(auditEvent.tenantId, c.get('actor').tenantId),
            gte(auditEvent.occurredAt, new Date(q.from)),
            lt(auditEvent.occurredAt, new Date(q.to)),
          ),
        )
        .orderBy(q.order === 'desc' ? desc(column) : asc(column), asc(auditEvent.seq))
        .limit(q.limit ?? 200);
      return c.json({ items: rows.map((r) => ({ ...r, occurredAt: r.occurredAt.toISOString() })) }, 200);
    },
  );

  return app;
}
