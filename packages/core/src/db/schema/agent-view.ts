import { integer, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { source } from './sources';
import { tenant } from './tenants';

/**
 * The agent view's precomputed parts per patient (issue #4): JSON text built from `fhir_resource` by the
 * same pure functions as the live builder, so a read concatenates text instead of assembling it in Node.
 * `fhir_resource` stays the source of truth; a row is current while `watermark` equals the hash of the
 * patient's cached rows and `built_for` equals today's date (coverage status depends on the day).
 */
export const patientViewProjection = pgTable(
  'patient_view_projection',
  {
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenant.id),
    sourceId: uuid('source_id')
      .notNull()
      .references(() => source.id, { onDelete: 'cascade' }),
    patientId: text('patient_id').notNull(),
    /** md5 over (type, id, content hash, last updated, fetched at) of the patient's non-deleted rows. */
    watermark: text('watermark').notNull(),
    /** UTC date (YYYY-MM-DD) the coverage statuses were computed for. */
    builtFor: text('built_for').notNull(),
    /** `patient`, `coverages` and both role shapes of `claims`, each as JSON text. */
    patientJson: text('patient_json').notNull(),
    coveragesJson: text('coverages_json').notNull(),
    claimsBillingJson: text('claims_billing_json').notNull(),
    claimsAgentJson: text('claims_agent_json').notNull(),
    coverageCount: integer('coverage_count').notNull(),
    claimCount: integer('claim_count').notNull(),
    builtAt: timestamp('built_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [primaryKey({ name: 'patient_view_projection_pk', columns: [t.tenantId, t.sourceId, t.patientId] })],
);

export type PatientViewProjectionRow = typeof patientViewProjection.$inferSelect;
