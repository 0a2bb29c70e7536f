// What every sandbox module needs: where it lives, the repository, the router and resolved options.
import type { FhirRouter } from '@medplum/fhir-router';
import type { SandboxRepository } from './fhir/sandbox-repository';

export interface ResolvedSandboxOptions {
  requireAuth: boolean;
  tokenLifetimeSeconds: number;
  pageSizeDefault: number;
  pageSizeMax: number;
  bulkPollsBeforeReady: number;
  bulkRetryAfterSeconds: number;
}

export interface SandboxContext {
  /** e.g. http://127.0.0.1:PORT */
  origin: string;
  /** Path of the FHIR base, e.g. /fhir/r4 */
  fhirBasePath: string;
  /** Absolute FHIR base URL, e.g. http://127.0.0.1:PORT/fhir/r4 */
  fhirBaseUrl: string;
  tokenUrl: string;
  repo: SandboxRepository;
  router: FhirRouter;
  options: ResolvedSandboxOptions;
}
