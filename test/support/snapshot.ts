// Row counts of everything a request could write for a tenant: "the database is unchanged" is asserted with this.
import type { Database } from '@fhirdesk/core';
import { sql } from 'drizzle-orm';

export async function tenantRowCounts(database: Database, tenantId: string): Promise<Record<string, number>> {
  const rows = await database.query<{ t: string; n: number }>(sql`
    select 'ticket' as t, count(*)::int as n from ticket where tenant_id = ${tenantId}
    union all select 'ticket_event', count(*)::int from ticket_event where tenant_id = ${tenantId}
    union all select 'ticket_link', count(*)::int from ticket_link where tenant_id = ${tenantId}
    union all select 'audit_event', count(*)::int from audit_event where tenant_id = ${tenantId}
    union all select 'ticket_counter', count(*)::int from ticket_counter where tenant_id = ${tenantId}`);
  return Object.fromEntries(rows.map((r) => [r.t, Number(r.n)]));
}
