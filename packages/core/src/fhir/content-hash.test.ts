// The fast canonical form must be byte-for-byte the reference one: stored `content_hash` values (the sync's
// "identical = no-op", the agent view's projection watermark, tickets' "seen" marks) were made with it.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalResourceJson, contentHash, hashCanonicalJson, referenceCanonicalResourceJson } from './content-hash';

const fixtures = resolve(import.meta.dirname, '../../../../test/fixtures/fhir-r4');
const jsonFiles = (dir: string) =>
  readdirSync(join(fixtures, dir))
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(fixtures, dir, f), 'utf8')) as unknown);

/** Every resource of the fixtures: HL7 examples and the entries of the Synthea bundles. */
function fixtureResources(): unknown[] {
  const out = jsonFiles('hl7-r4-examples');
  for (const bundle of jsonFiles('synthea') as { entry?: { resource?: unknown }[] }[])
    for (const e of bundle.entry ?? []) if (e.resource) out.push(e.resource);
  return out;
}

/** Deterministic pseudo-random JSON with awkward keys and strings. */
function randomJson(seed: number): unknown {
  let s = seed;
  const rnd = () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
  const keys = ['b', 'a', 'Z', 'é', 'a b', 'k"q', 'back\\slash', 'tab\t', '😀', 'aa', 'A', '_x', '$y', '-1', '7', '07'];
  const strings = ['', 'plain', 'quote"', 'new\nline', '\u0000\u001f', '\u2028', '😀', 'ünï'];
  const gen = (depth: number): unknown => {
    const r = rnd();
    if (depth > 3 || r < 0.3) {
      const p = rnd();
      if (p < 0.2) return null;
      if (p < 0.4) return rnd() < 0.5;
      if (p < 0.7) return [0, -0, 1.5, -2e21, 1e-7, 123456789][Math.floor(rnd() * 6)];
      return strings[Math.floor(rnd() * strings.length)];
    }
    if (r < 0.55) return Array.from({ length: Math.floor(rnd() * 4) }, () => gen(depth + 1));
    const o: Record<string, unknown> = {};
    for (let i = Math.floor(rnd() * 6); i > 0; i--) o[keys[Math.floor(rnd() * keys.length)]!] = gen(depth + 1);
    return o;
  };
  return gen(0);
}

describe('canonicalResourceJson', () => {
  it('is the reference form for every fixture resource, and the same value', () => {
    const resources = fixtureResources();
    expect(resources.length).toBeGreaterThan(100);
    for (const r of resources) {
      const text = canonicalResourceJson(r);
      expect(text).toBe(referenceCanonicalResourceJson(r));
      expect(JSON.parse(text)).toEqual(r);
    }
  });

  it('is the reference form for awkward keys, strings and numbers', () => {
    for (let seed = 1; seed <= 2000; seed++) {
      const value = randomJson(seed);
      expect(canonicalResourceJson(value)).toBe(referenceCanonicalResourceJson(value));
    }
  });

  it('falls back to the reference for what a sorted copy cannot reproduce', () => {
    // biome-ignore lint/suspicious/noSparseArray: a hole is one of the cases under test
    const holey = [1, , 3];
    const awkward: unknown[] = [
      { b: 1, 10: 'x', 9: 'y', a: 2 }, // integer-like keys enumerate first whatever the insertion order
      JSON.parse('{"z":1,"__proto__":{"a":1},"a":2}'),
      { a: undefined, b: [undefined, 1], c: () => 1 },
      holey,
      undefined,
      'text',
      new Date(0),
    ];
    for (const value of awkward) expect(canonicalResourceJson(value)).toBe(referenceCanonicalResourceJson(value));
  });

  it('ignores key order, and the hash is sha256 of the canonical text', () => {
    const a = { resourceType: 'Patient', id: 'p1', name: [{ given: ['A'], family: 'B' }] };
    const b = { name: [{ family: 'B', given: ['A'] }], id: 'p1', resourceType: 'Patient' };
    expect(canonicalResourceJson(a)).toBe(canonicalResourceJson(b));
    expect(contentHash(a)).toBe(contentHash(b));
    expect(contentHash(a)).toBe(createHash('sha256').update(canonicalResourceJson(a)).digest('hex'));
    expect(hashCanonicalJson(canonicalResourceJson(a))).toBe(contentHash(a));
  });
});
