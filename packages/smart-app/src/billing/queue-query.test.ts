import { describe, expect, it } from 'vitest';
import { apiQuery, canUseBillingQueue, countdown, parseQueueHash, queueHash } from './queue-query';

describe('billing queue filters in the URL hash', () => {
  it('round-trips every filter as codes and ids', () => {
    const filters = {
      stage: 'appeal-filed',
      payer: 'ACME01',
      reason: 'denied',
      due: '7d',
      min: '10',
      max: '2500.50',
      assignee: '0b6a8f4e-2f57-4c0e-9d43-6a1f2a3b4c5d',
      sort: 'amount',
    } as const;
    const hash = queueHash(filters);
    expect(hash).toBe(
      '#/billing?stage=appeal-filed&payer=ACME01&reason=denied&due=7d&min=10&max=2500.50&assignee=0b6a8f4e-2f57-4c0e-9d43-6a1f2a3b4c5d&sort=amount',
    );
    expect(parseQueueHash(hash)).toEqual(filters);
  });

  it('drops values that are not codes, so free text such as a name never comes back from a link (HIPAA-11)', () => {
    expect(
      parseQueueHash('#/billing?stage=done&payer=Peter%20Chalmers&assignee=bob&min=1e9&reason=x&sort=name'),
    ).toEqual({ sort: 'deadline' });
    expect(queueHash({ sort: 'deadline' })).toBe('#/billing');
  });

  it('turns a deadline window into an instant range at the time of the request', () => {
    const now = new Date('2026-11-23T12:00:00Z');
    const q = apiQuery({ due: '7d', min: '5', sort: 'deadline' }, now);
    expect(Object.fromEntries(q)).toEqual({
      amountMin: '5',
      deadlineFrom: '2026-11-23T12:00:00.000Z',
      deadlineTo: '2026-11-30T12:00:00.000Z',
      sort: 'deadline',
    });
    expect(apiQuery({ due: 'overdue', sort: 'amount' }, now).get('deadlineTo')).toBe('2026-11-23T12:00:00.000Z');
  });

  it('says overdue in words, not by colour alone', () => {
    expect(countdown(-3, 'missed')).toBe('Overdue by 3 days');
    expect(countdown(-1, 'missed')).toBe('Overdue by 1 day');
    expect(countdown(0, 'due-soon')).toBe('Due today');
    expect(countdown(12, 'due-soon')).toBe('12 days left');
  });

  it('offers the queue to billing and supervisor sessions only', () => {
    expect(canUseBillingQueue(['agent', 'billing'])).toBe(true);
    expect(canUseBillingQueue(['supervisor'])).toBe(true);
    expect(canUseBillingQueue(['agent'])).toBe(false);
  });
});
