// Fixtures for the conversation tests: a source, cached Patients with telecom, an integration key.
import { randomUUID } from 'node:crypto';
import { type Database, schema } from '@fhirdesk/core';
import type { Patient } from 'fhir/r4';
import { cacheResources } from '../agent-view/cache-fixtures';

export async function addSource(database: Database, tenantId: string, baseUrl = 'http://127.0.0.1:1/fhir/r4') {
  const id = randomUUID();
  await database.db.insert(schema.source).values({ id, tenantId, name: 'EHR', kind: 'sandbox', baseUrl });
  return id;
}

export async function cachePatient(
  database: Database,
  tenantId: string,
  sourceId: string,
  id: string,
  telecom: { system: string; value: string }[],
) {
  await cacheResources(
    database,
    tenantId,
    sourceId,
    [{ resource: { resourceType: 'Patient', id, telecom } as Patient, patientId: id }],
    new Date(),
  );
}

/** A resolved ticket of the tenant, as the survey job finds it (resolved a minute ago unless told). */
export async function resolvedTicket(
  database: Database,
  tenantId: string,
  options: { number?: number; subject?: string; channel?: 'email' | 'phone'; resolvedAt?: Date } = {},
) {
  const resolvedAt = options.resolvedAt ?? new Date(Date.now() - 60_000);
  const [row] = await database.db
    .insert(schema.ticket)
    .values({
      tenantId,
      number: options.number ?? 1001,
      subject: options.subject ?? 'Bill',
      category: 'billing',
      channel: options.channel ?? 'email',
      status: 'resolved',
      resolvedAt,
      createdAt: resolvedAt,
      updatedAt: resolvedAt,
    })
    .returning();
  return row!;
}
