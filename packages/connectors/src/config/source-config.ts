// Source configuration (issue #3): one generic FHIR R4 connector, with Epic- and Oracle-Health-style
// presets expressed as configuration over it (EPIC-07/08, ORA-02..05), never as copies of the code.
import { z } from 'zod';

export const sourceKinds = ['fhir-r4', 'epic', 'oracle-health', 'sandbox'] as const;
export type SourceKind = (typeof sourceKinds)[number];

export const DEFAULT_RESOURCE_TYPES = [
  'Patient',
  'Coverage',
  'Claim',
  'ClaimResponse',
  'ExplanationOfBenefit',
  'Account',
  'Organization',
  'Practitioner',
] as const;

const url = z.url({ protocol: /^https?$/ });

export const authConfigSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('none') }),
  /** Static bearer token; the token itself is a secret (`SourceSecrets.bearerToken`). */
  z.object({ mode: z.literal('bearer') }),
  /** OAuth client_credentials with a client secret (`SourceSecrets.clientSecret`). */
  z.object({
    mode: z.literal('client-secret'),
    clientId: z.string().min(1),
    tokenUrl: url.optional(),
    scope: z.string().optional(),
  }),
  /** SMART Backend Services (BS-01..08): private key in `SourceSecrets.privateJwk`. */
  z.object({
    mode: z.literal('backend-services'),
    clientId: z.string().min(1),
    tokenUrl: url.optional(),
    alg: z.enum(['RS384', 'ES384']).default('ES384'),
    kid: z.string().min(1),
    /** Registered JWKS URL; sent as `jku` only when set (BS-03). */
    jwksUrl: url.optional(),
    scope: z.string().optional(),
  }),
]);
export type AuthConfig = z.infer<typeof authConfigSchema>;

export const bulkConfigSchema = z.object({
  level: z.enum(['system', 'patient', 'group']).default('system'),
  groupId: z.string().optional(),
  pollIntervalMs: z.number().int().positive().default(2_000),
  maxPollMs: z
    .number()
    .int()
    .positive()
    .default(6 * 60 * 60 * 1000),
});

const searchParamValue = z.union([z.string(), z.array(z.string())]);

export const sourceConfigSchema = z.object({
  kind: z.enum(sourceKinds).default('fhir-r4'),
  baseUrl: url.transform((u) => u.replace(/\/+$/, '')),
  auth: authConfigSchema.default({ mode: 'none' }),
  resourceTypes: z
    .array(z.string().regex(/^[A-Z][A-Za-z]+$/))
    .min(1)
    .default([...DEFAULT_RESOURCE_TYPES]),
  syncMode: z.enum(['incremental', 'patient', 'bulk']).default('incremental'),
  /** Cron expression (pg-boss schedule) or absent for on-demand only. */
  schedule: z.string().optional(),
  /** Requests per second; absent = unlimited (EPIC-07: limits are per-source settings). */
  rateLimit: z.number().positive().optional(),
  concurrency: z.number().int().min(1).max(16).default(2),
  /** `_count` hint per page (REST-02); absent = server default (EPIC-08: do not assume `_count`). */
  pageSize: z.number().int().positive().max(1000).optional(),
  /** Overlap subtracted from the checkpoint (INC-01). */
  overlapSeconds: z.number().int().min(0).default(120),
  /** Types whose search needs a `patient` parameter: synced by iterating the source's patients (Epic, ORA-02). */
  patientScopedTypes: z.array(z.string()).default([]),
  /** Extra search parameters per type, passed through unchanged (ORA-05 leading-hyphen params). */
  searchParams: z.record(z.string(), z.record(z.string(), searchParamValue)).default({}),
  /** Search parameters each type must support, checked at discovery (EPIC-08). */
  requiredSearchParams: z.record(z.string(), z.array(z.string())).default({}),
  bulk: bulkConfigSchema.optional(),
  /**
   * First full sync of a type split into `count` `_lastUpdated` ranges from `from` to the server's now, fetched
   * in parallel (up to `concurrency`), each with its own resumable checkpoint. Later runs are incremental.
   */
  timeSlices: z.object({ from: z.iso.datetime({ offset: true }), count: z.number().int().min(2).max(64) }).optional(),
  /** Per-request timeout. */
  timeoutMs: z.number().int().positive().default(30_000),
  maxRetries: z.number().int().min(0).max(20).default(5),
});
export type SourceConfig = z.infer<typeof sourceConfigSchema>;
export type SourceConfigInput = z.input<typeof sourceConfigSchema>;

