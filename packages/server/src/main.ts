// Wires the real dependencies and serves the API. Embedded defaults: PGlite in ./.data and a dev key.

import { AuditSealer, openDatabase } from '@fhirdesk/core';
import { serve } from '@hono/node-server';
import { createApp } from './app';
import { loadTokenKeys } from './auth/signing-key';
import { ConfigError, loadConfig } from './config/config';
import { ensureDevTenant } from './dev-seed';
import { createLogger } from './http/logger';

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
  const logger = createLogger(config.LOG_LEVEL);
  const database = await openDatabase({ url: config.DATABASE_URL, dataDir: config.FHIRDESK_DATA_DIR });
  const keys = loadTokenKeys(config);
  const sealer = new AuditSealer(database, {
    onError: (err) => logger.error({ err: { type: (err as Error).name } }, 'audit seal failed'),
  });
  const app = createApp({ database, keys, logger, sealer, bodyLimitBytes: config.FHIRDESK_BODY_LIMIT_BYTES });

  const server = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, (info) => {
    const url = `http://${config.HOST}:${info.port}`;
    logger.info({ url, database: database.kind }, 'fhirdesk listening');
    void announce(url);
  });

  async function announce(url: string): Promise<void> {
    if (keys.development) {
      logger.warn(
        `FHIRDESK_JWT_SECRET is not set: signing tokens with a development key kept in ${config.FHIRDESK_DATA_DIR}/dev-signing-key. Never run like this in production.`,
      );
    }
    if (config.embedded) {
      const dev = await ensureDevTenant(database);
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
          `  Dev token (admin of tenant "demo", valid ${config.FHIRDESK_TOKEN_TTL_SECONDS}s):`,
          `  ${token}`,
          `  Try: curl -H "Authorization: Bearer <token>" ${url}/api/v1/tickets`,
          '',
        ].join('\n'),
      );
    }
  }

  const shutdown = async () => {
    server.close();
    await sealer.flush().catch(() => {});
    await database.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());
}

void main();
