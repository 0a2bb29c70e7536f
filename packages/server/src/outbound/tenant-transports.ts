// Which transport carries a tenant's replies on a channel: settings from `tenant.settings.outbound`
//   { email: { host, port, secure, auth?: { user }, from, replyDomain, replyLocalPart?, timeoutMs? },
//     webhook: { url, channels: ['sms', 'chat', 'portal'], timeoutMs? } }
// with the SMTP password and webhook secret opened from `tenant_secret` (sealed; set through
// PUT /api/v1/channel-settings/outbound).
import {
  ChannelSettingsService,
  type Database,
  type OutboundChannel,
  type ReplyTransport,
  type SecretKey,
  TransportError,
  type TransportResolver,
  ValidationError,
} from '@fhirdesk/core';
import { z } from 'zod';
import { SmtpTransport } from './smtp-transport';
import { WebhookTransport } from './webhook-transport';

const OutboundSettings = z.object({
  email: z
    .object({
      host: z.string().min(1),
      port: z.number().int().min(1).max(65535),
      secure: z.boolean().default(false),
      auth: z.object({ user: z.string(), pass: z.string().min(1) }).optional(),
      from: z.string().min(3),
      replyDomain: z.string().min(1),
      replyLocalPart: z
        .string()
        .regex(/^[a-z0-9._-]{1,32}$/i)
        .optional(),
      timeoutMs: z.number().int().positive().optional(),
    })
    .optional(),
  webhook: z
    .object({
      url: z.string().url(),
      secret: z.string().min(16),
      channels: z.array(z.enum(['sms', 'chat', 'portal', 'email'])).min(1),
      timeoutMs: z.number().int().positive().optional(),
    })
    .optional(),
});

export function tenantTransports(database: Database, secretKey: SecretKey | undefined): TransportResolver {
  const settings = new ChannelSettingsService({ database, secretKey });
  return async (tenantId: string, channel: OutboundChannel): Promise<ReplyTransport | null> => {
    let resolved: Awaited<ReturnType<ChannelSettingsService['resolveOutbound']>>;
    try {
      resolved = await settings.resolveOutbound(tenantId);
    } catch (error) {
      // No key, or a secret that does not open with it: an admin must fix the configuration.
      if (error instanceof ValidationError) throw new TransportError('transport-misconfigured', false);
      throw error;
    }
    if (resolved === null) return null;
    const parsed = OutboundSettings.safeParse(resolved);
    // A broken configuration (e.g. a missing secret) is a permanent failure an admin must fix, not a silent drop.
    if (!parsed.success) throw new TransportError('transport-misconfigured', false);
    const { email, webhook } = parsed.data;
    if (channel === 'email' && email) return new SmtpTransport(email);
    if (webhook?.channels.includes(channel)) return new WebhookTransport(webhook);
    return null;
  };
}
