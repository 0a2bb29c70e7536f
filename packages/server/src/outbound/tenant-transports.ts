// Which transport carries a tenant's replies on a channel, from `tenant.settings.outbound`:
//   { email: { host, port, secure, auth?: { user, pass }, from, replyDomain, replyLocalPart?, timeoutMs? },
//     webhook: { url, secret, channels: ['sms', 'chat', 'portal'], timeoutMs? } }
import {
  type Database,
  type OutboundChannel,
  type ReplyTransport,
  schema,
  TransportError,
  type TransportResolver,
} from '@fhirdesk/core';
import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { SmtpTransport } from './smtp-transport';
import { WebhookTransport } from './webhook-transport';

const OutboundSettings = z.object({
  email: z
    .object({
      host: z.string().min(1),
      port: z.number().int().min(1).max(65535),
      secure: z.boolean().default(false),
      auth: z.object({ user: z.string(), pass: z.string() }).optional(),
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

export function tenantTransports(database: Database): TransportResolver {
  return async (tenantId: string, channel: OutboundChannel): Promise<ReplyTransport | null> => {
    const [row] = await database.db
      .select({ settings: schema.tenant.settings })
      .from(schema.tenant)
      .where(eq(schema.tenant.id, tenantId));
    const raw = row?.settings?.outbound;
    if (raw === undefined) return null;
    const parsed = OutboundSettings.safeParse(raw);
    // A broken configuration is a permanent failure an admin must fix, not a silent drop.
    if (!parsed.success) throw new TransportError('transport-misconfigured', false);
    const { email, webhook } = parsed.data;
    if (channel === 'email' && email) return new SmtpTransport(email);
    if (webhook?.channels.includes(channel)) return new WebhookTransport(webhook);
    return null;
  };
}
