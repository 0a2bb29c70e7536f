// Wires the real dependencies and serves the API. Embedded defaults: PGlite in ./.data, development keys
// kept in the data directory, and the sandbox EHR as a demo source.
import {
  type ConnectorDeps,
  InProcessScheduler,
  PgBossScheduler,
  type SyncJob,
  type SyncScheduler,
} from '@fhirdesk/connectors';
import { AuditSealer, DeliveryService, DeliveryWorker, openDatabase, sealLegacySecrets } from '@fhirdesk/core';
import { serve } from '@hono/node-server';
import { createApp } from './app';
import { loadSecretKey, loadSurveyKey, loadTokenKeys } from './auth/signing-key';
import { ConfigError, loadConfig } from './config/config';
import { type DemoEhr, startDemoEhr } from './demo/sandbox-ehr';
import { ensureDevTenant } from './dev-seed';
import { createLogger, logDestination } from './http/logger';
import { registerDeskJobs, slaWebhookFromConfig, tenantSlaNotifier } from './jobs/desk-jobs';
import { runSyncJob } from './jobs/sync-job';
import { tenantTransports } from './outbound/tenant-transports';
import { patientRefresher } from './routes/patients';
import { SurveyTokens, surveyLinkBuilder } from './routes/surveys';

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  // Unset settings stay undefined: the logger and the pool apply their own defaults.
  const logger = createLogger(config.LOG_LEVEL, logDestination({ bufferBytes: config.FHIRDESK_LOG_BUFFER_BYTES }));
  const database = await openDatabase({
    url: config.DATABASE_URL,
    dataDir: config.FHIRDESK_DATA_DIR,
    max: config.FHIRDESK_DB_POOL_SIZE,
  });
  const keys = loadTokenKeys(config);
  const sealer = new AuditSealer(database, {
    onError: (err) => logger.error({ err: { type: (err as Error).name } }, 'audit seal failed'),
  });
  const secretKey = loadSecretKey(config);
  // Secrets stored in clear before they were sealed (integration HMAC secrets, tenant transport secrets):
  // sealed here on every start (idempotent; the key never enters the database, so no SQL migration can).
  const legacy = await sealLegacySecrets(database, secretKey);
  if (legacy.integrationKeys + legacy.tenants > 0) logger.info(legacy, 'sealed clear-text secrets');
  const connectors: ConnectorDeps = {
    database,
    secretKey,
    logger: { info: (o, msg) => logger.info(o, msg), warn: (o, msg) => logger.warn(o, msg) },
  };
  const runner = async (job: SyncJob) => {
    const { summary, disputes } = await runSyncJob(connectors, job);
    logger.info(
      {
        sourceId: job.sourceId,
        status: summary.status,
        fetched: summary.fetched,
        inserted: summary.inserted,
        updated: summary.updated,
        disputesOpened: disputes.opened,
      },
      'sync finished',
    );
  };
  // pg-boss needs a real PostgreSQL; embedded PGlite runs jobs in this process.
  const scheduler: SyncScheduler = config.DATABASE_URL
    ? new PgBossScheduler(config.DATABASE_URL, runner, {
        onError: (e) => logger.error({ err: { type: e.name } }, 'job queue error'),
      })
    : new InProcessScheduler(runner, {
        onError: (e) => logger.warn({ err: { type: (e as Error).name } }, 'sync job failed'),
        onTaskError: (e, task) => logger.warn({ task, err: { type: (e as Error).name } }, 'recurring job failed'),
      });
  await scheduler.start();
  // Survey links are signed by the delivery worker as each invitation goes out (never stored); their
  // origin is the public URL.
  const surveyKey = loadSurveyKey(config);
  // The listening origin replaces this once the port is bound (PORT=0 picks one).
  let publicUrl = config.FHIRDESK_PUBLIC_URL ?? `http://${config.HOST}:${config.PORT}`;
  // Replies: the queue is the outbound_delivery table, so a restart resumes what was pending, and
  // every server runs a worker (claims use SKIP LOCKED, so no reply is sent by two of them).
  const deliveries = new DeliveryService({
    database,
    transports: tenantTransports(database, secretKey),
    policy: {
      maxAttempts: config.FHIRDESK_DELIVERY_MAX_ATTEMPTS,
      baseDelayMs: config.FHIRDESK_DELIVERY_RETRY_BASE_SECONDS * 1000,
      maxDelayMs: 3_600_000,
    },
    afterCommit: (actor) => sealer.schedule(actor.tenantId),
    surveyLink: surveyLinkBuilder(new SurveyTokens(surveyKey), () => publicUrl),
  });
  const deliveryWorker = new DeliveryWorker(deliveries, {
    onError: (e) => logger.error({ err: { type: (e as Error).name } }, 'delivery worker failed'),
  });
  deliveryWorker.start();

  // SLA sweep and survey issuing: pg-boss recurring jobs on PostgreSQL, timers in this process on PGlite.
  // Survey invitations go out through the reply queue above.
  await registerDeskJobs(scheduler, {
    database,
    notifier: tenantSlaNotifier({ database, secretKey, fallback: slaWebhookFromConfig(config) }),
    log: (fields, msg) => logger.info(fields, msg),
    surveyInvitations: true,
    onSurveysIssued: (issued) => {
      for (const tenantId of new Set(issued.map((s) => s.tenantId))) sealer.schedule(tenantId);
      deliveryWorker.kick();
    },
  });

  const app = createApp({
    database,
    keys,
    logger,
    sealer,
    connectors,
    scheduler,
    bodyLimitBytes: config.FHIRDESK_BODY_LIMIT_BYTES,
    surveyKey,
    smart: {
      refreshPatient: patientRefresher(connectors),
      sessionTtlSeconds: config.FHIRDESK_SESSION_IDLE_SECONDS,
      sessionMaxSeconds: config.FHIRDESK_SESSION_MAX_SECONDS,
    },
    deliveries,
    onReplyQueued: () => deliveryWorker.kick(),
    secretKey,
    deploymentSlaWebhook: Boolean(config.FHIRDESK_SLA_WEBHOOK_URL),
  });

  let demo: DemoEhr | undefined;
  const server = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, (info) => {
    const url = config.FHIRDESK_PUBLIC_URL ?? `http://${config.HOST}:${info.port}`;
    publicUrl = url;
    logger.info({ url, database: database.kind }, 'fhirdesk listening');
    void announce(url).catch((error: unknown) =>
      logger.error({ err: { type: (error as Error).name } }, 'start-up step failed'),
    );
  });

  async function announce(url: string): Promise<void> {
    if (keys.development) {
      logger.warn(
        `FHIRDESK_JWT_SECRET is not set: signing tokens with a development key kept in ${config.FHIRDESK_DATA_DIR}/dev-signing-key. Never run like this in production.`,
      );
    }
    if (!config.embedded) return;
    const dev = await ensureDevTenant(database);
    const sandboxOn = (config.FHIRDESK_SANDBOX_EHR ?? 'on') === 'on';
    if (sandboxOn)
      demo = await startDemoEhr({ database, config, logger, tenantId: dev.tenantId, appUrl: url, scheduler });
    const admin = dev.users[0]!;
    const token = await keys.issue(
      { tenantId: dev.tenantId, userId: admin.id, roles: admin.roles, kind: 'user' },
      config.FHIRDESK_TOKEN_TTL_SECONDS,
    );
    // Printed to the terminal on purpose (not the log stream): the operator needs it to try the API.
    process.stdout.write(
      [
        '',
        `fhirdesk is running on ${url} (embedded PGlite in ${config.FHIRDESK_DATA_DIR})`,
        `  API docs:   ${url}/docs   (OpenAPI: ${url}/openapi.json)`,
        ...(demo
          ? [
              `  Sandbox EHR: ${demo.ehrPageUrl}  (pick a patient to launch the agent app; FHIR base ${demo.fhirBaseUrl})`,
            ]
          : []),
        `  Dev token (admin of tenant "demo", valid ${config.FHIRDESK_TOKEN_TTL_SECONDS}s; \`npx fhirdesk token --tenant demo\` prints another):`,
        `  ${token}`,
        `  Try: curl -H "Authorization: Bearer <token>" ${url}/api/v1/tickets`,
        '',
      ].join('\n'),
    );
  }

  const shutdown = async () => {
    server.close();
    await scheduler.stop().catch(() => {});
    await deliveryWorker.stop().catch(() => {});
    await demo?.close().catch(() => {});
    await sealer.flush().catch(() => {});
    await database.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());
}

void main();
