// createApp(deps) builds the whole HTTP surface from injected dependencies, so tests call
// app.request() with no network and no globals (STYLE "A route reads like Hono's own examples").
import { randomUUID } from 'node:crypto';
import { type ConnectorDeps, SourceService, type SyncScheduler } from '@fhirdesk/connectors';
import {
  AssignmentSettingsService,
  type AuditSealer,
  ChannelSettingsService,
  type Clock,
  type Database,
  DeliveryService,
  DomainError,
  migrationsApplied,
  type SecretKey,
  systemClock,
  TicketService,
  UserService,
  VerificationService,
} from '@fhirdesk/core';
import { OpenAPIHono } from '@hono/zod-openapi';
import { Scalar } from '@scalar/hono-api-reference';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { secureHeaders } from 'hono/secure-headers';
import { authenticate } from './auth/middleware';
import type { TokenKeys } from './auth/tokens';
import { registerChannelPaths } from './http/channel-openapi';
import type { AppEnv } from './http/env';
import type { Logger } from './http/logger';
import { problem, problemFromDomainError, problemResponse } from './http/problem';
import { tenantTransports } from './outbound/tenant-transports';
import { assignmentRoutes } from './routes/assignment';
import { auditRoutes } from './routes/audit';
import { channelSettingsRoutes } from './routes/channel-settings';
import { claimRoutes, disputeRoutes } from './routes/disputes';
import { escalationRoutes } from './routes/escalations';
import { conversationRoutes, inboundRoutes } from './routes/inbound';
import { metricsRoutes } from './routes/metrics';
import { patientRoutes } from './routes/patients';
import { REMITTANCE_MEDIA_TYPE, remittanceRoutes } from './routes/remittances';
import { type SmartDeps, sessionRoutes } from './routes/session';
import { jwksRoutes, sourceRoutes } from './routes/sources';
import { staticAppRoutes } from './routes/static-app';
import { surveyRoutes } from './routes/surveys';
import { ticketRoutes } from './routes/tickets';
import { userRoutes } from './routes/users';

export interface AppDeps {
  database: Database;
  keys: TokenKeys;
  logger: Logger;
  sealer: AuditSealer;
  clock?: Clock;
  bodyLimitBytes?: number;
  smart?: SmartDeps;
  /** Connector dependencies (secret key for source secrets, logger); defaults to the database alone. */
  connectors?: ConnectorDeps;
  /** Queue for sync jobs (pg-boss on PostgreSQL, in-process on PGlite); without it syncs are not queued. */
  scheduler?: SyncScheduler;
  /** HS256 key for CSAT survey links; a random per-process key when absent (links die on restart). */
  surveyKey?: Uint8Array;
  /** Reply delivery (retry-now, provider receipts); defaults to transports from tenant settings. */
  deliveries?: DeliveryService;
  /** Called after a reply was queued, e.g. to wake the delivery worker. */
  onReplyQueued?: () => void;
  /**
   * Key of the secret box (FHIRDESK_SECRET_KEY) for integration and tenant transport secrets; defaults to the
   * connectors' key. Without one, setting a secret is refused (400) rather than stored in clear.
   */
  secretKey?: SecretKey;
  /** Whether FHIRDESK_SLA_WEBHOOK_URL is set (shown as the SLA webhook fallback in channel settings). */
  deploymentSlaWebhook?: boolean;
}

