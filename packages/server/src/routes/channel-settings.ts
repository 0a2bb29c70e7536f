// /api/v1/channel-settings (admins): reply transports, the tenant's SLA webhook and inbound integration keys.
// Secrets are write-only: requests may carry them, responses show `hasSecret` and a fingerprint; generated
// API keys and HMAC secrets are shown once, in the response that created them. Every change is audited.
import { type ChannelSettingsService, inboundChannels } from '@fhirdesk/core';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { requireRoles } from '../auth/middleware';
import type { AppEnv } from '../http/env';
import { bearerSecurity, body, json, problems } from '../http/openapi';
import { validationHook } from '../http/validation';
import { IdParam } from './ticket-schemas';

const httpUrl = z
  .string()
  .url()
  .max(2000)
  .refine((u) => /^https?:\/\//i.test(u), 'must be an http(s) URL');
const signingSecret = z.string().min(16, 'must be at least 16 characters').max(512);

const SecretSummarySchema = z
  .object({
    hasSecret: z.boolean(),
    fingerprint: z
      .string()
      .nullable()
      .openapi({ description: 'keyed tag of the secret, to compare; never the secret' }),
    updatedAt: z.string().nullable(),
  })
  .openapi('SecretSummary');

const EmailBase = {
  host: z.string().min(1).max(255),
  port: z.number().int().min(1).max(65535),
  secure: z.boolean().default(false),
  from: z.string().min(3).max(320),
  replyDomain: z.string().min(1).max(255),
  replyLocalPart: z
    .string()
    .regex(/^[a-z0-9._-]{1,32}$/i)
    .optional(),
  timeoutMs: z.number().int().min(100).max(120_000).optional(),
};
const WebhookBase = {
  url: httpUrl,
  channels: z.array(z.enum(['sms', 'chat', 'portal', 'email'])).min(1),
  timeoutMs: z.number().int().min(100).max(120_000).optional(),
};

const SetOutboundSchema = z
  .object({
    email: z
      .object({
        ...EmailBase,
        auth: z
          .object({
            user: z.string().min(1).max(320),
            pass: z
              .string()
              .min(1)
              .max(512)
              .optional()
              .openapi({ description: 'write-only; omit to keep the stored one' }),
          })
          .strict()
          .optional(),
      })
      .strict()
      .nullable()
      .optional(),
    webhook: z
      .object({
        ...WebhookBase,
        secret: signingSecret.optional().openapi({ description: 'write-only; omit to keep the stored one' }),
      })
      .strict()
      .nullable()
      .optional(),
  })
  .strict()
  .openapi('SetOutboundSettings');

const SetSlaWebhookSchema = z
  .object({
    url: httpUrl,
    secret: signingSecret.optional().openapi({ description: 'write-only HMAC secret; omit to keep the stored one' }),
  })
  .strict()
  .openapi('SetSlaWebhook');

const ChannelSettingsSchema = z
  .object({
    outbound: z.object({
      email: z
        .object({
          ...EmailBase,
          secure: z.boolean(),
          auth: z.object({ user: z.string(), password: SecretSummarySchema }).nullable(),
        })
        .nullable(),
      webhook: z.object({ ...WebhookBase, url: z.string(), secret: SecretSummarySchema }).nullable(),
    }),
    slaWebhook: z.union([
      z.object({ origin: z.literal('tenant'), url: z.string(), secret: SecretSummarySchema }),
      z.object({ origin: z.enum(['deployment', 'none']) }),
    ]),
  })
  .openapi('ChannelSettings');

const IntegrationKeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    channels: z.array(z.enum(inboundChannels)),
    active: z.boolean(),
    hasApiKey: z.boolean(),
    hmac: z.object({ hasSecret: z.boolean(), fingerprint: z.string().nullable() }),
    createdAt: z.string(),
    rotatedAt: z.string().nullable(),
  })
  .openapi('IntegrationKey');
const CreateIntegrationKeySchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'lower-case letters, digits and dashes'),
    channels: z.array(z.enum(inboundChannels)).min(1),
    apiKey: z.boolean().default(true),
    hmac: z.boolean().default(false),
  })
  .strict()
  .openapi('CreateIntegrationKey');
