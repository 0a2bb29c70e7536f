// SMART scopes the agent app asks for and how it reads what was granted (SAL-40..43, SAL-45).

/** Resource types the agent view reads, in the order features need them. */
export const READ_TYPES = ['Patient', 'Coverage', 'Claim', 'ClaimResponse', 'ExplanationOfBenefit', 'Account'] as const;
export type ReadType = (typeof READ_TYPES)[number];

export interface ServerConfig {
  capabilities?: string[];
  code_challenge_methods_supported?: string[];
}

/**
 * SAL-40/41/42: v2 `.rs` scopes, generated in canonical order; v1 `.read` only when the server
 * advertises permission-v1 without permission-v2. `offline_access` only with permission-offline (SAL-05).
 */
export function requestedScopes(config: ServerConfig, launch: 'ehr' | 'standalone'): string {
  const caps = new Set(config.capabilities ?? []);
  const v1Only = caps.has('permission-v1') && !caps.has('permission-v2');
  const suffix = v1Only ? 'read' : 'rs';
  const scopes = [launch === 'ehr' ? 'launch' : 'launch/patient', 'openid', 'fhirUser'];
  scopes.push(...READ_TYPES.map((type) => `patient/${type}.${suffix}`));
  if (caps.has('permission-offline')) scopes.push('offline_access');
  return scopes.join(' ');
}

/** SAL-43: may the granted scope string read `type`? Accepts v1 and v2 forms and wildcards. */
export function canRead(granted: string, type: ReadType): boolean {
  return granted.split(/\s+/).some((scope) => {
    const match = /^(patient|user|system)\/([A-Za-z*]+)\.([a-z*]+)(\?.*)?$/.exec(scope);
    if (!match) return false;
    const [, , resource, perms] = match;
    if (resource !== type && resource !== '*') return false;
    if (perms === 'read' || perms === '*') return true;
    return perms!.includes('r');
  });
}
