import { describe, expect, it } from 'vitest';
import { dashboardHash, metricsQuery, parseDashboardHash, periodOf } from './period';

describe('dashboard view in the hash', () => {
  it('round-trips a preset period with queue and agent filters', () => {
    const view = parseDashboardHash('#/dashboard?days=7&queue=billing&agent=0b9e6a4c-1f1e-4c39-9d55-2b7f0c9a1d11')!;
    expect(view).toEqual({
      days: 7,
      from: null,
      to: null,
      queue: 'billing',
      agent: '0b9e6a4c-1f1e-4c39-9d55-2b7f0c9a1d11',
    });
    expect(parseDashboardHash(dashboardHash(view))).toEqual(view);
  });

  it('drops malformed values instead of sending them to the API', () => {
    expect(parseDashboardHash('#/dashboard?days=5&queue=<x>&agent=Jane%20Doe&from=2026-12-01&to=2026-11-01')).toEqual({
      days: 30,
      from: null,
      to: null,
      queue: null,
      agent: null,
    });
    expect(parseDashboardHash('#/tickets/x')).toBeNull();
  });

  it('turns presets and custom dates into whole UTC days, the last day included', () => {
    const now = new Date('2026-11-23T15:00:00Z');
    expect(periodOf(parseDashboardHash('#/dashboard?days=7')!, now)).toEqual({
      from: new Date('2026-11-17T00:00:00Z'),
      to: new Date('2026-11-24T00:00:00Z'),
    });
    const custom = parseDashboardHash('#/dashboard?from=2026-11-01&to=2026-11-15&queue=billing')!;
    expect(metricsQuery(custom, now)).toBe(
      'from=2026-11-01T00%3A00%3A00.000Z&to=2026-11-16T00%3A00%3A00.000Z&queue=billing',
    );
  });
});
