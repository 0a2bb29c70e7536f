// A denial arriving by sync opens exactly one claim-dispute ticket; re-syncing opens nothing more (issue 5).

import { type Database, schema } from '@fhirdesk/core';
import { and, eq } from 'drizzle-orm';
import type { ExplanationOfBenefit } from 'fhir/r4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSyncJob } from '../../packages/server/src/jobs/sync-job';
import { deps, insertSource } from '../connectors/support';
import { type SandboxEhr, startSandboxEhr } from '../sandbox-ehr/index';
import { createTestTenant, openTestDatabase } from '../support/db';
import { deniedEob } from './support';

let database: Database;
let ehr: SandboxEhr;

beforeAll(async () => {
  database = await openTestDatabase();
  ehr = await startSandboxEhr({ pageSizeMax: 50 });
});
afterAll(async () => {
  await ehr.close();
  await database.close();
});

describe('auto-open after a sync', () => {
  it('opens one dispute for a denied EOB brought by the sync, and none on a re-sync', async () => {
    const tenantId = await createTestTenant(database);
    const sourceId = await insertSource(database, tenantId, {
      baseUrl: ehr.fhirBaseUrl,
      resourceTypes: ['Patient', 'Coverage', 'Claim', 'ClaimResponse', 'ExplanationOfBenefit'],
    });
    const denied: ExplanationOfBenefit = { ...deniedEob('50'), meta: undefined };
    await ehr.updateResource(denied);
    const first = await runSyncJob(deps(database), { tenantId, sourceId });
    expect(first.summary.status).toBe('succeeded');
    // The HL7 examples carry their own denials (ClaimResponses with errors), so count what the rules see.
    expect(first.disputes.opened).toBeGreaterThanOrEqual(1);
    const tickets = await database.db
      .select()
      .from(schema.ticket)
      .where(and(eq(schema.ticket.tenantId, tenantId), eq(schema.ticket.category, 'claim-dispute')));
    expect(tickets).toHaveLength(first.disputes.opened);
    expect(tickets.every((t) => t.queue === 'billing')).toBe(true);
    const forDenied = await database.db
      .select()
      .from(schema.dispute)
      .where(
        and(eq(schema.dispute.tenantId, tenantId), eq(schema.dispute.adjudicationRef, 'ExplanationOfBenefit/EB3500')),
      );
    expect(forDenied).toHaveLength(1);
    const second = await runSyncJob(deps(database), { tenantId, sourceId });
    expect(second.disputes.opened).toBe(0);
    expect(await database.db.$count(schema.ticket, eq(schema.ticket.tenantId, tenantId))).toBe(tickets.length);
  });
});
