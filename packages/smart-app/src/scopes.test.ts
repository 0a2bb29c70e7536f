import { describe, expect, it } from 'vitest';
import { canRead, requestedScopes } from './scopes';

describe('requested SMART scopes', () => {
  it('asks for v2 .rs scopes, identity and offline access from a SMART 2 server (SAL-40, SAL-45)', () => {
    const scope = requestedScopes({ capabilities: ['permission-v2', 'permission-v1', 'permission-offline'] }, 'ehr');
    expect(scope.split(' ')).toEqual([
      'launch',
      'openid',
      'fhirUser',
      'patient/Patient.rs',
      'patient/Coverage.rs',
      'patient/Claim.rs',
      'patient/ClaimResponse.rs',
      'patient/ExplanationOfBenefit.rs',
      'patient/Account.rs',
      'offline_access',
    ]);
  });

  it('falls back to v1 .read scopes when the server advertises only permission-v1 (SAL-41)', () => {
    const scope = requestedScopes({ capabilities: ['permission-v1'] }, 'standalone').split(' ');
    expect(scope).toContain('launch/patient');
    expect(scope).toContain('patient/Claim.read');
    expect(scope.some((s) => s.endsWith('.rs'))).toBe(false);
    expect(scope).not.toContain('offline_access');
  });
});

describe('granted scope checks (SAL-43)', () => {
  it('reads v2, v1 and wildcard grants, and refuses what was not granted', () => {
    expect(canRead('patient/Claim.rs', 'Claim')).toBe(true);
    expect(canRead('patient/Claim.read', 'Claim')).toBe(true);
    expect(canRead('user/*.rs', 'Coverage')).toBe(true);
    expect(canRead('patient/Claim.c', 'Claim')).toBe(false);
    expect(canRead('patient/Coverage.rs openid', 'Claim')).toBe(false);
  });
});
