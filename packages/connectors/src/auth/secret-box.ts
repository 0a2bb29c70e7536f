// Source secrets at rest (BS-10): the one secret box lives in core (it also seals integration and tenant
// transport secrets); sources bind theirs to the source id.
import { decryptSecret, encryptSecret, type SecretKey } from '@fhirdesk/core';

export { decryptSecret, encryptSecret };

/** Seals a source's secrets (token, client secret, private JWK) for `source.secret`, bound to the source id. */
export function sealSourceSecrets(sourceId: string, secrets: Record<string, unknown>, key: SecretKey): string {
  return encryptSecret(JSON.stringify(secrets), key, sourceId);
}

export function openSourceSecrets(sourceId: string, sealed: string, key: SecretKey): Record<string, unknown> {
  return JSON.parse(decryptSecret(sealed, key, sourceId)) as Record<string, unknown>;
}