const IssuedSchema = z
  .object({
    id: z.string(),
    apiKey: z.string().nullable().openapi({ description: 'shown once; only its hash is stored' }),
    hmacSecret: z.string().nullable().openapi({ description: 'shown once when generated; stored sealed' }),
  })
  .openapi('IssuedIntegrationCredentials');
const RotateSchema = z
  .object({
    apiKey: z.boolean().optional(),
    hmac: z.boolean().optional(),
    hmacSecret: z.string().min(32, 'must be at least 32 characters').max(512).optional(),
  })
  .strict()
  .openapi('RotateIntegrationKey');

export function channelSettingsRoutes(deps: {
  database: import('@fhirdesk/core').Database;
  settings: ChannelSettingsService;
}) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  const admins = requireRoles(deps.database, 'admin');
  const tags = ['Channel settings'];

  app.openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags,
      summary: 'Reply transports and SLA webhook of the tenant (secrets as hasSecret + fingerprint only)',
      security: bearerSecurity,
      middleware: [admins] as const,
      responses: { 200: json(ChannelSettingsSchema, 'Settings'), ...problems(403) },
    }),
    async (c) => c.json(await deps.settings.get(c.get('actor')), 200),
  );
  app.openapi(
    createRoute({
      method: 'put',
      path: '/outbound',
      tags,
      summary: 'Set the reply transports (SMTP, signed webhook); SMTP password and webhook secret are write-only',
      security: bearerSecurity,
      middleware: [admins] as const,
      request: body(SetOutboundSchema),
      responses: { 200: json(ChannelSettingsSchema, 'Updated'), ...problems(400, 403) },
    }),
    async (c) => c.json(await deps.settings.setOutbound(c.get('actor'), c.req.valid('json')), 200),
  );
  app.openapi(
    createRoute({
      method: 'put',
      path: '/sla-webhook',
      tags,
      summary: "Set the tenant's own SLA webhook (replaces the deployment's for this tenant); the secret is write-only",
      security: bearerSecurity,
      middleware: [admins] as const,
      request: body(SetSlaWebhookSchema),
      responses: { 200: json(ChannelSettingsSchema, 'Updated'), ...problems(400, 403) },
    }),
    async (c) => c.json(await deps.settings.setSlaWebhook(c.get('actor'), c.req.valid('json')), 200),
  );
  app.openapi(
    createRoute({
      method: 'delete',
      path: '/sla-webhook',
      tags,
      summary: "Remove the tenant's SLA webhook: notices go to the deployment's webhook again",
      security: bearerSecurity,
      middleware: [admins] as const,
      responses: { 200: json(ChannelSettingsSchema, 'Updated'), ...problems(403) },
    }),
    async (c) => c.json(await deps.settings.setSlaWebhook(c.get('actor'), null), 200),
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/integration-keys',
      tags,
      summary: 'Inbound integration keys (never the key or secret)',
      security: bearerSecurity,
      middleware: [admins] as const,
      responses: { 200: json(z.object({ items: z.array(IntegrationKeySchema) }), 'Keys'), ...problems(403) },
    }),
    async (c) => c.json({ items: await deps.settings.listIntegrationKeys(c.get('actor')) }, 200),
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/integration-keys',
      tags,
      summary: 'Create an inbound integration key; the API key and HMAC secret are shown in this response only',
      security: bearerSecurity,
      middleware: [admins] as const,
      request: body(CreateIntegrationKeySchema),
      responses: { 201: json(IssuedSchema, 'Created'), ...problems(400, 403) },
    }),
    async (c) => c.json(await deps.settings.createIntegrationKey(c.get('actor'), c.req.valid('json')), 201),
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/integration-keys/{id}/rotate',
      tags,
      summary:
        "Replace an integration key's API key and/or HMAC secret; the old ones are refused from now on. Generated values are shown once; an hmacSecret you send is never echoed",
      security: bearerSecurity,
      middleware: [admins] as const,
      request: { params: IdParam, ...body(RotateSchema) },
      responses: {
        200: json(IssuedSchema.extend({ key: IntegrationKeySchema }), 'Rotated'),
        ...problems(400, 403, 404),
      },
    }),
    async (c) =>
      c.json(
        await deps.settings.rotateIntegrationKey(c.get('actor'), c.req.valid('param').id, c.req.valid('json')),
        200,
      ),
  );
  return app;
}
