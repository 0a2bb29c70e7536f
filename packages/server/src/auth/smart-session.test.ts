import { describe, expect, it } from 'vitest';
import { normaliseIssuer, parseFhirUser } from './smart-session';

const base = 'https://ehr.example.org/fhir/r4';

describe('fhirUser parsing (SAL-62)', () => {
  it('reduces an absolute fhirUser under the issuer base to Type/id', () => {
    expect(parseFhirUser(`${base}/Practitioner/123`, base)).toEqual({
      type: 'Practitioner',
      id: '123',
      reference: 'Practitioner/123',
    });
  });

  it('keeps a relative PractitionerRole and drops a version suffix', () => {
    expect(parseFhirUser('PractitionerRole/pr-9/_history/2', base)).toEqual({
      type: 'PractitionerRole',
      id: 'pr-9',
      reference: 'PractitionerRole/pr-9',
    });
  });

  it('keeps an absolute fhirUser from another server as published, since it is not ours to shorten', () => {
    const foreign = 'https://idp.example.com/fhir/Person/p1';
    expect(parseFhirUser(foreign, base)).toEqual({ type: 'Person', id: 'p1', reference: foreign });
  });

  it('rejects types other than Patient, Practitioner, PractitionerRole, RelatedPerson and Person, and garbage', () => {
    expect(parseFhirUser('Organization/1', base)).toBeUndefined();
    expect(parseFhirUser('not a reference', base)).toBeUndefined();
    expect(parseFhirUser(42, base)).toBeUndefined();
  });

  it('treats an issuer with and without a trailing slash as the same source', () => {
    expect(normaliseIssuer(`${base}/`)).toBe(base);
    expect(normaliseIssuer(` ${base}// `)).toBe(base);
  });
});
