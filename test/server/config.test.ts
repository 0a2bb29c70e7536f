// Start-up configuration: a wrong value stops the process with a message naming the variable.
import { DEFAULT_POOL_SIZE } from '@fhirdesk/core';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../packages/server/src/config/config';

describe('FHIRDESK_DB_POOL_SIZE', () => {
  it('sizes the PostgreSQL pool; unset leaves core’s default', () => {
    expect(loadConfig({ FHIRDESK_DB_POOL_SIZE: '8' }).FHIRDESK_DB_POOL_SIZE).toBe(8);
    expect(loadConfig({}).FHIRDESK_DB_POOL_SIZE).toBeUndefined();
    expect(DEFAULT_POOL_SIZE).toBe(6);
  });

  it.each(['1', '0', '-4', '2.5', 'many', '201'])('refuses %j with a message naming the variable', (value) => {
    expect(() => loadConfig({ FHIRDESK_DB_POOL_SIZE: value })).toThrow(ConfigError);
    expect(() => loadConfig({ FHIRDESK_DB_POOL_SIZE: value })).toThrow(/FHIRDESK_DB_POOL_SIZE/);
  });
});

describe('FHIRDESK_LOG_BUFFER_BYTES', () => {
  it('sets the log buffer; 0 turns it off; unset leaves the default', () => {
    expect(loadConfig({ FHIRDESK_LOG_BUFFER_BYTES: '0' }).FHIRDESK_LOG_BUFFER_BYTES).toBe(0);
    expect(loadConfig({ FHIRDESK_LOG_BUFFER_BYTES: '8192' }).FHIRDESK_LOG_BUFFER_BYTES).toBe(8192);
    expect(loadConfig({}).FHIRDESK_LOG_BUFFER_BYTES).toBeUndefined();
  });

  it.each(['-1', '1.5', 'lots', '8193'])('refuses %j with a message naming the variable', (value) => {
    expect(() => loadConfig({ FHIRDESK_LOG_BUFFER_BYTES: value })).toThrow(/FHIRDESK_LOG_BUFFER_BYTES/);
  });
});
