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
