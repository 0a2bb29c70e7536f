import { describe, expect, it } from 'vitest';
import { slaPolicySchema, targetFor } from './sla-policy';

const policy = slaPolicySchema.parse({
  targets: [
    { firstResponseMinutes: 480, resolutionMinutes: 4800 },
    { category: 'claim-dispute', firstResponseMinutes: 240, resolutionMinutes: 9600 },
    { priority: 'urgent', firstResponseMinutes: 15, resolutionMinutes: 240 },
    { category: 'billing', priority: 'urgent', firstResponseMinutes: 30, resolutionMinutes: 480 },
  ],
});

describe('SLA policy targets', () => {
  it('prefers category+priority, then priority, then category, then the default', () => {
    expect(targetFor(policy, 'billing', 'urgent').firstResponseMinutes).toBe(30);
    expect(targetFor(policy, 'claim-dispute', 'urgent').firstResponseMinutes).toBe(15);
    expect(targetFor(policy, 'claim-dispute', 'normal').firstResponseMinutes).toBe(240);
    expect(targetFor(policy, 'general-info', 'low').firstResponseMinutes).toBe(480);
  });

  it('defaults the at-risk warning to 60 minutes', () => {
    expect(policy.atRiskMinutes).toBe(60);
  });

  it('requires a default target, unique pairs and first response within resolution', () => {
    const result = slaPolicySchema.safeParse({
      targets: [
        { category: 'billing', firstResponseMinutes: 60, resolutionMinutes: 30 },
        { category: 'billing', firstResponseMinutes: 10, resolutionMinutes: 30 },
      ],
    });
    expect(result.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual(
      expect.arrayContaining([
        'targets.0.firstResponseMinutes: first response target must not exceed the resolution target',
        'targets.1: duplicate category/priority pair',
        'targets: add a default target with neither category nor priority',
      ]),
    );
  });
});
