// References inside cached resources, parsed once into { type, id } so the view can join them in memory.
import type { Reference } from 'fhir/r4';

export interface ResourceKey {
  type: string;
  id: string;
}

/**
 * `Type/id`, `Type/id/_history/v` and absolute `…/Type/id` give a key; `urn:uuid:x` (Synthea bundles kept
 * as published) gives `{ type: expectedType, id: x }`, because those bundles use the target id as the uuid.
 * Contained (`#x`) and identifier-only references give undefined: the cache cannot resolve them.
 */
export function keyOfReference(ref: Reference | undefined, expectedType?: string): ResourceKey | undefined {
  const raw = ref?.reference;
  if (typeof raw !== 'string' || raw.length === 0 || raw.startsWith('#')) return undefined;
  if (raw.startsWith('urn:uuid:')) {
    const id = raw.slice('urn:uuid:'.length);
    return expectedType && id ? { type: expectedType, id } : undefined;
  }
  if (raw.startsWith('urn:')) return undefined;
  const parts = (raw.split('?')[0] ?? '').split('/').filter(Boolean);
  const historyAt = parts.lastIndexOf('_history');
  const end = historyAt > 0 ? historyAt : parts.length;
  const type = parts[end - 2];
  const id = parts[end - 1];
  if (!type || !id || !/^[A-Z][A-Za-z]+$/.test(type)) return undefined;
  if (expectedType && type !== expectedType) return undefined;
  return { type, id };
}

export const keyString = (key: ResourceKey): string => `${key.type}/${key.id}`;
