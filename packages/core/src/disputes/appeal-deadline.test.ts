import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NotFoundError, ValidationError } from '../errors';
import {
  type AppealPolicy,
  computeAppealDeadline,
  loadAppealPresets,
  meetsDisputeThreshold,
  resolveAppealPolicy,
} from './appeal-deadline';

const presets = loadAppealPresets();
const internal = resolveAppealPolicy(presets);

describe('appeal presets are data with cited sources', () => {
  it('carries the federal defaults with their citations', () => {
    expect(presets.policies['aca-internal-appeal']).toMatchObject({ duration: { days: 180 } });
    expect(presets.policies['aca-internal-appeal']?.citation).toContain('45 CFR 147.136(b)');
    expect(presets.policies['aca-external-review']).toMatchObject({ duration: { months: 4 } });
    expect(presets.policies['aca-external-review']?.citation).toMatch(/147\.136\(c\)/);
    expect(presets.policies['aca-expedited-appeal']).toMatchObject({ duration: { hours: 72 } });
    expect(presets.policies['nsa-patient-provider-dispute']).toMatchObject({ duration: { days: 120 } });
    expect(presets.policies['nsa-patient-provider-dispute']?.citation).toContain('45 CFR 149.620');
    expect(presets.source.length).toBeGreaterThan(20);
    expect(internal).toBe(presets.policies[presets.defaultPolicyId]);
  });

  it('lets a payer override the default, by policy id or with its own policy', () => {
    const own: AppealPolicy = {
      label: 'Payer X: 60 days',
      duration: { days: 60 },
      from: 'notice',
      citation: 'contract §4',
    };
    const tenant = loadAppealPresets({ payers: { X: own, Y: 'aca-external-review' }, dueSoonDays: 7 });
    expect(resolveAppealPolicy(tenant, { payerId: 'X' })).toBe(own);
    expect(resolveAppealPolicy(tenant, { payerId: 'Y' })).toBe(tenant.policies['aca-external-review']);
    expect(resolveAppealPolicy(tenant, { payerId: 'unknown' })).toBe(tenant.policies[tenant.defaultPolicyId]);
    expect(tenant.dueSoonDays).toBe(7);
    expect(() => resolveAppealPolicy(tenant, { policyId: 'nope' })).toThrow(NotFoundError);
  });

  it('reads a tenant file and refuses an invalid one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'appeal-'));
    const path = join(dir, 'presets.json');
    writeFileSync(path, JSON.stringify({ defaultPolicyId: 'aca-external-review' }));
    expect(resolveAppealPolicy(loadAppealPresets(path))).toBe(presets.policies['aca-external-review']);
    expect(() => loadAppealPresets({ defaultPolicyId: 'missing' })).toThrow(ValidationError);
  });
});

describe('computeAppealDeadline', () => {
  it('gives 180 days to the end of the local day for an internal appeal', () => {
    const d = computeAppealDeadline(
      { adjudicationDate: '2024-01-10', policy: internal, now: new Date('2024-01-10T12:00:00Z') },
      presets,
    );
    expect(d.deadline).toBe('2024-07-08T23:59:59.999Z');
    expect(d.daysRemaining).toBe(180);
    expect(d.state).toBe('ok');
  });

  it('counts days in the given time zone', () => {
    const d = computeAppealDeadline({
      adjudicationDate: '2024-01-10',
      policy: internal,
      now: new Date('2024-07-09T03:00:00Z'),
      timeZone: 'America/New_York',
    });
    // 03:00 UTC on 9 July is still 8 July in New York: the last day, not missed.
    expect(d.deadline).toBe('2024-07-09T03:59:59.999Z');
    expect(d.daysRemaining).toBe(0);
    expect(d.state).toBe('due-soon');
  });

  it('adds calendar months for external review and clamps to the month end', () => {
    const policy = presets.policies['aca-external-review'] as AppealPolicy;
    const d = computeAppealDeadline(
      { adjudicationDate: '2023-10-31', policy, now: new Date('2023-11-01T00:00:00Z') },
      presets,
    );
    expect(d.deadline).toBe('2024-02-29T23:59:59.999Z');
  });

  it('runs 72 hours from the instant for an expedited appeal', () => {
    const policy = presets.policies['aca-expedited-appeal'] as AppealPolicy;
    const d = computeAppealDeadline(
      { adjudicationDate: '2024-03-01T10:00:00Z', policy, now: new Date('2024-03-03T10:00:00Z') },
      presets,
    );
    expect(d.deadline).toBe('2024-03-04T10:00:00.000Z');
    expect(d.state).toBe('due-soon');
  });

  it('reports due-soon within the threshold and missed after the deadline', () => {
    const input = { adjudicationDate: '2024-01-10', policy: internal };
    // Deadline 8 July, presets.dueSoonDays = 14.
    expect(computeAppealDeadline({ ...input, now: new Date('2024-06-23T00:00:00Z') }, presets).state).toBe('ok');
    expect(computeAppealDeadline({ ...input, now: new Date('2024-06-24T00:00:00Z') }, presets).state).toBe('due-soon');
    expect(computeAppealDeadline({ ...input, now: new Date('2024-06-23T00:00:00Z'), dueSoonDays: 30 }).state).toBe(
      'due-soon',
    );
    const missed = computeAppealDeadline({ ...input, now: new Date('2024-07-09T00:00:00Z') }, presets);
    expect(missed.state).toBe('missed');
    expect(missed.daysRemaining).toBe(-1);
  });

  it('rejects an adjudication date that is not a date', () => {
    expect(() => computeAppealDeadline({ adjudicationDate: 'soon', policy: internal, now: new Date() })).toThrow(
      ValidationError,
    );
  });

  it('applies the No Surprises Act $400 threshold from the preset', () => {
    const nsa = presets.policies['nsa-patient-provider-dispute'] as AppealPolicy;
    expect(meetsDisputeThreshold(nsa, { billedMinor: 150_000, goodFaithEstimateMinor: 110_000 })).toBe(true);
    expect(meetsDisputeThreshold(nsa, { billedMinor: 149_999, goodFaithEstimateMinor: 110_000 })).toBe(false);
    expect(
      computeAppealDeadline({ adjudicationDate: '2024-01-01', policy: nsa, now: new Date('2024-01-02T00:00:00Z') })
        .deadline,
    ).toBe('2024-04-30T23:59:59.999Z');
  });
});
