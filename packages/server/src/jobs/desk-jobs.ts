// Recurring desk jobs (issue #6): the SLA sweep (at-risk / breached notices, exactly once each by the
// `sla_notice` key, posted to the SLA webhook) and CSAT survey issuing for resolved tickets. Every
// worker registers them; pg-boss (or the in-process runner on PGlite) runs each tick on one worker.
import type { SyncScheduler } from '@fhirdesk/connectors';
import {
  ChannelSettingsService,
  type Clock,
  type Database,
  type IssuedSurvey,
  issueSurveysForResolved,
  runSlaSweep,
  type SecretKey,
  type SlaNotification,
  type SlaNotifier,
  type SlaSweepResult,
  signWebhookPayload,
  systemClock,
  webhookSlaNotifier,
} from '@fhirdesk/core';

export const SLA_SWEEP_TASK = 'sla-sweep';
export const SURVEY_TASK = 'survey-issue';

export interface DeskJobsOptions {
  database: Database;
  clock?: Clock;
  notifier?: SlaNotifier | undefined;
  /** Cron (pg-boss) or `@every`/`*\/N` (embedded); defaults: every minute and every 5 minutes. */
  slaCron?: string;
  surveyCron?: string;
  log?: (fields: Record<string, unknown>, message: string) => void;
  /** Limit both jobs to one tenant (a single-tenant deployment; tests sharing a database). */
  tenantId?: string | undefined;
  /**
   * Queue each issued survey's invitation on the ticket's channel. The link itself is signed by the
   * delivery worker (`DeliveryService` option `surveyLink`), so it is never stored where staff read.
   */
  surveyInvitations?: boolean | undefined;
  /** Called after surveys were issued (and their invitations queued) and committed: kick the sender. */
  onSurveysIssued?: (issued: IssuedSurvey[]) => void;
  /** Called after each sweep on this worker (tests, metrics). */
  onSlaSweep?: (result: SlaSweepResult) => void;
}

/** The SLA webhook of the deployment, signed like inbound webhooks (`t=…,v1=…` HMAC-SHA256). */
export function slaWebhookFromConfig(config: {
  FHIRDESK_SLA_WEBHOOK_URL?: string | undefined;
  FHIRDESK_SLA_WEBHOOK_SECRET?: string | undefined;
}): SlaNotifier | undefined {
  const url = config.FHIRDESK_SLA_WEBHOOK_URL;
  const secret = config.FHIRDESK_SLA_WEBHOOK_SECRET;
  if (!url || !secret) return undefined;
  return webhookSlaNotifier({ url, sign: (raw, ts) => signWebhookPayload(raw, secret, ts) });
}

/**
 * Posts each notice to its tenant's own SLA webhook (`tenant.settings.slaWebhook`, secret sealed) when one is
 * set, else to the deployment's (`fallback`), else nowhere. Only the worker whose `sla_notice` insert won calls
 * it, so each notice is posted once whichever webhook it goes to.
 */
export function tenantSlaNotifier(options: {
  database: Database;
  secretKey: SecretKey | undefined;
  fallback?: SlaNotifier | undefined;
  fetch?: typeof fetch;
}): SlaNotifier {
  const settings = new ChannelSettingsService({ database: options.database, secretKey: options.secretKey });
  return {
    async notify(notification: SlaNotification) {
      const own = options.secretKey ? await settings.resolveSlaWebhook(notification.tenantId) : null;
      if (own) {
        const notifier = webhookSlaNotifier({
          url: own.url,
          sign: (raw, ts) => signWebhookPayload(raw, own.secret, ts),
          ...(options.fetch ? { fetch: options.fetch } : {}),
        });
        return notifier.notify(notification);
      }
      await options.fallback?.notify(notification);
    },
  };
}

export async function registerDeskJobs(scheduler: SyncScheduler, options: DeskJobsOptions): Promise<void> {
  const clock = options.clock ?? systemClock;
  const log = options.log ?? (() => {});
  await scheduler.recurring(SLA_SWEEP_TASK, options.slaCron ?? '*/1 * * * *', async () => {
    const result = await runSlaSweep(options.database, clock.now(), {
      notifier: options.notifier,
      ...(options.tenantId ? { tenantId: options.tenantId } : {}),
    });
    options.onSlaSweep?.(result);
    if (result.raised.length > 0 || result.notifyFailures > 0) {
      // Counts only: notices carry ticket ids, which stay out of the log stream.
      log(
        { raised: result.raised.length, recomputed: result.recomputed, notifyFailures: result.notifyFailures },
        'sla sweep',
      );
    }
  });
  await scheduler.recurring(SURVEY_TASK, options.surveyCron ?? '*/5 * * * *', async () => {
    const issued = await issueSurveysForResolved(options.database, clock.now(), {
      ...(options.tenantId ? { tenantId: options.tenantId } : {}),
      invite: options.surveyInvitations ?? false,
    });
    if (issued.length > 0) {
      const queued = issued.filter((s) => s.deliveryId).length;
      log({ issued: issued.length, invitationsQueued: queued }, 'surveys issued');
      options.onSurveysIssued?.(issued);
    }
  });
}
