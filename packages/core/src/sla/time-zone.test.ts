import { describe, expect, it } from 'vitest';
import { isValidTimeZone, localToInstant, offsetAt, toLocal } from './time-zone';

const iso = (ms: number) => new Date(ms).toISOString();

describe('time zone conversion (Intl only)', () => {
  it('converts an ordinary wall time in New York and Madrid', () => {
    expect(iso(localToInstant(2026, 1, 15, 9 * 60, 'America/New_York'))).toBe('2026-01-15T14:00:00.000Z');
    expect(iso(localToInstant(2026, 7, 15, 9 * 60, 'Europe/Madrid'))).toBe('2026-07-15T07:00:00.000Z');
  });

  it('moves a wall time skipped by spring-forward later by the gap', () => {
    // New York 2026-03-08 02:00 EST → 03:00 EDT; Madrid 2026-03-29 02:00 CET → 03:00 CEST.
    expect(iso(localToInstant(2026, 3, 8, 150, 'America/New_York'))).toBe('2026-03-08T07:30:00.000Z');
    expect(iso(localToInstant(2026, 3, 29, 150, 'Europe/Madrid'))).toBe('2026-03-29T01:30:00.000Z');
  });

  it('takes the earlier instant for a wall time repeated by fall-back', () => {
    // New York 2026-11-01 01:30 happens at 05:30Z (EDT) and 06:30Z (EST).
    expect(iso(localToInstant(2026, 11, 1, 90, 'America/New_York'))).toBe('2026-11-01T05:30:00.000Z');
    // Madrid 2026-10-25 02:30 happens at 00:30Z (CEST) and 01:30Z (CET).
    expect(iso(localToInstant(2026, 10, 25, 150, 'Europe/Madrid'))).toBe('2026-10-25T00:30:00.000Z');
  });

  it('reads the wall clock and offset at an instant', () => {
    expect(toLocal(Date.parse('2026-11-01T06:30:00Z'), 'America/New_York')).toMatchObject({ hour: 1, minute: 30 });
    expect(offsetAt(Date.parse('2026-11-01T06:30:00Z'), 'America/New_York')).toBe(-5 * 3_600_000);
    expect(offsetAt(Date.parse('2026-11-01T05:30:00Z'), 'America/New_York')).toBe(-4 * 3_600_000);
  });

  it('accepts 24:00 as the end of the local day', () => {
    expect(iso(localToInstant(2026, 3, 8, 1440, 'America/New_York'))).toBe('2026-03-09T04:00:00.000Z');
  });

  it('recognises IANA zone names', () => {
    expect(isValidTimeZone('Europe/Madrid')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus_Mons')).toBe(false);
  });
});
