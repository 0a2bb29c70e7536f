// Stable content hash of a resource: identical JSON (whatever the key order) is a no-op upsert (issue #3).
import { createHash } from 'node:crypto';

function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(obj[k])}`).join(',')}}`;
}

/** sha256 (hex) of the canonical JSON of `resource`. */
export function contentHash(resource: unknown): string {
  return createHash('sha256').update(canonical(resource)).digest('hex');
}
