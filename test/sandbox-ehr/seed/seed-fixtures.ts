// Seeds the sandbox from test/fixtures/fhir-r4. Synthea transaction bundles go through the router's
// own batch processing as PUTs, so `urn:uuid:` references are rewritten to `Type/id` by the library
// while the Synthea uuids stay the server ids (stable across restarts; shared Organization and
// Practitioner ids upsert instead of failing).
import type { FhirRouter } from '@medplum/fhir-router';
import type { Bundle as MedplumBundle, Resource as MedplumResource } from '@medplum/fhirtypes';
import type { Bundle, BundleEntry, Group, Resource } from 'fhir/r4';
import { loadHl7Examples, loadSyntheaBundles } from '../../fixtures/fhir-r4-fixtures';
import type { SandboxRepository } from '../fhir/sandbox-repository';

/** Id of the seeded Group holding every Synthea patient, for `Group/[id]/$export`. */
export const SYNTHEA_GROUP_ID = 'synthea-patients';

export async function seedFixtures(router: FhirRouter, repo: SandboxRepository): Promise<void> {
  const patientIds: string[] = [];
  for (const { file, bundle } of loadSyntheaBundles()) {
    const batch = toUpsertBatch(bundle);
    const [outcome, response] = await router.handleRequest(
      { method: 'POST', url: '', pathname: '', params: {}, query: {}, body: batch },
      repo,
    );
    const failed = ((response as MedplumBundle | undefined)?.entry ?? []).filter(
      (entry) => !entry.response?.status?.startsWith('2'),
    );
    if (outcome.issue?.[0]?.severity === 'error' || failed.length > 0 || !response) {
      throw new Error(`Seeding ${file} failed for ${failed.length} entries`);
    }
    for (const entry of bundle.entry ?? []) {
      if (entry.resource?.resourceType === 'Patient' && entry.resource.id) patientIds.push(entry.resource.id);
    }
  }
  for (const { resource } of loadHl7Examples()) {
    await repo.updateResource(resource as MedplumResource);
  }
  const group: Group = {
    resourceType: 'Group',
    id: SYNTHEA_GROUP_ID,
    type: 'person',
    actual: true,
    name: 'Synthea sample patients',
    quantity: patientIds.length,
    member: patientIds.map((id) => ({ entity: { reference: `Patient/${id}` } })),
  };
  await repo.updateResource(group as MedplumResource);
}

/** A copy of a transaction bundle as a `batch` of `PUT Type/id` (keeping `fullUrl` placeholders). */
function toUpsertBatch(bundle: Bundle): MedplumBundle {
  const entry: BundleEntry[] = (bundle.entry ?? []).map((item) => {
    const resource = item.resource as Resource;
    return {
      fullUrl: item.fullUrl,
      resource,
      request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` },
    };
  });
  // A `batch` (not `transaction`) because the library caps transactions at 50 updates; the
  // placeholders are still resolved for every entry.
  return { resourceType: 'Bundle', type: 'batch', entry } as MedplumBundle;
}
