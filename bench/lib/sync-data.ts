// The sync benchmark's data set (issue #3): financial resources shaped like the fixtures (the Synthea
// Patient/Claim/EOB and HL7 Coverage templates of agent-view-data.ts), generated per patient so every type
// spans the whole time range: 1 Patient, 1 Coverage, 4 Claims and 5 EOBs (11 resources) per patient.
import { loadTemplates, type Templates } from './agent-view-data';

export const RESOURCES_PER_PATIENT = 11;
export const SYNC_TYPES = ['Patient', 'Coverage', 'Claim', 'ExplanationOfBenefit'] as const;

type Json = Record<string, unknown> & { resourceType: string; id: string };

function fill(template: string, values: Record<string, string>): Json {
  let text = template;
  for (const [k, v] of Object.entries(values)) text = text.replaceAll(k, v);
  return JSON.parse(text) as Json;
}

/** The 11 resources of patient `g` (ids `pat-g`, `cov-g`, `clm-g-k`, `eob-g-k`), created at `created`. */
export function patientResources(templates: Templates, g: number, created: string): Json[] {
  const org = `org-${5 + (g % 45)}`;
  const payer = `org-${g % 5}`;
  const base = { __PID__: `pat-${g}`, __ORG__: org, __PAYER__: payer, __CREATED__: created };
  const out: Json[] = [fill(templates.patient, { ...base, __RID__: `pat-${g}` })];
  out.push(fill(templates.coverage, { ...base, __RID__: `cov-${g}` }));
  for (let k = 2; k <= 5; k++) out.push(fill(templates.claim, { ...base, __RID__: `clm-${g}-${k}` }));
  for (let k = 6; k <= 10; k++) {
    const cid = `clm-${g}-${k <= 9 ? k - 4 : 0}`;
    out.push(fill(templates.eob, { ...base, __RID__: `eob-${g}-${k}`, __CID__: cid }));
  }
  return out;
}

export { loadTemplates };
