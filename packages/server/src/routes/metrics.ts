// /api/v1/metrics?from&to&queue&agent: desk metrics for supervisors and admins (docs/metrics.md).
import { type Database, deskMetrics, recordAudit, ValidationError } from '@fhirdesk/core';
import { Hono } from 'hono';
import { z } from 'zod';
import { requireRoles } from '../auth/middleware';
import type { AppEnv } from '../http/env';

export const MetricsQuerySchema = z.strictObject({
  from: z.iso.datetime({ offset: true }),
  to: z.iso.datetime({ offset: true }),
  queue: z.string().min(1).max(64).optional(),
  agent: z.uuid().optional(),
});

export function metricsRoutes(deps: { database: Database }) {
  const app = new Hono<AppEnv>();
  app.get('/', requireRoles(deps.database, 'supervisor', 'admin'), async (c) => {
    const parsed = MetricsQuerySchema.safeParse(c.req.query());
    if (!parsed.success) {
      throw new ValidationError(
        'The query is invalid',
        parsed.error.issues.map((i) => ({ field: i.path.map(String).join('.') || 'query', message: i.message })),
      );
    }
    const actor = c.get('actor');
    const q = parsed.data;
    const metrics = await deskMetrics(deps.database, {
      tenantId: actor.tenantId,
      from: new Date(q.from),
      to: new Date(q.to),
      queue: q.queue,
      agent: q.agent,
    });
    // Aggregates only, no patient data; still audited as a query over tickets (AUD-04).
    await recordAudit(deps.database.db, actor, {
      action: 'metrics.read',
      fhirAction: 'E',
      entityType: 'Ticket',
      detail: { tickets: metrics.tickets },
    });
    return c.json(metrics);
  });
  return app;
}
