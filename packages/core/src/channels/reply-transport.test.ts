import { describe, expect, it } from 'vitest';
import { parseRetryAfter, retryDelayMs } from './reply-transport';

const policy = { maxAttempts: 6, baseDelayMs: 1000, maxDelayMs: 10_000 };

describe('retry schedule', () => {
  it('doubles per attempt with jitter between half and the full delay, capped at the maximum', () => {
    expect([1, 2, 3].map((a) => retryDelayMs(a, policy, null, () => 0))).toEqual([500, 1000, 2000]);
    expect([1, 2, 3].map((a) => retryDelayMs(a, policy, null, () => 1))).toEqual([1000, 2000, 4000]);
    expect(retryDelayMs(10, policy, null, () => 1)).toBe(10_000);
  });

  it('never retries before the provider said Retry-After', () => {
    expect(retryDelayMs(1, policy, 120_000, () => 0)).toBe(120_000);
  });

  it('reads Retry-After as seconds or an HTTP date and ignores anything else', () => {
    const now = new Date('2026-11-23T16:00:00Z');
    expect(parseRetryAfter('30', now)).toBe(30_000);
    expect(parseRetryAfter('Mon, 23 Nov 2026 16:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(null, now)).toBeNull();
  });
});
