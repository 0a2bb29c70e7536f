// Source discovery (EPIC-08): read the CapabilityStatement and SMART configuration, and refuse a source
// whose server lacks a needed resource type, search parameter or operation, naming exactly which.
import type { CapabilityStatement, CapabilityStatementRestResource } from 'fhir/r4';
import type { SourceConfig } from './config/source-config';
import { ConnectorError } from './errors';
import type { FhirHttp } from './http/fhir-http';

export interface SourceCapabilities {
  fhirVersion: string | undefined;
  /** Search parameters per supported resource type (names as published). */
  searchParams: Record<string, string[]>;
  /** Types whose search supports `_lastUpdated` (INC-02: others fall back to a full resync). */
  lastUpdatedTypes: string[];
  /** Types advertising the `history-type` interaction: their deletions can be read incrementally. */
  historyTypes: string[];
  /** Whether `$export` is advertised (system or type level). */
  bulkExport: boolean;
  smart: {
    tokenEndpoint?: string | undefined;
    signingAlgs?: string[] | undefined;
    capabilities?: string[] | undefined;
  };
}

interface SmartConfiguration {
  token_endpoint?: string;
  token_endpoint_auth_signing_alg_values_supported?: string[];
  capabilities?: string[];
}

export async function discoverSource(http: FhirHttp, config: SourceConfig): Promise<SourceCapabilities> {
  let statement: CapabilityStatement;
  try {
    const { body } = await http.get<CapabilityStatement>('metadata', undefined, { accept: 'application/fhir+json' });
    statement = body;
  } catch (e) {
    if (e instanceof ConnectorError && (e.reason === 'invalid-body' || e.reason === 'not-found')) {
      throw new ConnectorError('not-fhir', `${config.baseUrl} does not serve a FHIR CapabilityStatement at /metadata`, {
        ...(e.httpStatus !== undefined ? { httpStatus: e.httpStatus } : {}),
      });
    }
    throw e;
  }
  if (statement?.resourceType !== 'CapabilityStatement') {
    throw new ConnectorError('not-fhir', `${config.baseUrl}/metadata did not return a CapabilityStatement`);
  }

  const searchParams: Record<string, string[]> = {};
  const lastUpdatedTypes: string[] = [];
  const historyTypes: string[] = [];
  const rest = (statement.rest ?? []).find((r) => r.mode === 'server') ?? statement.rest?.[0];
  let bulkExport = (rest?.operation ?? []).some((o) => o.name === 'export');
  for (const resource of rest?.resource ?? ([] as CapabilityStatementRestResource[])) {
    const names = (resource.searchParam ?? []).map((p) => p.name);
    // Common parameters (`_lastUpdated`, `_id`) may be declared once at rest level.
    for (const p of rest?.searchParam ?? []) names.push(p.name);
    searchParams[resource.type] = names;
    if (names.includes('_lastUpdated')) lastUpdatedTypes.push(resource.type);
    if ((resource.interaction ?? []).some((i) => i.code === 'history-type')) historyTypes.push(resource.type);
    if ((resource.operation ?? []).some((o) => o.name === 'export')) bulkExport = true;
  }

  let smart: SmartConfiguration = {};
  if (config.auth.mode === 'backend-services' || config.auth.mode === 'client-secret') {
    try {
      const { body } = await http.get<SmartConfiguration>('.well-known/smart-configuration', undefined, {
        accept: 'application/json',
      });
      smart = body;
    } catch (e) {
      if (!config.auth.tokenUrl) {
        throw new ConnectorError(
          'missing-capability',
          'Server publishes no .well-known/smart-configuration and no token URL is configured',
          {
            ...(e instanceof ConnectorError && e.httpStatus !== undefined ? { httpStatus: e.httpStatus } : {}),
          },
        );
      }
    }
    if (config.auth.mode === 'backend-services') {
      const algs = smart.token_endpoint_auth_signing_alg_values_supported;
      if (algs && !algs.includes(config.auth.alg)) {
        throw new ConnectorError(
          'missing-capability',
          `Token endpoint does not accept ${config.auth.alg} assertions (supports: ${algs.join(', ')})`,
        );
      }
    }
  }

  const capabilities: SourceCapabilities = {
    fhirVersion: statement.fhirVersion,
    searchParams,
    lastUpdatedTypes,
    historyTypes,
    bulkExport,
    smart: {
      tokenEndpoint: smart.token_endpoint,
      signingAlgs: smart.token_endpoint_auth_signing_alg_values_supported,
      capabilities: smart.capabilities,
    },
  };
  assertCapabilities(capabilities, config);
  return capabilities;
}

/** Throws naming every missing type, search parameter or operation the configuration needs. */
export function assertCapabilities(capabilities: SourceCapabilities, config: SourceConfig): void {
  const problems: string[] = [];
  const missingTypes = config.resourceTypes.filter((t) => !(t in capabilities.searchParams));
  if (missingTypes.length > 0) problems.push(`resource types not supported: ${missingTypes.join(', ')}`);
  const needed: Record<string, Set<string>> = {};
  const need = (type: string, param: string) => {
    if (!config.resourceTypes.includes(type)) return;
    needed[type] ??= new Set();
    needed[type].add(param);
  };
  for (const [type, params] of Object.entries(config.requiredSearchParams)) for (const p of params) need(type, p);
  for (const type of config.patientScopedTypes) need(type, 'patient');
  for (const [type, params] of Object.entries(config.searchParams)) for (const p of Object.keys(params)) need(type, p);
  for (const [type, params] of Object.entries(needed)) {
    const have = capabilities.searchParams[type];
    if (!have) continue;
    const missing = [...params].filter((p) => !have.includes(p));
    if (missing.length > 0) problems.push(`${type} search parameters not supported: ${missing.join(', ')}`);
  }
  if (config.syncMode === 'bulk' && !capabilities.bulkExport) problems.push('Bulk $export is not advertised');
  if (problems.length > 0) {
    throw new ConnectorError('missing-capability', `Source cannot be synced: ${problems.join('; ')}`, {
      extensions: { problems },
    });
  }
}
