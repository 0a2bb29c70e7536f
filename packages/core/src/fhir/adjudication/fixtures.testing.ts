// Test-only: the one place that decides where FHIR R4 fixtures are read from (STYLE "Fixtures … are loaded
// by one helper"): the repository copy under test/fixtures when present, else the shared read-only set.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bundle, Claim, ClaimResponse, ExplanationOfBenefit, FhirResource } from 'fhir/r4';

const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../../..');

export function fhirFixturesRoot(): string {
  const local = join(REPO_ROOT, 'test/fixtures/fhir-r4');
  return existsSync(local) ? local : '/work/shared/fixtures/fhir-r4';
}

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

export interface FixtureEob {
  file: string;
  eob: ExplanationOfBenefit;
  claim?: Claim;
}

/** Every EOB of the Synthea bundles with the Claim it references (same bundle, urn:uuid). */
export function syntheaEobs(): FixtureEob[] {
  const dir = join(fhirFixturesRoot(), 'synthea');
  const out: FixtureEob[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const bundle = readJson<Bundle<FhirResource>>(join(dir, file));
    const claims = new Map<string, Claim>();
    for (const e of bundle.entry ?? []) {
      if (e.resource?.resourceType === 'Claim' && e.fullUrl) claims.set(e.fullUrl, e.resource);
    }
    for (const e of bundle.entry ?? []) {
      if (e.resource?.resourceType !== 'ExplanationOfBenefit') continue;
      const claim = e.resource.claim?.reference ? claims.get(e.resource.claim.reference) : undefined;
      out.push({ file, eob: e.resource, ...(claim ? { claim } : {}) });
    }
  }
  return out;
}

/** Synthea pharmacy Claims (they have no EOB, per the fixture README). */
export function syntheaPharmacyClaims(): Claim[] {
  const dir = join(fhirFixturesRoot(), 'synthea');
  const out: Claim[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const bundle = readJson<Bundle<FhirResource>>(join(dir, file));
    for (const e of bundle.entry ?? []) {
      const r = e.resource;
      if (r?.resourceType === 'Claim' && r.type.coding?.some((c) => c.code === 'pharmacy')) out.push(r);
    }
  }
  return out;
}

/** HL7 R4 example resources of one type (ClaimResponse-*.json, ExplanationOfBenefit-*.json, Claim-*.json). */
export function hl7Examples<T extends ClaimResponse | ExplanationOfBenefit | Claim>(
  type: T['resourceType'],
): { file: string; resource: T }[] {
  const dir = join(fhirFixturesRoot(), 'hl7-r4-examples');
  return readdirSync(dir)
    .filter((f) => f.startsWith(`${type}-`) && f.endsWith('.json'))
    .map((file) => ({ file, resource: readJson<T>(join(dir, file)) }));
}
