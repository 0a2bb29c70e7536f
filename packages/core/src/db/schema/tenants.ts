import { sql } from 'drizzle-orm';
import {
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
  uuid,
} from 'drizzle-orm/pg-core';
import { type Role, roles, sqlList } from './enums';

export const tenant = pgTable('tenant', {
  id: uuid('id').primaryKey().defaultRandom(),
  slug: text('slug').notNull().unique(),
  name: text('name').notNull(),
  settings: jsonb('settings').$type<Record<string, unknown>>().notNull().default({}),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

// Row-locked counter: gap-free human ticket numbers per tenant (T-1001, T-1002, …).
export const ticketCounter = pgTable('ticket_counter', {
  tenantId: uuid('tenant_id')
    .primaryKey()
    .references(() => tenant.id),
  nextNumber: integer('next_number').notNull().default(1001),
});

export const appUser = pgTable(
  'app_user',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenant.id),
    displayName: text('display_name').notNull(),
    roles: text('roles').array().$type<Role[]>().notNull().default(sql`'{}'::text[]`),
    /** FHIR `fhirUser` (Practitioner/123, PractitionerRole/…), when the user arrived through a SMART launch. */
    fhirUser: text('fhir_user'),
    /** OIDC issuer + subject: the unique identity for audit (SAL-63). */
    issuer: text('issuer'),
    subject: text('subject'),
    languages: text('languages').array().$type<string[]>().notNull().default(sql`'{}'::text[]`),
    active: boolean('active').notNull().default(true),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    unique('app_user_identity_uq').on(t.tenantId, t.issuer, t.subject),
    index('app_user_tenant_idx').on(t.tenantId),
    check('app_user_roles_ck', sql.raw(`roles <@ ARRAY[${sqlList(roles)}]::text[]`)),
  ],
);

export const tenantSecretNames = ['outbound.email.password', 'outbound.webhook.secret', 'sla.webhook.secret'] as const;
export type TenantSecretName = (typeof tenantSecretNames)[number];

/**
 * Secrets of a tenant's settings (SMTP password, webhook signing secrets), kept out of `tenant.settings` so
 * that JSON holds no secret and can be shown to admins. `sealed` is the secret box's output bound to
 * (tenant, name); `fingerprint` is its keyed tag, so listing never decrypts.
 */
export const tenantSecret = pgTable(
  'tenant_secret',
  {
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenant.id),
    name: text('name').$type<TenantSecretName>().notNull(),
    sealed: text('sealed').notNull(),
    fingerprint: text('fingerprint').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [
    primaryKey({ name: 'tenant_secret_pk', columns: [t.tenantId, t.name] }),
    check('tenant_secret_name_ck', sql.raw(`name IN (${sqlList(tenantSecretNames)})`)),
  ],
);

export type Tenant = typeof tenant.$inferSelect;
export type TenantSecret = typeof tenantSecret.$inferSelect;
export type AppUser = typeof appUser.$inferSelect;
