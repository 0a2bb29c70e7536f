import { describe, expect, it } from 'vitest';
import { newAuditId } from './audit-id';

describe('newAuditId', () => {
  it('makes distinct version-7 UUIDs in creation order, carrying the creation time', () => {
    const before = Date.now();
    const ids = Array.from({ length: 5000 }, () => newAuditId());
    const after = Date.now();
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // Sorted as text (and so as uuid in PostgreSQL) they are in the order they were made, even within a millisecond.
    expect([...ids].sort()).toEqual(ids);
    const millis = Number.parseInt(ids[0]!.replaceAll('-', '').slice(0, 12), 16);
    expect(millis).toBeGreaterThanOrEqual(before);
    expect(millis).toBeLessThanOrEqual(after);
  });
});
