import { sql } from 'drizzle-orm';
import { boolean, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { tenant } from './tenants';

const tstz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** One configured EHR or payer endpoint of a tenant (DESIGN §1). */
export const source = pgTable(
  'source',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenant.id),
    name: text('name').notNull(),
    /** `fhir-r4`, `epic`, `oracle-health`, `sandbox`, `x12-835`, … */
    kind: text('kind').notNull(),
    /** FHIR base URL; also the SMART `iss` agents launch from. */
    baseUrl: text('base_url'),
    /** Non-secret auth settings (mode, client id, token URL, key id); secrets live encrypted in `secret`. */
    auth: jsonb('auth').$type<Record<string, unknown>>().notNull().default({}),
    secret: text('secret'),
    resourceTypes: text('resource_types').array().$type<string[]>().notNull().default(sql`'{}'::text[]`),
    syncMode: text('sync_mode').notNull().default('incremental'),
    schedule: text('schedule'),
    rateLimit: integer('rate_limit'),
    concurrency: integer('concurrency').notNull().default(2),
    settings: jsonb('settings').$type<Record<string, unknown>>().notNull().default({}),
    enabled: boolean('enabled').notNull().default(true),
    createdAt: tstz('created_at').notNull().defaultNow(),
    updatedAt: tstz('updated_at').notNull().defaultNow(),
  },
  (t) => [index('source_tenant_idx').on(t.tenantId), index('source_base_url_idx').on(t.baseUrl)],
);

/** The synced cache: JSON as published, keyed by (tenant, source, type, id). */
export const fhirResource = pgTable(
  'fhir_resource',
  {
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenant.id),
    sourceId: uuid('source_id')
      .notNull()
      .references(() => source.id),
    resourceType: text('resource_type').notNull(),
    resourceId: text('resource_id').notNull(),
    versionId: text('version_id'),
    /** `meta.lastUpdated` as published (string) and parsed, for ordering. */
    lastUpdated: text('last_updated'),
    lastUpdatedAt: tstz('last_updated_at'),
    /** Id of the Patient the resource belongs to (Coverage.beneficiary, Claim.patient, …). */
    patientId: text('patient_id'),
    resource: jsonb('resource').$type<Record<string, unknown>>().notNull(),
    contentHash: text('content_hash').notNull(),
    fetchedAt: tstz('fetched_at').notNull(),
    deleted: boolean('deleted').notNull().default(false),
    deletedAt: tstz('deleted_at'),
  },
  (t) => [
    primaryKey({ name: 'fhir_resource_pk', columns: [t.tenantId, t.sourceId, t.resourceType, t.resourceId] }),
    index('fhir_resource_patient_idx').on(t.tenantId, t.patientId, t.resourceType),
    // What a sync run changed (fetched at or after its start): rebuildChangedPatientViews and the dispute
    // auto-open hook (openDisputesForChanges) read it after every run; without it both scan the cache. fetched_at
    // leads: the range is recent, so few entries of all tenants qualify, inserts go to the right edge, and the
    // planner cannot mistake it for a per-tenant index (with tenant_id first it was picked for patient reads).
    index('fhir_resource_fetched_idx').on(t.fetchedAt, t.tenantId, t.sourceId),
    // ... and what it marked deleted (the OR branch of rebuildChangedPatientViews; few rows, so partial).
    index('fhir_resource_deleted_idx').on(t.deletedAt, t.tenantId, t.sourceId).where(sql`deleted`),
  ],
);

export type Source = typeof source.$inferSelect;
export type FhirResourceRow = typeof fhirResource.$inferSelect;