/** Secrets of a source, stored encrypted in `source.secret` (see secret-box.ts), never logged. */
export const sourceSecretsSchema = z.object({
  bearerToken: z.string().optional(),
  clientSecret: z.string().optional(),
  /** Private JWK (JSON) for Backend Services. */
  privateJwk: z.record(z.string(), z.unknown()).optional(),
});
export type SourceSecrets = z.infer<typeof sourceSecretsSchema>;

/**
 * Preset defaults per kind, applied under what the source explicitly sets.
 * - epic: Coverage/EOB/Account searches need `patient`, so they iterate patients; populations use Group
 *   export; `_count` and `_lastUpdated` are not assumed (EPIC-08), concurrency kept low (EPIC-07).
 * - oracle-health: Coverage/Account need `patient` (ORA-02/03); `_count` defaults to 10 (ORA-03); Account
 *   searches by `patient` need `type=statement` (plus an `identifier` the site must configure).
 */
export const sourcePresets: Record<SourceKind, Partial<SourceConfigInput>> = {
  'fhir-r4': {},
  sandbox: { pageSize: 50 },
  epic: {
    patientScopedTypes: ['Coverage', 'ExplanationOfBenefit', 'Account', 'Claim', 'ClaimResponse'],
    requiredSearchParams: { Coverage: ['patient'], ExplanationOfBenefit: ['patient'] },
    concurrency: 2,
    bulk: { level: 'group', pollIntervalMs: 5_000, maxPollMs: 6 * 60 * 60 * 1000 },
  },
  'oracle-health': {
    pageSize: 10,
    patientScopedTypes: ['Coverage', 'Account'],
    requiredSearchParams: { Coverage: ['patient'] },
    searchParams: { Account: { type: 'statement' } },
    concurrency: 2,
  },
};

/** Parses a source configuration, filling the preset of its kind under the explicit settings. */
export function parseSourceConfig(input: SourceConfigInput): SourceConfig {
  const kind = sourceConfigSchema.shape.kind.parse(input.kind);
  const preset = sourcePresets[kind];
  const merged: Record<string, unknown> = { ...preset };
  for (const [k, v] of Object.entries(input)) if (v !== undefined && v !== null) merged[k] = v;
  return sourceConfigSchema.parse(merged);
}

/** The subset of a `source` row the connector reads. */
export interface SourceRowLike {
  kind: string;
  baseUrl: string | null;
  auth: Record<string, unknown>;
  resourceTypes: string[];
  syncMode: string;
  schedule: string | null;
  rateLimit: number | null;
  concurrency: number;
  settings: Record<string, unknown>;
}

/** A `source` row as a validated configuration; `settings` holds the remaining options (pageSize, bulk, …). */
export function sourceConfigFromRow(row: SourceRowLike): SourceConfig {
  return parseSourceConfig({
    ...(row.settings as Partial<SourceConfigInput>),
    kind: row.kind as SourceKind,
    baseUrl: row.baseUrl ?? '',
    auth: row.auth as AuthConfig,
    resourceTypes: row.resourceTypes.length > 0 ? row.resourceTypes : undefined,
    syncMode: row.syncMode as SourceConfig['syncMode'],
    schedule: row.schedule ?? undefined,
    rateLimit: row.rateLimit ?? undefined,
    concurrency: row.concurrency,
  } as SourceConfigInput);
}
