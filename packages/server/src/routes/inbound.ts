// /inbound/{email|sms|chat|portal}: provider webhooks. Mounted outside /api/v1/* on purpose: these
// callers hold an integration API key or an HMAC secret, not a user's bearer token, and the SMS
// gateway posts application/x-www-form-urlencoded, which the /api JSON-only guard would refuse.
// The signature is checked over the raw body, so the body is read as text before any parsing.
import {
  type AuditSealer,
  authenticateInbound,
  type ChannelSettingsService,
  type Clock,
  ConversationService,
  type Database,
  type DeliveryService,
  type InboundChannel,
  type InboundMessageInput,
  InboundService,
  parseInboundSms,
  type SecretKey,
  systemClock,
  ticketCategories,
  ValidationError,
} from '@fhirdesk/core';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { z } from 'zod';
import { requireRoles } from '../auth/middleware';
import type { AppEnv } from '../http/env';

const messageId = z.string().min(1).max(200);
const body = z.string().max(20_000);

/** The documented JSON shapes, one per channel (strict: unknown fields are rejected). */
export const inboundSchemas = {
  email: z.strictObject({
    messageId,
    from: z.string().min(3).max(320),
    to: z.array(z.string().max(320)).max(50).default([]),
    subject: z.string().max(998).default(''),
    text: body,
  }),
  sms: z.strictObject({ messageId, from: z.string().min(1).max(64), to: z.string().max(64).optional(), body }),
  chat: z.strictObject({
    messageId,
    conversationId: z.string().min(1).max(200),
    from: z.strictObject({ email: z.string().max(320).optional(), phone: z.string().max(64).optional() }).default({}),
    body,
  }),
  portal: z.strictObject({
    messageId,
    from: z.strictObject({ email: z.string().max(320).optional(), phone: z.string().max(64).optional() }),
    subject: z.string().max(998).optional(),
    body,
  }),
} as const;

const channels = ['email', 'sms', 'chat', 'portal'] as const;

function toInput(channel: InboundChannel, raw: string, contentType: string | undefined): InboundMessageInput {
  if (channel === 'sms' && contentType && /^application\/x-www-form-urlencoded\b/i.test(contentType)) {
    const sms = parseInboundSms(raw);
    return { channel, providerMessageId: sms.messageSid, from: { phone: sms.from }, body: sms.body };
  }
  if (!contentType || !/^application\/json\b/i.test(contentType)) {
    throw new HTTPException(415, { message: 'Send application/json (or form-encoded for SMS)' });
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new ValidationError('The request body is not valid JSON', [{ field: 'body', message: 'malformed JSON' }]);
  }
  const parsed = inboundSchemas[channel].safeParse(json);
  if (!parsed.success) {
    // Field names and rule messages only: the values are PHI (HIPAA-11).
    throw new ValidationError(
      'The inbound message is invalid',
      parsed.error.issues.map((i) => ({
        field: i.path.map(String).join('.') || 'body',
        message: i.code === 'unrecognized_keys' ? `unknown field(s): ${i.keys.join(', ')}` : i.message,
      })),
    );
  }
  const m = parsed.data;
  switch (channel) {
    case 'email': {
      const e = m as z.output<typeof inboundSchemas.email>;
      return {
        channel,
        providerMessageId: e.messageId,
        from: { email: e.from },
        to: e.to,
        subject: e.subject,
        body: e.text,
      };
    }
    case 'sms': {
      const s = m as z.output<typeof inboundSchemas.sms>;
      return { channel, providerMessageId: s.messageId, from: { phone: s.from }, body: s.body };
    }
    case 'chat': {
      const ch = m as z.output<typeof inboundSchemas.chat>;
      return {
        channel,
        providerMessageId: ch.messageId,
        from: { ...ch.from, conversationId: ch.conversationId },
        body: ch.body,
      };
    }
    default: {
      const p = m as z.output<typeof inboundSchemas.portal>;
      return { channel, providerMessageId: p.messageId, from: p.from, subject: p.subject, body: p.body };
    }
  }
}

export interface ConversationRouteDeps {
  database: Database;
  sealer: AuditSealer;
  clock?: Clock;
  /** Accepted signature timestamp skew either way, seconds (default 300). */
  webhookToleranceSeconds?: number;
}

const ReceiptBody = z.strictObject({
  messageId,
  status: z.enum(['delivered', 'failed']),
  /** A provider error code (`30007`); free text is replaced, never stored. */
  reason: z.string().max(64).optional(),
});

