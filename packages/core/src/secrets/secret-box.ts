// Secrets at rest (BS-10, DESIGN "connector private keys are stored encrypted"): AES-256-GCM with a 32-byte
// key from configuration (FHIRDESK_SECRET_KEY); output `v1.<iv>.<tag>.<ciphertext>` (base64url), authenticated
// so tampering fails. One box for every stored secret: source credentials, integration HMAC secrets, tenant
// transport and webhook secrets (issue #6).
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { ValidationError } from '../errors';

/** 32 bytes, or their hex (64 chars) or base64 spelling. */
export type SecretKey = string | Uint8Array;

function keyBytes(key: SecretKey): Buffer {
  const bytes =
    typeof key === 'string' ? Buffer.from(key, /^[0-9a-f]{64}$/i.test(key) ? 'hex' : 'base64') : Buffer.from(key);
  if (bytes.length !== 32) throw new ValidationError('Secret encryption key must be 32 bytes (hex or base64)');
  return bytes;
}

/** Encrypts a UTF-8 secret; `aad` binds it to its owner (e.g. the source id) so it cannot be moved. */
export function encryptSecret(plaintext: string, key: SecretKey, aad = ''): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyBytes(key), iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', iv, cipher.getAuthTag(), ciphertext]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
    .join('.');
}

export function decryptSecret(sealed: string, key: SecretKey, aad = ''): string {
  const [version, iv, tag, ciphertext] = sealed.split('.');
  if (version !== 'v1' || !iv || !tag || ciphertext === undefined)
    throw new ValidationError('Unrecognised secret format');
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyBytes(key), Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    // Never echo the ciphertext or key material.
    throw new ValidationError('Secret could not be decrypted (wrong key or tampered value)');
  }
}

/** Whether a stored value is already sealed by `encryptSecret` (values written before sealing are not). */
export function isSealedSecret(value: string): boolean {
  return /^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]*$/.test(value);
}

/**
 * A short, stable tag of a secret that admins can compare ("is this the one I set?") without the API
 * returning the secret. Keyed (HMAC with a key derived from the encryption key), so unlike a bare hash it
 * gives no offline oracle for guessing a low-entropy password.
 */
export function secretFingerprint(plaintext: string, key: SecretKey): string {
  const fpKey = Buffer.from(hkdfSync('sha256', keyBytes(key), Buffer.alloc(0), 'fhirdesk secret fingerprint', 32));
  return createHmac('sha256', fpKey).update(plaintext, 'utf8').digest('hex').slice(0, 16);
}
