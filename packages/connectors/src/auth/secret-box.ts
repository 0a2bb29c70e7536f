// Secrets at rest (BS-10, DESIGN "connector private keys are stored encrypted"): AES-256-GCM with a 32-byte
// key from configuration; output `v1.<iv>.<tag>.<ciphertext>` (base64url), authenticated so tampering fails.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ValidationError } from '@fhirdesk/core';

function keyBytes(key: string | Uint8Array): Buffer {
  const bytes =
    typeof key === 'string' ? Buffer.from(key, /^[0-9a-f]{64}$/i.test(key) ? 'hex' : 'base64') : Buffer.from(key);
  if (bytes.length !== 32) throw new ValidationError('Secret encryption key must be 32 bytes (hex or base64)');
  return bytes;
}

/** Encrypts a UTF-8 secret; `aad` binds it to its owner (e.g. the source id) so it cannot be moved. */
export function encryptSecret(plaintext: string, key: string | Uint8Array, aad = ''): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyBytes(key), iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', iv, cipher.getAuthTag(), ciphertext]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
    .join('.');
}

export function decryptSecret(sealed: string, key: string | Uint8Array, aad = ''): string {
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

/** Seals a source's secrets (token, client secret, private JWK) for `source.secret`, bound to the source id. */
export function sealSourceSecrets(
  sourceId: string,
  secrets: Record<string, unknown>,
  key: string | Uint8Array,
): string {
  return encryptSecret(JSON.stringify(secrets), key, sourceId);
}

export function openSourceSecrets(sourceId: string, sealed: string, key: string | Uint8Array): Record<string, unknown> {
  return JSON.parse(decryptSecret(sealed, key, sourceId)) as Record<string, unknown>;
}
