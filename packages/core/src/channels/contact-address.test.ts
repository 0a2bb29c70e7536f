import { describe, expect, it } from 'vitest';
import { normaliseEmail, normalisePhone } from './contact-address';

describe('phone normalisation for patient matching', () => {
  it.each([
    ['(555) 234-5678', '+15552345678'],
    ['555.234.5678', '+15552345678'],
    ['1-555-234-5678', '+15552345678'],
    ['+1 555 234 5678', '+15552345678'],
    ['tel:+1-555-234-5678', '+15552345678'],
    ['555-234-5678 ext. 12', '+15552345678'],
    ['555-234-5678 x12', '+15552345678'],
    ['+44 20 7946 0958', '+442079460958'],
    ['011 34 912 345 678', '+34912345678'],
    ['0034 912 345 678', '+34912345678'],
  ])('normalises %j to %s', (raw, expected) => {
    expect(normalisePhone(raw)).toBe(expected);
  });

  it.each([
    '12345',
    '555-1234',
    '(055) 234-5678',
    '555-034-5678',
    '1-800-FLOWERS',
    '+1 555 234 567',
    '',
    '+0123456789',
  ])('rejects %j', (raw) => {
    expect(normalisePhone(raw)).toBeNull();
  });

  it('uses a configured default country for national numbers', () => {
    expect(normalisePhone('912 345 678', { defaultCountryCode: '34' })).toBe('+34912345678');
    expect(normalisePhone('020 7946 0958', { defaultCountryCode: '44' })).toBe('+442079460958');
  });
});

describe('email normalisation for patient matching', () => {
  it.each([
    ['Ana@Example.ORG', 'ana@example.org'],
    ['  "Ana R." <Ana.R@Example.org> ', 'ana.r@example.org'],
    ['mailto:ana@example.org', 'ana@example.org'],
    ['ana+portal@example.org', 'ana+portal@example.org'],
    ['jose@correo.españa.es', 'jose@correo.españa.es'],
  ])('normalises %j to %s', (raw, expected) => {
    expect(normaliseEmail(raw)).toBe(expected);
  });

  it('strips a plus tag only when asked', () => {
    expect(normaliseEmail('ana+portal@example.org', { stripPlusTag: true })).toBe('ana@example.org');
  });

  it.each(['ana', '@example.org', 'ana@', 'ana@example', 'a..b@example.org', '.a@example.org', 'a b@example.org'])(
    'rejects %j',
    (raw) => {
      expect(normaliseEmail(raw)).toBeNull();
    },
  );
});
