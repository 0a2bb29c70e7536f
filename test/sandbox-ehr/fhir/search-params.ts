// Validates and normalises search query parameters before they reach the library, which would
// otherwise silently match nothing for an unknown parameter (R4 search.html#errors: we answer 400,
// i.e. we always behave as `Prefer: handling=strict`).

import { searchParametersOf } from './definitions';
import { FhirHttpError } from './outcome';

export type SearchQuery = Record<string, string[]>;

/** Result parameters accepted besides the type's search parameters. */
const RESULT_PARAMS = new Set(['_count', '_offset', '_sort', '_total']);
/** Accepted and ignored: formatting only. */
const IGNORED_PARAMS = new Set(['_format', '_pretty']);

const DATE_VALUE =
  /^(eq|ne|gt|lt|ge|le|sa|eb|ap)?\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

export interface NormalisedSearch {
  /** Parameters for the repository (values joined as the library expects). */
  query: Record<string, string | string[]>;
  /** Parameters to repeat in paging links, without `_count`/`_offset`. */
  linkParams: [string, string][];
  count: number;
  offset: number;
  /** `_elements` (R4 search.html#elements): top-level elements to return, besides the mandatory ones. */
  elements?: string[];
}

export function normaliseSearch(
  resourceType: string,
  raw: SearchQuery,
  pageSizeDefault: number,
  pageSizeMax: number,
): NormalisedSearch {
  const params = searchParametersOf(resourceType);
  const query: Record<string, string | string[]> = {};
  const linkParams: [string, string][] = [];
  let count = pageSizeDefault;
  let offset = 0;
  let elements: string[] | undefined;

  for (const [name, values] of Object.entries(raw)) {
    if (IGNORED_PARAMS.has(name)) continue;
    const last = values[values.length - 1] ?? '';
    if (name === '_count') {
      // REST-02: `_count` is a hint; the server caps it at its maximum.
      count = Math.min(nonNegativeInteger(name, last), pageSizeMax);
      continue;
    }
    if (name === '_offset') {
      offset = nonNegativeInteger(name, last);
      continue;
    }
    if (name === '_elements') {
      const names = last.split(',').filter((e) => e !== '');
      if (names.length === 0 || !names.every((e) => /^[a-z][A-Za-z0-9]*$/.test(e))) {
        throw FhirHttpError.badRequest('_elements must list top-level element names');
      }
      elements = names;
      linkParams.push([name, last]);
      continue;
    }
    if (name === '_sort') {
      for (const key of last.split(',')) {
        const code = key.replace(/^-/, '');
        if (!params[code]) throw FhirHttpError.badRequest(`Unsupported _sort key: ${code}`);
      }
    } else if (!RESULT_PARAMS.has(name)) {
      const [code = '', modifier] = name.split(':');
      const definition = params[code];
      if (!definition || code.includes('.')) throw FhirHttpError.badRequest(`Unknown search parameter: ${name}`);
      if (definition.type === 'date' && values.some((v) => !v.split(',').every((d) => DATE_VALUE.test(d)))) {
        throw FhirHttpError.badRequest(`Invalid date value for ${name}`);
      }
      if (definition.type === 'reference' && modifier === undefined) {
        const target = referenceTarget(code, definition.target);
        if (target) {
          const normalised = values.map((v) =>
            v
              .split(',')
              .map((ref) => (ref.includes('/') ? ref : `${target}/${ref}`))
              .join(','),
          );
          query[name] = normalised.length === 1 ? (normalised[0] as string) : normalised;
          for (const v of values) linkParams.push([name, v]);
          continue;
        }
      }
    }
    query[name] = values.length === 1 ? last : values;
    for (const v of values) linkParams.push([name, v]);
  }
  query._count = String(count);
  query._offset = String(offset);
  return { query, linkParams, count, offset, ...(elements ? { elements } : {}) };
}

/**
 * The library matches references only as `Type/id`; a bare id (`patient=123`) is expanded with the
 * parameter's only target type, or Patient for `patient`/`beneficiary`/`subject` (R4 search.html#reference).
 */
function referenceTarget(code: string, targets: string[] | undefined): string | undefined {
  if (targets?.length === 1) return targets[0];
  if (['patient', 'beneficiary', 'subject'].includes(code) && targets?.includes('Patient')) return 'Patient';
  return undefined;
}

function nonNegativeInteger(name: string, value: string): number {
  if (!/^\d+$/.test(value)) throw FhirHttpError.badRequest(`${name} must be a non-negative integer`);
  return Number(value);
}

export function searchQueryFrom(params: URLSearchParams): SearchQuery {
  const query: SearchQuery = {};
  for (const [key, value] of params) {
    const list = query[key];
    if (list) list.push(value);
    else query[key] = [value];
  }
  return query;
}
