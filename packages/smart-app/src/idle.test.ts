import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createIdleTimer, shouldRenew } from './idle';

describe('automatic logoff timer (HIPAA-04)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('ends the session once the idle limit passes without input', () => {
    const onIdle = vi.fn();
    createIdleTimer({ idleMs: 60_000, onIdle });
    vi.advanceTimersByTime(59_999);
    expect(onIdle).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(onIdle).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(600_000);
    expect(onIdle).toHaveBeenCalledTimes(1);
  });

  it('restarts the countdown on every input', () => {
    const onIdle = vi.fn();
    const timer = createIdleTimer({ idleMs: 60_000, onIdle });
    for (let i = 0; i < 5; i++) {
      vi.advanceTimersByTime(50_000);
      timer.activity();
    }
    expect(onIdle).not.toHaveBeenCalled();
    vi.advanceTimersByTime(60_000);
    expect(onIdle).toHaveBeenCalledTimes(1);
  });

  it('never fires after stop, and input after the logoff does not revive it', () => {
    const onIdle = vi.fn();
    const stopped = createIdleTimer({ idleMs: 1_000, onIdle });
    stopped.stop();
    vi.advanceTimersByTime(5_000);
    expect(onIdle).not.toHaveBeenCalled();
    const ended = createIdleTimer({ idleMs: 1_000, onIdle });
    vi.advanceTimersByTime(1_000);
    ended.activity();
    vi.advanceTimersByTime(5_000);
    expect(onIdle).toHaveBeenCalledTimes(1);
  });

  it('renews the server token on input once a tenth of its lifetime has passed', () => {
    const idleMs = 900_000;
    const now = 1_000_000;
    expect(shouldRenew(now + idleMs, idleMs, now)).toBe(false);
    expect(shouldRenew(now + idleMs * 0.95, idleMs, now)).toBe(false);
    expect(shouldRenew(now + idleMs * 0.85, idleMs, now)).toBe(true);
  });
});
