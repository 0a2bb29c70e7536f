import { describe, expect, it } from 'vitest';
import { leastLoaded, nextInRotation, primaryLanguage } from './auto-assign';

const c = (userId: string, open = 0) => ({ userId, open });

describe('picking an agent', () => {
  it('rotates in user-id order after the previous pick and wraps around', () => {
    const agents = [c('b'), c('a'), c('c')];
    expect(nextInRotation(agents, null)?.userId).toBe('a');
    expect(nextInRotation(agents, 'a')?.userId).toBe('b');
    expect(nextInRotation(agents, 'c')?.userId).toBe('a');
    // The previous pick left the queue (or became unavailable): the next one after it still follows.
    expect(nextInRotation([c('a'), c('c')], 'b')?.userId).toBe('c');
    expect(nextInRotation([], 'a')).toBeUndefined();
  });

  it('takes the fewest open tickets, breaking ties by rotation', () => {
    expect(leastLoaded([c('a', 3), c('b', 1), c('c', 2)], null)?.userId).toBe('b');
    expect(leastLoaded([c('a', 1), c('b', 1), c('c', 2)], 'a')?.userId).toBe('b');
    expect(leastLoaded([c('a', 1), c('b', 1), c('c', 2)], 'b')?.userId).toBe('a');
    expect(leastLoaded([], null)).toBeUndefined();
  });

  it('compares languages by their primary subtag', () => {
    expect(primaryLanguage('es-MX')).toBe('es');
    expect(primaryLanguage('EN')).toBe('en');
  });
});
