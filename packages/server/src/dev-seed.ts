// Embedded mode's demo tenant and users, created once, so `npm start` is usable at once.
import { type Database, type Role, schema } from '@fhirdesk/core';
import { eq } from 'drizzle-orm';

export const DEV_TENANT_SLUG = 'demo';

export interface DevIdentity {
  tenantId: string;
  users: { id: string; displayName: string; roles: Role[] }[];
}

const devUsers: { displayName: string; roles: Role[]; subject: string }[] = [
  { displayName: 'Dev Admin', roles: ['admin', 'supervisor', 'agent', 'billing'], subject: 'dev-admin' },
  { displayName: 'Alex Agent', roles: ['agent'], subject: 'dev-agent' },
  { displayName: 'Bea Billing', roles: ['billing'], subject: 'dev-billing' },
];

export async function ensureDevTenant(database: Database): Promise<DevIdentity> {
  const { tenant, appUser } = schema;
  return database.db.transaction(async (tx) => {
    await tx.insert(tenant).values({ slug: DEV_TENANT_SLUG, name: 'Demo clinic' }).onConflictDoNothing();
    const [t] = await tx.select().from(tenant).where(eq(tenant.slug, DEV_TENANT_SLUG));
    const users = [];
    for (const u of devUsers) {
      await tx
        .insert(appUser)
        .values({
          tenantId: t!.id,
          displayName: u.displayName,
          roles: u.roles,
          issuer: 'fhirdesk-dev',
          subject: u.subject,
        })
        .onConflictDoNothing();
      const [row] = await tx.select().from(appUser).where(eq(appUser.subject, u.subject));
      users.push({ id: row!.id, displayName: row!.displayName, roles: row!.roles });
    }
    return { tenantId: t!.id, users };
  });
}
