import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decryptSecret, encryptSecret, openSourceSecrets, sealSourceSecrets } from './secret-box';

const key = randomBytes(32).toString('hex');

describe('secret box (BS-10)', () => {
  it('round-trips a secret and never stores it in clear', () => {
    const sealed = encryptSecret('client-secret-value', key, 'source-1');
    expect(sealed).not.toContain('client-secret-value');
    expect(sealed.startsWith('v1.')).toBe(true);
    expect(decryptSecret(sealed, key, 'source-1')).toBe('client-secret-value');
  });

  it('uses a fresh IV, so the same secret seals differently each time', () => {
    expect(encryptSecret('x', key)).not.toBe(encryptSecret('x', key));
  });

  it('refuses a wrong key, another owner, or a tampered value without echoing anything', () => {
    const sealed = encryptSecret('s3cret', key, 'source-1');
    expect(() => decryptSecret(sealed, randomBytes(32), 'source-1')).toThrow('Secret could not be decrypted');
    expect(() => decryptSecret(sealed, key, 'source-2')).toThrow('Secret could not be decrypted');
    const parts = sealed.split('.');
    parts[3] = Buffer.from('tampered').toString('base64url');
    expect(() => decryptSecret(parts.join('.'), key, 'source-1')).toThrow('Secret could not be decrypted');
  });

  it('rejects keys that are not 32 bytes', () => {
    expect(() => encryptSecret('x', 'too-short')).toThrow('32 bytes');
  });

  it('seals source secrets bound to the source id', () => {
    const sealed = sealSourceSecrets('src-a', { clientSecret: 'abc' }, key);
    expect(openSourceSecrets('src-a', sealed, key)).toEqual({ clientSecret: 'abc' });
    expect(() => openSourceSecrets('src-b', sealed, key)).toThrow();
  });
});
