// Environment configuration, validated at start-up: a wrong value stops the process with a message
// naming the variable (DESIGN "Config").
import { z } from 'zod';

const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8787),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  FHIRDESK_DATA_DIR: z.string().min(1).default('./.data'),
  /** PostgreSQL connections of the server's pool; unset → core's default (DEFAULT_POOL_SIZE). */
  FHIRDESK_DB_POOL_SIZE: z.coerce.number().int().min(2).max(200).optional(),
  FHIRDESK_JWT_SECRET: z.string().min(32, 'must be at least 32 characters (256 bits)').optional(),
  FHIRDESK_SECRET_KEY: z
    .string()
    .regex(/^([0-9a-fA-F]{64}|[A-Za-z0-9+/_-]{43}=?)$/, 'must be 32 bytes as 64 hex characters or base64')
    .optional(),
  FHIRDESK_SANDBOX_EHR: z.enum(['on', 'off']).optional(),
  FHIRDESK_SANDBOX_PORT: z.coerce.number().int().min(0).max(65535).default(8788),
  FHIRDESK_SMART_CLIENT_ID: z.string().min(1).max(200).default('fhirdesk-agent-app'),
  FHIRDESK_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(3600),
  // HIPAA-04: idle limit (≤ 15 min by default) and absolute lifetime of a launch session.
  FHIRDESK_SESSION_IDLE_SECONDS: z.coerce.number().int().min(30).max(3600).default(900),
  FHIRDESK_SESSION_MAX_SECONDS: z.coerce.number().int().min(300).max(86_400).default(28_800),
  FHIRDESK_BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(50 * 1024 * 1024)
    .default(1024 * 1024),
  FHIRDESK_PUBLIC_URL: z.string().url().optional(),
  /** Where SLA at-risk / breached notices are POSTed (signed with the secret below). */
  FHIRDESK_SLA_WEBHOOK_URL: z.string().url().optional(),
  FHIRDESK_SLA_WEBHOOK_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  FHIRDESK_DELIVERY_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(6),
  FHIRDESK_DELIVERY_RETRY_BASE_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
  // Below SonicBoom's largest single write (16 KB), which it requires.
  FHIRDESK_LOG_BUFFER_BYTES: z.coerce.number().int().min(0).max(8192).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = z.infer<typeof schema> & { embedded: boolean };

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const result = schema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const config = { ...result.data, embedded: !result.data.DATABASE_URL };
  if (Boolean(config.FHIRDESK_SLA_WEBHOOK_URL) !== Boolean(config.FHIRDESK_SLA_WEBHOOK_SECRET)) {
    throw new ConfigError(
      'Invalid configuration:\n  FHIRDESK_SLA_WEBHOOK_SECRET: FHIRDESK_SLA_WEBHOOK_URL and FHIRDESK_SLA_WEBHOOK_SECRET are set together',
    );
  }
  if (!config.embedded && !config.FHIRDESK_SECRET_KEY) {
    throw new ConfigError(
      'Invalid configuration:\n  FHIRDESK_SECRET_KEY: required when DATABASE_URL is set (it encrypts connector secrets at rest)',
    );
  }
  if (!config.embedded && !config.FHIRDESK_JWT_SECRET) {
    throw new ConfigError(
      'Invalid configuration:\n  FHIRDESK_JWT_SECRET: required when DATABASE_URL is set (embedded mode generates a dev key)',
    );
  }
  return config;
}
