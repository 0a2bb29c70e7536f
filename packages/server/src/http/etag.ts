import { PreconditionRequiredError, ValidationError } from '@fhirdesk/core';

export function etagOf(version: number): string {
  return `W/"${version}"`;
}

/** Reads a row version from If-Match (`W/"3"`, `"3"` or `3`); required for field updates. */
export function versionFromIfMatch(header: string | undefined, required: true): number;
export function versionFromIfMatch(header: string | undefined, required: false): number | undefined;
export function versionFromIfMatch(header: string | undefined, required: boolean): number | undefined {
  if (!header) {
    if (required)
      throw new PreconditionRequiredError('Send If-Match with the ticket version (its ETag) you are updating');
    return undefined;
  }
  const m = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(header);
  if (!m)
    throw new ValidationError('Invalid If-Match header', [
      { field: 'If-Match', message: 'expected the ETag of the ticket, e.g. W/"3"' },
    ]);
  return Number(m[1]);
}
