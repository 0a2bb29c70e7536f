// Puts fixture resources into the fhir_resource cache the way a connector would (patient index, fetch time).
import { createHash, randomUUID } from 'node:crypto';
import { type Database, schema } from '@fhirdesk/core';
import { eq } from 'drizzle-orm';
import type { Bundle, Resource } from 'fhir/r4';
import { loadHl7Examples, loadSyntheaBundles } from '../fixtures/fhir-r4-fixtures';

export async function createSource(
  database: Database,
  tenantId: string,
  baseUrl: string,
  auth: Record<string, unknown> = {},
  settings: Record<string, unknown> = {},
): Promise<string> {
  const id = randomUUID();
  await database.db
    .insert(schema.source)
    .values({ id, tenantId, name: 'Test EHR', kind: 'fhir-r4', baseUrl, auth, settings });
  return id;
}

export async function cacheResources(
  database: Database,
  tenantId: string,
  sourceId: string,
  entries: { resource: Resource; patientId: string | null }[],
  fetchedAt: Date,
): Promise<void> {
  if (entries.length === 0) return;
  await database.db.insert(schema.fhirResource).values(
    entries.map(({ resource, patientId }) => ({
      tenantId,
      sourceId,
      resourceType: resource.resourceType,
      resourceId: resource.id!,
      versionId: resource.meta?.versionId ?? '1',
      lastUpdated: resource.meta?.lastUpdated ?? '2024-01-01T00:00:00Z',
      patientId,
      resource: resource as unknown as Record<string, unknown>,
      contentHash: createHash('sha256').update(JSON.stringify(resource)).digest('hex'),
      fetchedAt,
    })),
  );
}

export async function setFetchedAt(database: Database, sourceId: string, fetchedAt: Date): Promise<void> {
  await database.db.update(schema.fhirResource).set({ fetchedAt }).where(eq(schema.fhirResource.sourceId, sourceId));
}

export const hl7 = <T extends Resource>(file: string): T =>
  structuredClone(loadHl7Examples().find((f) => f.file === file)!.resource as T);

/**
 * A Synthea transaction bundle as a FHIR server stores it: `urn:uuid:` references rewritten to `Type/id`
 * (what a server does when it processes the transaction).
 */
export function syntheaAsStored(index = 0): { patientId: string; resources: Resource[] } {
  const { bundle } = loadSyntheaBundles()[index]!;
  const targets = new Map<string, string>();
  for (const e of bundle.entry ?? [])
    if (e.fullUrl && e.resource) targets.set(e.fullUrl, `${e.resource.resourceType}/${e.resource.id}`);
  const text = JSON.stringify(bundle).replace(/"urn:uuid:[0-9a-f-]+"/g, (m) => {
    const target = targets.get(m.slice(1, -1));
    return target ? `"${target}"` : m;
  });
  const stored = JSON.parse(text) as Bundle;
  const resources = (stored.entry ?? []).map((e) => e.resource!).filter(Boolean);
  return { patientId: resources.find((r) => r.resourceType === 'Patient')!.id!, resources };
}
