// GET [base]/metadata (R4 capabilitystatement.html): generated from the router's route table and
// the search parameters the repository evaluates, so it never claims more than the sandbox does.
import type { FhirRouter } from '@medplum/fhir-router';
import type { CapabilityStatement, CapabilityStatementRestResource } from 'fhir/r4';
import type { SandboxContext } from '../context';
import { searchParametersOf } from './definitions';

/** The types fhirdesk reads and writes back; the seeded fixture types are added to these. */
export const ADVERTISED_TYPES = [
  'Patient',
  'Coverage',
  'Claim',
  'ClaimResponse',
  'ExplanationOfBenefit',
  'Account',
  'Organization',
  'Practitioner',
  'PractitionerRole',
  'RelatedPerson',
  'Encounter',
  'Condition',
  'Procedure',
  'Immunization',
  'MedicationRequest',
  'Task',
  'Communication',
  'Group',
] as const;

type TypeInteraction = NonNullable<CapabilityStatementRestResource['interaction']>[number]['code'];
const TYPE_INTERACTIONS = new Set<string>([
  'read',
  'vread',
  'update',
  'patch',
  'delete',
  'history-instance',
  'history-type',
  'create',
  'search-type',
]);

/** Type-level interactions the router has a `:resourceType` route for. */
function routerTypeInteractions(router: FhirRouter): TypeInteraction[] {
  const codes = new Set<TypeInteraction>();
  for (const route of router.router.routes) {
    const code = route.data?.interaction;
    if (route.path[0]?.param && code && TYPE_INTERACTIONS.has(code)) codes.add(code as TypeInteraction);
  }
  return [...codes];
}

type SearchParamEntry = NonNullable<CapabilityStatementRestResource['searchParam']>[number];

const BULK_EXPORT = 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export';

export function capabilityStatement(ctx: SandboxContext, extraTypes: Iterable<string>): CapabilityStatement {
  const interactions = routerTypeInteractions(ctx.router).map((code) => ({ code }));
  const types = [...new Set<string>([...ADVERTISED_TYPES, ...extraTypes])].sort();
  const resource: CapabilityStatementRestResource[] = types.map((type) => {
    const params = Object.values(searchParametersOf(type)).filter((p) => !p.url?.startsWith('https://medplum.com/'));
    return {
      type: type as CapabilityStatementRestResource['type'],
      interaction: interactions,
      versioning: 'versioned',
      readHistory: true,
      updateCreate: true,
      searchParam: params
        .map(
          (p): SearchParamEntry => ({ name: p.code as string, type: p.type, ...(p.url ? { definition: p.url } : {}) }),
        )
        .concat([
          { name: '_count', type: 'number' },
          { name: '_offset', type: 'number' },
        ])
        .sort((a, b) => a.name.localeCompare(b.name)),
      ...(type === 'Patient' || type === 'Group'
        ? {
            operation: [
              {
                name: 'export',
                definition: `http://hl7.org/fhir/uv/bulkdata/OperationDefinition/${type.toLowerCase()}-export`,
              },
            ],
          }
        : {}),
    };
  });
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    kind: 'instance',
    name: 'FhirdeskSandboxEhr',
    title: 'fhirdesk sandbox EHR',
    software: { name: 'fhirdesk sandbox EHR (@medplum/fhir-router MemoryRepository)' },
    implementation: { description: 'In-process test and demo EHR', url: ctx.fhirBaseUrl },
    fhirVersion: '4.0.1',
    format: ['json'],
    instantiates: ['http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data'],
    rest: [
      {
        mode: 'server',
        security: {
          service: [
            {
              coding: [
                { system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' },
              ],
            },
          ],
          extension: [
            {
              url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
              extension: [{ url: 'token', valueUri: ctx.tokenUrl }],
            },
          ],
        },
        resource,
        interaction: [{ code: 'batch' }, { code: 'search-system' }],
        operation: [{ name: 'export', definition: BULK_EXPORT }],
      },
    ],
  };
}
