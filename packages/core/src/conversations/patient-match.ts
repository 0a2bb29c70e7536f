// Matching an inbound sender to a cached Patient by Patient.telecom. Exactly one patient links;
// several or none leave the ticket unmatched for an agent to resolve — never a guess.
import { sql } from 'drizzle-orm';
import { normaliseEmail, normalisePhone } from '../channels/contact-address';
import type { Tx } from '../db/database';
import { rowsOf } from '../db/database';

export type PatientMatch =
  | { status: 'matched'; reference: string; sourceId: string; candidates: 1 }
  | { status: 'ambiguous' | 'unmatched'; reference: null; sourceId: null; candidates: number };

/**
 * Phone numbers are stored as published (`(555) 010-1234`), so SQL narrows by the last ten digits
 * and the exact E.164 comparison happens here. Scans the tenant's Patients' telecom (no index on
 * telecom values yet; fine for the cache sizes of one desk, revisit with a projection table).
 */
export async function matchPatientByContact(
  tx: Tx,
  tenantId: string,
  contact: { phone: string | null; email: string | null },
): Promise<PatientMatch> {
  if (!contact.phone && !contact.email) return { status: 'unmatched', reference: null, sourceId: null, candidates: 0 };
  const last10 = contact.phone ? contact.phone.replace(/\D/g, '').slice(-10) : null;
  const result = await tx.execute(sql`
    select distinct f.source_id, f.resource_id, t->>'system' as system, t->>'value' as value
    from fhir_resource f
    cross join lateral jsonb_array_elements(
      case when jsonb_typeof(f.resource->'telecom') = 'array' then f.resource->'telecom' else '[]'::jsonb end) t
    where f.tenant_id = ${tenantId} and f.resource_type = 'Patient' and not f.deleted
      and (
        (${last10}::text is not null and t->>'system' in ('phone', 'sms')
          and right(regexp_replace(t->>'value', '\\D', '', 'g'), 10) = ${last10}::text)
        or (${contact.email}::text is not null and t->>'system' = 'email'
          and lower(trim(t->>'value')) = ${contact.email}::text)
      )
    limit 50`);
  const rows = rowsOf<{ source_id: string; resource_id: string; system: string; value: string }>(result);
  const patients = new Map<string, { sourceId: string; id: string }>();
  for (const r of rows) {
    const ok =
      r.system === 'email' ? normaliseEmail(r.value) === contact.email : normalisePhone(r.value) === contact.phone;
    if (ok) patients.set(`${r.source_id}|${r.resource_id}`, { sourceId: r.source_id, id: r.resource_id });
  }
  const found = [...patients.values()];
  if (found.length === 1) {
    return { status: 'matched', reference: `Patient/${found[0]!.id}`, sourceId: found[0]!.sourceId, candidates: 1 };
  }
  return {
    status: found.length === 0 ? 'unmatched' : 'ambiguous',
    reference: null,
    sourceId: null,
    candidates: found.length,
  };
}
