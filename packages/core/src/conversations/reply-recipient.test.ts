import { describe, expect, it } from 'vitest';
import { pickContactPoint } from './reply-recipient';

const now = new Date('2026-06-01T12:00:00Z');

describe('pickContactPoint', () => {
  it('takes the lowest rank among current email addresses, unranked last', () => {
    const picked = pickContactPoint(
      [
        { system: 'email', value: 'none@example.org' },
        { system: 'email', value: 'two@example.org', rank: 2 },
        { system: 'email', value: 'one@example.org', rank: 1, period: { end: '2026-01-01' } },
        { system: 'email', value: 'old@example.org', rank: 1, use: 'old' },
      ],
      'email',
      now,
    );
    expect(picked).toMatchObject({ address: 'two@example.org', index: 1 });
  });

  it('prefers sms or mobile for texts over a better-ranked landline, and skips periods not yet begun', () => {
    const picked = pickContactPoint(
      [
        { system: 'phone', value: '555-201-7700', use: 'home', rank: 1 },
        { system: 'phone', value: '555-201-7711', use: 'mobile', rank: 2, period: { start: '2027-01-01' } },
        { system: 'sms', value: '555-201-7722', rank: 3 },
      ],
      'sms',
      now,
    );
    expect(picked).toMatchObject({ address: '+15552017722', index: 2 });
  });

  it('falls back to a landline for texts when nothing else exists, and has nothing for chat', () => {
    const telecom = [{ system: 'phone' as const, value: '555-201-7700', use: 'home' as const }];
    expect(pickContactPoint(telecom, 'sms', now)).toMatchObject({ address: '+15552017700' });
    expect(pickContactPoint(telecom, 'chat', now)).toBeNull();
    expect(pickContactPoint([{ system: 'email', value: 'not an address' }], 'email', now)).toBeNull();
  });
});
