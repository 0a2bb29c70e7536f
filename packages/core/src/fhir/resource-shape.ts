// Minimal structural check of a resource before it enters the cache; anything failing goes to the dead
// letter table with the reason (issue #3), so one bad resource never stops a sync.
import { FHIR_ID } from './reference';

const RESOURCE_TYPE = /^[A-Z][A-Za-z]{1,63}$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Why `value` is not a usable FHIR resource (of `expectedType`, when given), or undefined when it is. */
export function resourceShapeProblem(value: unknown, expectedType?: string): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'not a JSON object';
  const r = value as Record<string, unknown>;
  if (typeof r.resourceType !== 'string' || !RESOURCE_TYPE.test(r.resourceType))
    return 'missing or invalid resourceType';
  if (expectedType && r.resourceType !== expectedType) return `expected ${expectedType}, got ${r.resourceType}`;
  if (typeof r.id !== 'string' || !FHIR_ID.test(r.id)) return 'missing or invalid id';
  if (r.meta !== undefined) {
    if (r.meta === null || typeof r.meta !== 'object' || Array.isArray(r.meta)) return 'meta is not an object';
    const meta = r.meta as Record<string, unknown>;
    if (meta.lastUpdated !== undefined && (typeof meta.lastUpdated !== 'string' || !INSTANT.test(meta.lastUpdated)))
      return 'meta.lastUpdated is not a FHIR instant';
    if (meta.versionId !== undefined && typeof meta.versionId !== 'string') return 'meta.versionId is not a string';
  }
  const wrongShape = SHAPE_RULES[r.resourceType]?.(r);
  return wrongShape;
}

const isObj = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);
const optArray = (r: Record<string, unknown>, key: string) =>
  r[key] === undefined || Array.isArray(r[key]) ? undefined : `${key} must be an array`;
const optObj = (r: Record<string, unknown>, key: string) =>
  r[key] === undefined || isObj(r[key]) ? undefined : `${key} must be an object`;

// Only the elements the cache and the agent view derive from; full profile validation is out of scope.
const SHAPE_RULES: Record<string, (r: Record<string, unknown>) => string | undefined> = {
  Patient: (r) => optArray(r, 'name') ?? optArray(r, 'identifier'),
  Coverage: (r) => optObj(r, 'beneficiary') ?? optArray(r, 'payor'),
  Claim: (r) => optObj(r, 'patient') ?? optArray(r, 'item'),
  ClaimResponse: (r) => optObj(r, 'patient') ?? optArray(r, 'item'),
  ExplanationOfBenefit: (r) =>
    optObj(r, 'patient') ?? optArray(r, 'item') ?? optArray(r, 'insurance') ?? optArray(r, 'contained'),
  Account: (r) => optArray(r, 'subject'),
};