export function createApp(deps: AppDeps) {
  const clock = deps.clock ?? systemClock;
  const secretKey = deps.secretKey ?? deps.connectors?.secretKey;
  const tickets = new TicketService({
    database: deps.database,
    clock,
    afterCommit: (actor) => deps.sealer.schedule(actor.tenantId),
    ...(deps.onReplyQueued ? { onReplyQueued: deps.onReplyQueued } : {}),
  });
  const deliveries =
    deps.deliveries ??
    new DeliveryService({
      database: deps.database,
      transports: tenantTransports(deps.database, secretKey),
      clock,
      afterCommit: (actor) => deps.sealer.schedule(actor.tenantId),
    });
  const limit = deps.bodyLimitBytes ?? 1024 * 1024;
  const sources = new SourceService(deps.connectors ?? { database: deps.database }, (actor) =>
    deps.sealer.schedule(actor.tenantId),
  );

  const app = new OpenAPIHono<AppEnv>();

  // The request line's fields are fixed (request id, method, route pattern, status, duration): none can carry
  // PHI, so it skips pino's path redaction, which cost ~30 µs a line — more than the rest of the line and a
  // visible share of the agent view (bench:agent-view, issue #4). Every other line keeps the redaction.
  const requestLine = deps.logger.child({}, { redact: [] });
  app.use('*', async (c, next) => {
    const incoming = c.req.header('x-request-id');
    const requestId = incoming && /^[A-Za-z0-9._-]{1,128}$/.test(incoming) ? incoming : randomUUID();
    c.set('requestId', requestId);
    c.header('X-Request-Id', requestId);
    const started = performance.now();
    await next();
    // The route pattern, never the raw URL or query string: those can carry identifiers.
    requestLine.info(
      {
        requestId,
        method: c.req.method,
        route: c.req.routePath,
        status: c.res.status,
        ms: Math.round(performance.now() - started),
      },
      'request',
    );
  });
  app.use('*', secureHeaders({ crossOriginResourcePolicy: 'same-origin', referrerPolicy: 'no-referrer' }));
  const limitBody = bodyLimit({
    maxSize: limit,
    onError: () => {
      throw new HTTPException(413, { message: `The request body is larger than ${limit} bytes` });
    },
  });
  // A GET or HEAD request has no body to limit, and asking for it makes @hono/node-server build a full
  // WHATWG Request (with an AbortController) per request: ~4 % of the agent view's server time (issue #4).
  app.use('/api/*', (c, next) => (c.req.method === 'GET' || c.req.method === 'HEAD' ? next() : limitBody(c, next)));
  app.use('/api/*', async (c, next) => {
    c.header('Cache-Control', 'no-store');
    const type = c.req.header('content-type');
    if (
      ['POST', 'PUT', 'PATCH'].includes(c.req.method) &&
      type &&
      !/^application\/(merge-patch\+)?json\b/i.test(type) &&
      !(c.req.path === '/api/v1/remittances' && REMITTANCE_MEDIA_TYPE.test(type))
    ) {
      return problemResponse(problem(415, 'unsupported-media-type', 'Send the request body as application/json'));
    }
    await next();
  });

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    try {
      if (!(await migrationsApplied(deps.database))) return c.json({ status: 'migrations-pending' }, 503);
      return c.json({ status: 'ready', database: deps.database.kind });
    } catch {
      return c.json({ status: 'database-unreachable' }, 503);
    }
  });

  app.route('/auth', sessionRoutes(deps));
  app.route('/app', staticAppRoutes({ database: deps.database }));
  // Provider webhooks authenticate with integration keys/HMAC, not bearer tokens (routes/inbound.ts).
  app.route('/inbound', inboundRoutes({ ...deps, clock, deliveries, secretKey }));
  app.route('/survey', surveyRoutes({ ...deps, clock }));
  app.route('/tenants', jwksRoutes({ database: deps.database, sources }));
  app.use('/api/v1/*', authenticate(deps.keys));
  app.route('/api/v1/sources', sourceRoutes({ database: deps.database, sources, scheduler: deps.scheduler }));
  const channelSettings = new ChannelSettingsService({
    database: deps.database,
    secretKey,
    deploymentSlaWebhook: deps.deploymentSlaWebhook,
    clock,
    afterCommit: (actor) => deps.sealer.schedule(actor.tenantId),
  });
  app.route('/api/v1/conversations', conversationRoutes({ ...deps, clock, channelSettings }));
  app.route('/api/v1/channel-settings', channelSettingsRoutes({ database: deps.database, settings: channelSettings }));
  app.route('/api/v1/metrics', metricsRoutes(deps));
  app.route('/api/v1/escalations', escalationRoutes({ ...deps, clock }));
  app.route(
    '/api/v1/tickets',
    ticketRoutes({
      database: deps.database,
      tickets,
      deliveries,
      verifications: new VerificationService({
        database: deps.database,
        clock,
        afterCommit: (actor) => deps.sealer.schedule(actor.tenantId),
      }),
    }),
  );
  app.route('/api/v1/audit', auditRoutes({ database: deps.database, sealer: deps.sealer }));
  app.route('/api/v1/patients', patientRoutes(deps));
  app.route('/api/v1/disputes', disputeRoutes(deps));
  app.route('/api/v1/claims', claimRoutes(deps));
  app.route('/api/v1/remittances', remittanceRoutes(deps));
  app.route(
    '/api/v1/users',
    userRoutes({
      database: deps.database,
      users: new UserService(deps.database, (actor) => deps.sealer.schedule(actor.tenantId)),
    }),
  );

  app.route(
    '/api/v1/assignment',
    assignmentRoutes({
      database: deps.database,
      assignment: new AssignmentSettingsService(deps.database, (actor) => deps.sealer.schedule(actor.tenantId), clock),
    }),
  );

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
  });
  registerChannelPaths(app.openAPIRegistry);
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'fhirdesk API',
      version: '0.1.0',
      description:
        'Tickets linked to FHIR Patient, Coverage, Claim, ClaimResponse, ExplanationOfBenefit and Account. Errors are RFC 9457 problem+json.',
    },
  });
  app.get('/docs', Scalar({ url: '/openapi.json', pageTitle: 'fhirdesk API' }));

  app.notFound(() => problemResponse(problem(404, 'not-found', 'No such route')));

  app.onError((error, c) => {
    // A child logger only for the rare failure: made per request it cost every request its bindings.
    const log = deps.logger.child({ requestId: c.get('requestId') });
    if (error instanceof DomainError) {
      const headers: Record<string, string> = {};
      if (error.status === 401) headers['WWW-Authenticate'] = 'Bearer realm="fhirdesk"';
      const current = error.extensions.currentVersion;
      if (error.status === 412 && typeof current === 'number') headers.ETag = `W/"${current}"`;
      return problemResponse(problemFromDomainError(error), headers);
    }
    if (error instanceof HTTPException) {
      const status = error.status;
      if (status === 400 && /json/i.test(error.message)) {
        return problemResponse(problem(400, 'malformed-json', 'The request body is not valid JSON'));
      }
      const code = status === 413 ? 'body-too-large' : status === 415 ? 'unsupported-media-type' : 'http-error';
      return problemResponse(problem(status, code, error.message || 'Request failed'));
    }
    // Unknown failure: log the class and code only (messages can carry SQL or values), answer generically.
    const pgCode = (error as { code?: unknown }).code;
    log.error({ err: { type: error.name, code: typeof pgCode === 'string' ? pgCode : undefined } }, 'unhandled error');
    return problemResponse(problem(500, 'internal', 'Something went wrong on our side; the request was not applied'));
  });

  return app;
}

export type App = ReturnType<typeof createApp>;
