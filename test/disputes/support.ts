// Fixtures for dispute tests: HL7 R4 examples put into the cache the way a connector writes them, and
// denied variants made in code so each change is visible (STYLE "Tests tell a story").
import { randomUUID } from 'node:crypto';
import { upsertResources } from '@fhirdesk/connectors';
import {
  C4BB_DISCRIMINATOR_SYSTEM,
  C4BB_PAYMENT_STATUS_SYSTEM,
  CARC_SYSTEM,
  type Database,
  GROUP_CODE_SYSTEM,
  schema,
} from '@fhirdesk/core';
import type { ExplanationOfBenefit, Resource } from 'fhir/r4';
import { loadHl7Examples } from '../fixtures/fhir-r4-fixtures';

export const hl7 = <T extends Resource>(file: string): T =>
  structuredClone(loadHl7Examples().find((f) => f.file === file)!.resource as T);

export async function createEhrSource(database: Database, tenantId: string): Promise<string> {
  const id = randomUUID();
  await database.db
    .insert(schema.source)
    .values({ id, tenantId, name: 'Test EHR', kind: 'fhir-r4', baseUrl: `https://ehr.example/${id}/fhir` });
  return id;
}

export async function cache(
  database: Database,
  tenantId: string,
  sourceId: string,
  resources: Resource[],
): Promise<void> {
  await upsertResources(
    database.db,
    { tenantId, sourceId },
    resources.map((r) => ({
      resource: r as unknown as Record<string, unknown> & { resourceType: string; id: string },
    })),
    new Date(),
  );
}

/** Claim 100150 + Coverage 9876B1 + Patient pat1, the context EOB EB3500 points at. */
export function claimContext(): Resource[] {
  return [hl7('Claim-100150.json'), hl7('Coverage-9876B1.json'), hl7('Patient-pat1.json')];
}

/**
 * EB3500 turned into a denial: a CO adjustment with `carc` for the whole charge, payment status denied,
 * nothing paid. `version` bumps meta so a re-sync counts as a change.
 */
export function deniedEob(carc = '50', version = 2, amount = 135.57): ExplanationOfBenefit {
  const eob = hl7<ExplanationOfBenefit>('ExplanationOfBenefit-EB3500.json');
  eob.meta = { versionId: String(version), lastUpdated: `2024-03-0${version}T10:00:00Z` };
  eob.created = '2024-03-01';
  eob.adjudication = [
    {
      category: { coding: [{ system: C4BB_DISCRIMINATOR_SYSTEM, code: 'adjustmentreason' }] },
      reason: {
        coding: [
          { system: CARC_SYSTEM, code: carc },
          { system: GROUP_CODE_SYSTEM, code: 'CO' },
        ],
      },
      amount: { value: amount, currency: 'USD' },
    },
  ];
  eob.total = [
    { category: { coding: [{ code: 'submitted' }] }, amount: { value: amount, currency: 'USD' } },
    { category: { coding: [{ code: 'benefit' }] }, amount: { value: 0, currency: 'USD' } },
  ];
  eob.payment = {
    type: { coding: [{ system: C4BB_PAYMENT_STATUS_SYSTEM, code: 'denied' }] },
    amount: { value: 0, currency: 'USD' },
  };
  for (const item of eob.item ?? []) delete item.adjudication;
  for (const item of eob.item ?? []) delete item.detail;
  return eob;
}

/** The same EOB after reprocessing: paid in full. */
export function paidEob(version = 9): ExplanationOfBenefit {
  const eob = deniedEob('50', version);
  eob.adjudication = [];
  eob.total = [
    { category: { coding: [{ code: 'submitted' }] }, amount: { value: 135.57, currency: 'USD' } },
    { category: { coding: [{ code: 'eligible' }] }, amount: { value: 135.57, currency: 'USD' } },
    { category: { coding: [{ code: 'benefit' }] }, amount: { value: 135.57, currency: 'USD' } },
  ];
  eob.payment = {
    type: { coding: [{ system: C4BB_PAYMENT_STATUS_SYSTEM, code: 'paid' }] },
    amount: { value: 135.57, currency: 'USD' },
  };
  return eob;
}
