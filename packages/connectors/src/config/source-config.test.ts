import { describe, expect, it } from 'vitest';
import { DEFAULT_RESOURCE_TYPES, parseSourceConfig, sourceConfigFromRow } from './source-config';

describe('source configuration', () => {
  it('defaults to the financial resource types plus referenced Organization and Practitioner', () => {
    const config = parseSourceConfig({ baseUrl: 'https://ehr.example/fhir/' });
    expect(config.kind).toBe('fhir-r4');
    expect(config.baseUrl).toBe('https://ehr.example/fhir');
    expect(config.resourceTypes).toEqual([...DEFAULT_RESOURCE_TYPES]);
    expect(config.auth).toEqual({ mode: 'none' });
    expect(config.pageSize).toBeUndefined();
  });

  it('applies the Epic preset: patient-scoped financial searches, group export, no assumed _count (EPIC-08)', () => {
    const config = parseSourceConfig({ kind: 'epic', baseUrl: 'https://epic.example/api/FHIR/R4' });
    expect(config.patientScopedTypes).toEqual(expect.arrayContaining(['Coverage', 'ExplanationOfBenefit', 'Account']));
    expect(config.bulk?.level).toBe('group');
    expect(config.pageSize).toBeUndefined();
  });

  it('applies the Oracle Health preset with _count 10 and lets explicit settings win, passing leading-hyphen params (ORA-03, ORA-05)', () => {
    const config = parseSourceConfig({
      kind: 'oracle-health',
      baseUrl: 'https://fhir-ehr.cerner.com/r4/tenant-id',
      searchParams: { Account: { '-guarantor': 'Patient/1', type: 'financial-account' } },
    });
    expect(config.pageSize).toBe(10);
    expect(config.patientScopedTypes).toContain('Coverage');
    expect(config.searchParams.Account).toEqual({ '-guarantor': 'Patient/1', type: 'financial-account' });
  });

  it('requires a client id and key id for Backend Services and rejects unknown algorithms', () => {
    expect(() =>
      parseSourceConfig({
        baseUrl: 'https://x.example',
        auth: { mode: 'backend-services', clientId: '', kid: 'k' } as never,
      }),
    ).toThrow();
    expect(() =>
      parseSourceConfig({
        baseUrl: 'https://x.example',
        auth: { mode: 'backend-services', clientId: 'c', kid: 'k', alg: 'HS256' } as never,
      }),
    ).toThrow();
    const ok = parseSourceConfig({
      baseUrl: 'https://x.example',
      auth: { mode: 'backend-services', clientId: 'c', kid: 'k' } as never,
    });
    expect(ok.auth).toMatchObject({ mode: 'backend-services', alg: 'ES384' });
  });

  it('rejects a base URL that is not http(s)', () => {
    expect(() => parseSourceConfig({ baseUrl: 'ftp://x.example' })).toThrow();
  });

  it('reads a source row, with settings under the row columns', () => {
    const config = sourceConfigFromRow({
      kind: 'sandbox',
      baseUrl: 'http://127.0.0.1:8080/fhir/r4',
      auth: { mode: 'none' },
      resourceTypes: ['Patient', 'Coverage'],
      syncMode: 'bulk',
      schedule: '*/15 * * * *',
      rateLimit: 5,
      concurrency: 3,
      settings: { pageSize: 25, concurrency: 9 },
    });
    expect(config).toMatchObject({
      resourceTypes: ['Patient', 'Coverage'],
      syncMode: 'bulk',
      rateLimit: 5,
      concurrency: 3,
      pageSize: 25,
    });
  });
});
