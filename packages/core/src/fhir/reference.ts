// A FHIR reference is parsed once into a value and passed around as that (STYLE: "FHIR is spelled as FHIR spells it").
import { ValidationError } from '../errors';

/** R4 id grammar: [A-Za-z0-9\-\.]{1,64} (https://hl7.org/fhir/R4/datatypes.html#id). */
export const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
const RESOURCE_TYPE = /^[A-Z][A-Za-z]{1,63}$/;

export interface FhirReference<T extends string = string> {
  type: T;
  id: string;
  /** Source whose base URL the reference was resolved against, when known. */
  sourceId?: string | undefined;
  versionId?: string | undefined;
}

export interface SourceBase {
  id: string;
  baseUrl: string;
}

export interface ParseReferenceOptions<T extends string> {
  /** Resource types accepted; anything else is rejected with the list of allowed ones. */
  allowedTypes: readonly T[];
  /** Base URLs an absolute reference may resolve against (the tenant's sources). */
  sources?: readonly SourceBase[];
  /** Field name used in the validation error. */
  field?: string;
}

function normaliseBase(url: string): string {
  return url.replace(/\/+$/, '');
}

/**
 * Parses `Type/id`, `Type/id/_history/v` or an absolute URL under one of the tenant's source base URLs.
 * Contained (`#x`), `urn:` and foreign absolute references are rejected: the cache cannot resolve them.
 */
export function parseReference<T extends string>(raw: string, options: ParseReferenceOptions<T>): FhirReference<T> {
  const field = options.field ?? 'reference';
  const fail = (message: string): never => {
    throw new ValidationError('Invalid FHIR reference', [{ field, message }]);
  };
  if (typeof raw !== 'string' || raw.length === 0) fail('must be a non-empty string');
  if (raw.length > 2048) fail('is longer than 2048 characters');
  if (raw.startsWith('#')) fail('contained references (#id) cannot be linked');
  if (raw.startsWith('urn:')) fail('urn: references cannot be linked; use Type/id');

  let relative = raw;
  let sourceId: string | undefined;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return fail('is not a valid URL');
    }
    const withoutQuery = `${url.origin}${url.pathname}`;
    const match = (options.sources ?? [])
      .map((s) => ({ s, base: normaliseBase(s.baseUrl) }))
      .filter(({ base }) => withoutQuery.startsWith(`${base}/`))
      .sort((a, b) => b.base.length - a.base.length)[0];
    if (!match) fail('absolute URL does not belong to any configured source of this tenant');
    relative = withoutQuery.slice(match!.base.length + 1);
    sourceId = match!.s.id;
  }

  const parts = relative.split('/');
  let versionId: string | undefined;
  if (parts.length === 4 && parts[2] === '_history') {
    versionId = parts[3];
    if (!versionId || !FHIR_ID.test(versionId)) fail('version id does not match the FHIR id grammar');
  } else if (parts.length !== 2) {
    fail('must have the form Type/id');
  }
  const [type, id] = parts as [string, string];
  if (!RESOURCE_TYPE.test(type)) fail('resource type is not a FHIR resource type name');
  if (!(options.allowedTypes as readonly string[]).includes(type)) {
    fail(`resource type ${type} cannot be linked; allowed: ${options.allowedTypes.join(', ')}`);
  }
  if (!FHIR_ID.test(id)) fail('id does not match the FHIR id grammar [A-Za-z0-9-.]{1,64}');
  return { type: type as T, id, sourceId, versionId };
}

export function formatReference(ref: Pick<FhirReference, 'type' | 'id'>): string {
  return `${ref.type}/${ref.id}`;
}
