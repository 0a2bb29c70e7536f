// Public entry of @fhirdesk/connectors: source configuration, SMART Backend Services auth, discovery,
// the sync engine (incremental, patient refresh, Bulk) and the job schedulers.
export type { AccessTokenProvider, TokenProviderOptions } from './auth/access-token';
export { createAccessTokenProvider, noAuth } from './auth/access-token';
export type { AssertionInput, BackendServicesAlg, ClientKey, TokenResponse } from './auth/backend-services';
export {
  createClientAssertion,
  generateClientKey,
  jwksOfPrivateJwk,
  publicJwks,
  requestToken,
  systemScopes,
} from './auth/backend-services';
export { decryptSecret, encryptSecret, openSourceSecrets, sealSourceSecrets } from './auth/secret-box';
export type {
  AuthConfig,
  SourceConfig,
  SourceConfigInput,
  SourceKind,
  SourceRowLike,
  SourceSecrets,
} from './config/source-config';
export {
  authConfigSchema,
  DEFAULT_RESOURCE_TYPES,
  parseSourceConfig,
  sourceConfigFromRow,
  sourceConfigSchema,
  sourceKinds,
  sourcePresets,
  sourceSecretsSchema,
} from './config/source-config';
export type { SourceCapabilities } from './discovery';
export { assertCapabilities, discoverSource } from './discovery';
export type { ConnectorFailure } from './errors';
export { ConnectorError } from './errors';
export { fhirKitClientDebugEnabled, silenceFhirKitClientDebug } from './http/debug-guard';
export type { FhirHttpOptions, FhirResult } from './http/fhir-http';
export { FhirHttp } from './http/fhir-http';
export type { Sleep } from './http/limiter';
export { parseRetryAfter } from './http/retry-after';
export type { RecurringTask, SyncJob, SyncJobRunner, SyncScheduler } from './jobs/scheduler';
export { InProcessScheduler, PgBossScheduler } from './jobs/scheduler';
export * from './sources/source-service';
export { BULK_SCOPE } from './sync/bulk';
export type { CacheItem, DeletionMark, PageWriteResult } from './sync/cache-writer';
export { markDeleted, upsertResources } from './sync/cache-writer';
export type {
  ConnectedSource,
  ConnectorDeps,
  LoadedSource,
  RefreshPatientRequest,
  SyncRequest,
  SyncSummary,
} from './sync/engine';
export { connectSource, loadSource, refreshPatient, runSync } from './sync/engine';
export type { ConnectorLogger, SyncCounts, SyncHooks, SyncMode } from './sync/run-context';
