// POST /api/v1/remittances: upload one X12 835 file (raw body) and import it into the cache (issue 5).
// A malformed or unbalanced file is rejected whole with the segment, position and line at fault, never values.

import { upsertResources } from '@fhirdesk/connectors';
import { importRemittance, ValidationError } from '@fhirdesk/core';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { HTTPException } from 'hono/http-exception';
import { requireRoles } from '../auth/middleware';
import type { AppEnv } from '../http/env';
import { problems } from '../http/openapi';
import { validationHook } from '../http/validation';
import type { DisputeRouteDeps } from './disputes';

/** Media types an 835 may arrive as (RFC 1767 registers application/EDI-X12). */
export const REMITTANCE_MEDIA_TYPE = /^(application\/edi-x12|text\/plain)\b/i;

export function remittanceRoutes(deps: DisputeRouteDeps) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  const billing = requireRoles(deps.database, 'billing', 'supervisor', 'admin', 'integration');
  app.openapi(
    createRoute({
      method: 'post',
      path: '/',
      tags: ['Disputes'],
      summary: 'Import an X12 835 remittance (Content-Type application/edi-x12 or text/plain)',
      security: [{ bearerAuth: [] }],
      middleware: [billing] as const,
      responses: {
        200: {
          content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } },
          description: 'Imported (or unchanged on re-import)',
        },
        ...problems(400, 401, 403, 413, 415),
      },
    }),
    async (c) => {
      if (!REMITTANCE_MEDIA_TYPE.test(c.req.header('content-type') ?? '')) {
        throw new HTTPException(415, { message: 'Send the 835 file as application/edi-x12 or text/plain' });
      }
      const text = await c.req.text();
      if (text.trim().length === 0) {
        throw new ValidationError('The request body is empty', [{ field: 'body', message: 'an X12 835 file' }]);
      }
      const result = await importRemittance(deps.database, c.get('actor'), {
        text,
        write: upsertResources,
        ...(deps.clock ? { clock: deps.clock } : {}),
      });
      deps.sealer?.schedule(c.get('actor').tenantId);
      return c.json(result as unknown as Record<string, unknown>, 200);
    },
  );
  return app;
}
