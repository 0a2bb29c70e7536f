// Embedded mode's demo EHR: the sandbox FHIR + SMART server from test/ (issue #3/#4: "keep this sandbox in
// test/ so that npm start can reuse it"), registered as a source of the demo tenant and synced once.

import type { SyncScheduler } from '@fhirdesk/connectors';
import { type Database, schema } from '@fhirdesk/core';
import { and, eq } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Config } from '../config/config';

export interface DemoEhr {
  fhirBaseUrl: string;
  ehrPageUrl: string;
  sourceId: string;
  close(): Promise<void>;
}

export async function startDemoEhr(options: {
  database: Database;
  config: Config;
  logger: Logger;
  tenantId: string;
  appUrl: string;
  scheduler: SyncScheduler;
}): Promise<DemoEhr> {
  const { database, config, tenantId } = options;
  const sandbox = await import('../../../../test/sandbox-ehr/index');
  const ehr = await sandbox.startSandboxEhr({ port: config.FHIRDESK_SANDBOX_PORT, host: config.HOST });
  const clientId = config.FHIRDESK_SMART_CLIENT_ID;
  const registerApp = (
    ehr as { registerAppClient?: (c: { clientId: string; redirectUris: string[]; launchUrl: string }) => void }
  ).registerAppClient;
  registerApp?.call(ehr, {
    clientId,
    redirectUris: [`${options.appUrl}/app/callback.html`, `${options.appUrl}/app/`],
    launchUrl: `${options.appUrl}/app/launch.html`,
  });

  const { source } = schema;
  const [existing] = await database.db
    .select({ id: source.id })
    .from(source)
    .where(and(eq(source.tenantId, tenantId), eq(source.baseUrl, ehr.fhirBaseUrl)));
  let sourceId = existing?.id;
  if (!sourceId) {
    const [row] = await database.db
      .insert(source)
      .values({
        tenantId,
        name: 'Sandbox EHR (demo)',
        kind: 'sandbox',
        baseUrl: ehr.fhirBaseUrl,
        auth: { mode: 'none', clientId },
        resourceTypes: [],
        // The demo user sees billing detail too, so claim totals show; real sources default to `agent`.
        settings: { smartClientId: clientId, smartDefaultRoles: ['agent', 'billing'], pageSize: 50 },
      })
      .returning({ id: source.id });
    sourceId = row!.id;
  }
  await options.scheduler.enqueue({ tenantId, sourceId });
  options.logger.info({ fhirBaseUrl: ehr.fhirBaseUrl }, 'demo sandbox EHR started; first sync queued');
  return { fhirBaseUrl: ehr.fhirBaseUrl, ehrPageUrl: ehr.ehrUrl, sourceId, close: () => ehr.close() };
}
