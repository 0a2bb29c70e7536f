// GET [fhirBase]/.well-known/smart-configuration (SAL conformance.html#metadata; INF-S-01): JSON,
// absolute URLs, and only what the sandbox implements. The app-launch module adds its endpoints and
// capabilities through `extra`.
import { ASSERTION_ALGORITHMS } from './backend-services';

export interface SmartConfigurationInput {
  tokenUrl: string;
  grantTypes: string[];
  resourceTypes: string[];
  extra?: Record<string, unknown>;
  extraCapabilities?: string[];
}

export function smartConfiguration(input: SmartConfigurationInput): Record<string, unknown> {
  const systemScopes = input.resourceTypes.flatMap((type) => [`system/${type}.rs`, `system/${type}.read`]);
  return {
    token_endpoint: input.tokenUrl,
    token_endpoint_auth_methods_supported: ['private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGORITHMS,
    grant_types_supported: input.grantTypes,
    scopes_supported: ['system/*.rs', 'system/*.read', ...systemScopes],
    response_types_supported: [],
    code_challenge_methods_supported: ['S256'],
    capabilities: [
      'client-confidential-asymmetric',
      'permission-v1',
      'permission-v2',
      ...(input.extraCapabilities ?? []),
    ],
    ...input.extra,
  };
}
