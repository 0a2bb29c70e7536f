import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json';

describe('canonicalJson', () => {
  it('sorts keys recursively so equal objects serialise equally', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[2,{"y":2,"z":1}]},"b":1}',
    );
    expect(canonicalJson({ x: 1, y: 2 })).toBe(canonicalJson({ y: 2, x: 1 }));
  });

  it('drops undefined members and writes dates as ISO strings', () => {
    expect(canonicalJson({ a: undefined, t: new Date('2026-01-02T03:04:05.006Z') })).toBe(
      '{"t":"2026-01-02T03:04:05.006Z"}',
    );
  });
});
