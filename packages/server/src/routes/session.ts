// POST /auth/session: exchange a SMART launch (id_token + access token + iss + patient) for a short-lived
// fhirdesk session token. Mounted outside /api/v1 because the caller has no fhirdesk token yet.
import { type AuditSealer, type Clock, type Database, UnauthorizedError } from '@fhirdesk/core';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { renewSession, type SmartDeps, SmartSessionExchange } from '../auth/smart-session';
import type { TokenKeys } from '../auth/tokens';
import type { AppEnv } from '../http/env';
import { problems } from '../http/openapi';
import { problem, problemResponse } from '../http/problem';
import { validationHook } from '../http/validation';

export type { SmartDeps } from '../auth/smart-session';

const jwt = z.string().min(1).max(16_384);
const SessionRequestSchema = z
  .strictObject({
    idToken: jwt.openapi({ description: 'OpenID Connect id_token from the SMART token response' }),
    accessToken: jwt.openapi({
      description: 'SMART access token; used once to confirm the launch patient with the EHR',
    }),
    iss: z
      .url({ protocol: /^https?$/ })
      .max(2048)
      .openapi({ description: 'FHIR base URL the app was launched from' }),
    patient: z
      .string()
      .regex(/^[A-Za-z0-9\-.]{1,64}$/, 'must be a FHIR id')
      .openapi({ description: 'Launch patient id from the token response' }),
  })
  .openapi('SessionRequest');

const SessionSchema = z
  .object({
    token: z.string(),
    expiresIn: z.number().int(),
    tenantId: z.string(),
    user: z.object({ id: z.string(), displayName: z.string(), roles: z.array(z.string()) }),
    patient: z.string(),
  })
  .openapi('Session');

const RenewedSchema = z.object({ token: z.string(), expiresIn: z.number().int() }).openapi('RenewedSession');

export function sessionRoutes(deps: {
  database: Database;
  keys: TokenKeys;
  sealer: AuditSealer;
  clock?: Clock;
  smart?: SmartDeps;
}) {
  const exchange = new SmartSessionExchange({
    database: deps.database,
    keys: deps.keys,
    clock: deps.clock,
    options: deps.smart,
    afterAudit: (tenantId) => deps.sealer.schedule(tenantId),
  });
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  // Outside /api/*, so this route sets its own body limit, media type check and no-store.
  app.use(
    '*',
    bodyLimit({
      maxSize: 64 * 1024,
      onError: () => {
        throw new HTTPException(413, { message: 'The request body is larger than 65536 bytes' });
      },
    }),
  );
  app.use('*', async (c, next) => {
    c.header('Cache-Control', 'no-store');
    if (c.req.method === 'POST' && !/^application\/json\b/i.test(c.req.header('content-type') ?? '')) {
      return problemResponse(problem(415, 'unsupported-media-type', 'Send the request body as application/json'));
    }
    await next();
  });

  app.openapi(
    createRoute({
      method: 'post',
      path: '/session',
      tags: ['Session'],
      summary: 'Exchange a SMART launch for a fhirdesk session token (id_token verified against the EHR JWKS)',
      request: { body: { content: { 'application/json': { schema: SessionRequestSchema } }, required: true } },
      responses: {
        200: { content: { 'application/json': { schema: SessionSchema } }, description: 'Session issued' },
        ...problems(400, 401, 403, 413, 415, 502),
      },
    }),
    async (c) => c.json(await exchange.exchange(c.req.valid('json'), c.get('requestId')), 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/session/renew',
      tags: ['Session'],
      summary:
        'Renew a launch session on user activity (HIPAA-04): a fresh token for the idle limit, never past the absolute lifetime',
      security: [{ bearerAuth: [] }],
      request: { body: { content: { 'application/json': { schema: z.strictObject({}) } }, required: true } },
      responses: {
        200: { content: { 'application/json': { schema: RenewedSchema } }, description: 'Session renewed' },
        ...problems(401, 413, 415),
      },
    }),
    async (c) => {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '');
      if (!match)
        throw new UnauthorizedError('Send the session token as "Authorization: Bearer <token>"', { reason: 'missing' });
      try {
        const renewed = await renewSession(deps.keys, match[1]!, {
          ttlSeconds: deps.smart?.sessionTtlSeconds,
          maxSeconds: deps.smart?.sessionMaxSeconds,
          audit: { database: deps.database, requestId: c.get('requestId') },
        });
        return c.json(renewed, 200);
      } finally {
        // The renewal (or its refusal) was audited for the token's tenant; verified tokens are cached, so cheap.
        const claims = await deps.keys.verify(match[1]!).catch(() => null);
        if (claims) deps.sealer.schedule(claims.tenantId);
      }
    },
  );

  return app;
}