export function inboundRoutes(
  deps: ConversationRouteDeps & { deliveries: DeliveryService; secretKey?: SecretKey | undefined },
) {
  const clock = deps.clock ?? systemClock;
  const inbound = new InboundService({
    database: deps.database,
    clock,
    afterCommit: (actor) => deps.sealer.schedule(actor.tenantId),
  });
  const app = new Hono<AppEnv>();
  app.use(
    '*',
    bodyLimit({
      maxSize: 256 * 1024,
      onError: () => {
        throw new HTTPException(413, { message: 'The inbound message is larger than 262144 bytes' });
      },
    }),
  );
  // Messages and delivery receipts authenticate alike: known channel, API key or signature over the raw body.
  const authenticated = async (c: Context<AppEnv>) => {
    const channel = c.req.param('channel') as InboundChannel;
    if (!channels.includes(channel)) throw new HTTPException(404, { message: 'No such inbound channel' });
    c.header('Cache-Control', 'no-store');
    const raw = await c.req.text();
    const integration = await authenticateInbound(
      deps.database,
      channel,
      {
        apiKey: c.req.header('x-api-key'),
        keyId: c.req.header('x-fhirdesk-key-id'),
        signature: c.req.header('x-fhirdesk-signature'),
      },
      raw,
      clock.now(),
      {
        secretKey: deps.secretKey,
        ...(deps.webhookToleranceSeconds !== undefined ? { toleranceSeconds: deps.webhookToleranceSeconds } : {}),
      },
    );
    return { channel, raw, integration };
  };
  // Delivery receipts for replies we sent on this channel, authenticated exactly like inbound messages.
  app.post('/:channel/status', async (c) => {
    const { channel, raw, integration } = await authenticated(c);
    if (!/^application\/json\b/i.test(c.req.header('content-type') ?? '')) {
      throw new HTTPException(415, { message: 'Send application/json' });
    }
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      throw new ValidationError('The request body is not valid JSON', [{ field: 'body', message: 'malformed JSON' }]);
    }
    const parsed = ReceiptBody.safeParse(json);
    if (!parsed.success) {
      throw new ValidationError(
        'The delivery receipt is invalid',
        parsed.error.issues.map((i) => ({ field: i.path.map(String).join('.') || 'body', message: i.message })),
      );
    }
    const actor = {
      tenantId: integration.tenantId,
      userId: null,
      kind: 'integration' as const,
      roles: ['integration' as const],
      label: integration.name,
    };
    return c.json(await deps.deliveries.providerReceipt(actor, channel, parsed.data), 200);
  });
  app.post('/:channel', async (c) => {
    const { channel, raw, integration } = await authenticated(c);
    const result = await inbound.receive(integration, toInput(channel, raw, c.req.header('content-type')));
    return c.json(result, result.outcome === 'duplicate' ? 200 : 201);
  });
  return app;
}

export const IntegrationKeyBody = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/),
  channels: z.array(z.enum(channels)).min(1),
  apiKey: z.boolean().default(true),
  hmac: z.boolean().default(false),
});
export const PatientBody = z.strictObject({ patient: z.string().max(200).nullable() });
export const RoutingBody = z
  .strictObject({ category: z.enum(ticketCategories).optional(), queue: z.string().min(1).max(64).optional() })
  .refine((b) => b.category !== undefined || b.queue !== undefined, { message: 'send category and/or queue' });

async function jsonOf<T extends z.ZodType>(c: { req: { json(): Promise<unknown> } }, schema: T): Promise<z.output<T>> {
  const parsed = schema.safeParse(await c.req.json());
  if (!parsed.success) {
    throw new ValidationError(
      'The request body is invalid',
      parsed.error.issues.map((i) => ({ field: i.path.map(String).join('.') || 'body', message: i.message })),
    );
  }
  return parsed.data;
}

/** /api/v1/conversations: agent corrections on inbound tickets (patient link, routing). */
export function conversationRoutes(deps: ConversationRouteDeps & { channelSettings: ChannelSettingsService }) {
  const conversations = new ConversationService({
    database: deps.database,
    clock: deps.clock ?? systemClock,
    afterCommit: (actor) => deps.sealer.schedule(actor.tenantId),
  });
  const app = new Hono<AppEnv>();
  const staff = requireRoles(deps.database, 'agent', 'billing', 'supervisor', 'admin');
  const uuid = /^[0-9a-f-]{36}$/i;
  // Admins create named integration credentials; the API key and HMAC secret are shown only here. Kept for
  // existing callers; /api/v1/channel-settings/integration-keys is the documented home (list, rotate).
  app.post('/integration-keys', requireRoles(deps.database, 'admin'), async (c) => {
    const body = await jsonOf(c, IntegrationKeyBody);
    return c.json(await deps.channelSettings.createIntegrationKey(c.get('actor'), body), 201);
  });
  app.put('/tickets/:id/patient', staff, async (c) => {
    const id = c.req.param('id');
    if (!uuid.test(id)) throw new HTTPException(404, { message: 'Ticket not found' });
    const { patient } = await jsonOf(c, PatientBody);
    const row = await conversations.setPatient(c.get('actor'), id, patient);
    return c.json({ id: row.id, patientRef: row.patientRef, version: row.version, verification: row.verification });
  });
  app.put('/tickets/:id/routing', staff, async (c) => {
    const id = c.req.param('id');
    if (!uuid.test(id)) throw new HTTPException(404, { message: 'Ticket not found' });
    const body = await jsonOf(c, RoutingBody);
    const row = await conversations.correctRouting(c.get('actor'), id, body);
    return c.json({ id: row.id, category: row.category, queue: row.queue, version: row.version });
  });
  return app;
}
