// Stable content hash of a resource: identical JSON (whatever the key order) is a no-op upsert (issue #3).
// The canonical text is also what the sync's COPY path sends as the resource (jsonb does not keep key order,
// so it stores the same value), which spares a second serialisation of every resource.
import { createHash } from 'node:crypto';

/** The reference definition of the canonical form; `canonicalResourceJson` must produce exactly this text. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(obj[k])}`).join(',')}}`;
}

class NotPlainJson extends Error {}

/**
 * A copy of `value` whose objects have their keys inserted in sorted order, so the native (fast)
 * `JSON.stringify` writes the canonical text (twice as fast as building it by hand; copying only the
 * objects not yet in order saves nothing measurable). Throws NotPlainJson for what the copy cannot reproduce
 * exactly: integer-like keys (always enumerated first, whatever the insertion order), `__proto__` (a setter
 * on a plain object), array holes, and values the two serialisations treat differently (functions, symbols,
 * bigints). Of these only the two kinds of key can come out of JSON.parse; the caller then falls back to the
 * reference form.
 */
function sortedCopy(value: unknown): unknown {
  if (value === null) return null;
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
      return value;
    case 'object':
      break;
    default:
      throw new NotPlainJson();
  }
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      // `undefined` in an array is `null` in both forms; a hole is written as nothing by the reference.
      if (v !== undefined) out.push(sortedCopy(v));
      else if (i in value) out.push(null);
      else throw new NotPlainJson();
    }
    return out;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    const first = k.charCodeAt(0);
    if ((first >= 48 && first <= 57) || k === '__proto__') throw new NotPlainJson();
    const v = obj[k];
    if (v !== undefined) out[k] = sortedCopy(v);
  }
  return out;
}

/**
 * Canonical JSON of a resource: keys sorted at every level, no whitespace, `undefined` members dropped.
 * Valid JSON of the same value, so it can be stored as the resource itself.
 */
export function canonicalResourceJson(resource: unknown): string {
  try {
    return JSON.stringify(sortedCopy(resource)) ?? 'null';
  } catch (e) {
    if (e instanceof NotPlainJson) return canonical(resource);
    throw e;
  }
}

/** sha256 (hex) of a canonical text from `canonicalResourceJson`. */
export function hashCanonicalJson(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** sha256 (hex) of the canonical JSON of `resource`. */
export function contentHash(resource: unknown): string {
  return hashCanonicalJson(canonicalResourceJson(resource));
}

/** The reference (slow) canonical form, for tests that hold `canonicalResourceJson` to it. */
export const referenceCanonicalResourceJson = canonical;
