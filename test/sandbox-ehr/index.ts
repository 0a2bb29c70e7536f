// The sandbox EHR: a FHIR R4 server (@medplum/fhir-router + an in-memory repository) on 127.0.0.1
// with SMART Backend Services auth and Bulk Data export, seeded from test/fixtures/fhir-r4.
// Used by connector tests, by `npm start` as the demo EHR, and by SMART launch tests.
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { parseSearchRequest } from '@medplum/core';
import { FhirRouter } from '@medplum/fhir-router';
import type { Resource as MedplumResource } from '@medplum/fhirtypes';
import type { Resource } from 'fhir/r4';
import type { JSONWebKeySet } from 'jose';
import { createSandboxApp, TOKEN_PATH } from './app';
import { BackendServicesGrant } from './auth/backend-services';
import { ClientRegistry } from './auth/clients';
import { TokenEndpoint } from './auth/token-endpoint';
import { BulkExports } from './bulk/bulk-export';
import type { ResolvedSandboxOptions, SandboxContext } from './context';
import { loadFhirDefinitions } from './fhir/definitions';
import { SandboxRepository } from './fhir/sandbox-repository';
import { addTypeHistoryRoute } from './fhir/type-history';
import { seedFixtures } from './seed/seed-fixtures';
import {
  type AppClientRegistration,
  type AppLaunchSettings,
  ContextTokenStore,
  SmartAppLaunch,
} from './smart/app-launch';

export { SYNTHEA_GROUP_ID } from './seed/seed-fixtures';

export interface SandboxEhrOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Load all fixtures (Synthea bundles, HL7 examples, the Synthea Group). Default true. */
  seed?: boolean;
  /** FHIR and bulk endpoints need a Bearer token from our token endpoint. Default false. */
  requireAuth?: boolean;
  /** Access token lifetime (`expires_in`). Default 300 (BS-07). */
  tokenLifetimeSeconds?: number;
  /** Search page size without `_count`. Default 20. */
  pageSizeDefault?: number;
  /** Largest page size; a larger `_count` is capped (REST-02). Default 50. */
  pageSizeMax?: number;
  /** Status polls answered 202 before the manifest is ready. Default 1. */
  bulkPollsBeforeReady?: number;
  /** `Retry-After` seconds on those 202s. Default 1. */
  bulkRetryAfterSeconds?: number;
  /**
   * Serve and advertise `[type]/_history` (with deletes). Default true; false behaves like a server
   * without type history (Epic-style), whose deletions a client can only find by reconciling ids.
   */
  typeHistory?: boolean;
}

export interface BackendClient {
  clientId: string;
  jwks?: JSONWebKeySet;
  jwksUrl?: string;
  /** Grantable scopes; omitted means any `system/` scope. `system/*.rs` style wildcards allowed. */
  scopes?: string[];
}

export interface SandboxEhr {
  /** e.g. http://127.0.0.1:PORT */
  origin: string;
  /** e.g. http://127.0.0.1:PORT/fhir/r4 */
  fhirBaseUrl: string;
  /** e.g. http://127.0.0.1:PORT/auth/token — the exact `aud` for client assertions. */
  tokenUrl: string;
  registerBackendClient(client: BackendClient): void;
  /** SMART app launch: a public client with its redirect URIs and launch URL (SAL-01). */
  registerAppClient(client: AppClientRegistration): void;
  /** Mutable app-launch knobs (granted scopes, id_token faults, banner) for tests. */
  appLaunch: AppLaunchSettings;
  /** The EHR page that launches the registered app in an iframe, e.g. http://127.0.0.1:PORT/ehr */
  ehrUrl: string;
  /** Update-as-create with the resource's id (new version, server meta). */
  updateResource<T extends Resource>(resource: T): Promise<T>;
  /** Create with a server-assigned id. */
  createResource<T extends Resource>(resource: T): Promise<T>;
  deleteResource(type: string, id: string): Promise<void>;
  /** Rejects (OperationOutcomeError, not-found) for an unknown id. */
  readResource(type: string, id: string): Promise<Resource>;
  /** All matches of a FHIR search query (no paging), e.g. `{ patient: 'Patient/123' }`. */
  searchAll(type: string, query?: Record<string, string>): Promise<Resource[]>;
  /** Current resources per type. */
  counts(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

const FHIR_BASE_PATH = '/fhir/r4';

export async function startSandboxEhr(options: SandboxEhrOptions = {}): Promise<SandboxEhr> {
  loadFhirDefinitions();
  const resolved: ResolvedSandboxOptions = {
    requireAuth: options.requireAuth ?? false,
    tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? 300,
    pageSizeDefault: options.pageSizeDefault ?? 20,
    pageSizeMax: options.pageSizeMax ?? 50,
    bulkPollsBeforeReady: options.bulkPollsBeforeReady ?? 1,
    bulkRetryAfterSeconds: options.bulkRetryAfterSeconds ?? 1,
  };
  const repo = new SandboxRepository();
  const router = new FhirRouter();
  if (options.seed ?? true) await seedFixtures(router, repo);

  // The origin is known only once listening; handlers read it from ctx at request time.
  const ctx: SandboxContext = {
    origin: '',
    fhirBasePath: FHIR_BASE_PATH,
    fhirBaseUrl: '',
    tokenUrl: '',
    repo,
    router,
    options: resolved,
  };
  const clients = new ClientRegistry();
  const tokens = new ContextTokenStore();
  const tokenEndpoint = new TokenEndpoint(tokens, () => resolved.tokenLifetimeSeconds);
  const bulk = new BulkExports(ctx);
  if (options.typeHistory ?? true) addTypeHistoryRoute(router, ctx);
  const appLaunch = new SmartAppLaunch(ctx, tokens);
  appLaunch.grantHandlers(tokenEndpoint);
  const app = createSandboxApp(ctx, { tokens, tokenEndpoint, bulk, appLaunch });

  const host = options.host ?? '127.0.0.1';
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: options.port ?? 0, hostname: host }, () => resolve(s));
    s.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  ctx.origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  ctx.fhirBaseUrl = `${ctx.origin}${FHIR_BASE_PATH}`;
  ctx.tokenUrl = `${ctx.origin}${TOKEN_PATH}`;
  const backendGrant = new BackendServicesGrant(clients, ctx.tokenUrl);
  tokenEndpoint.addGrantType('client_credentials', (form) => backendGrant.grant(form));

  const asMedplum = (resource: Resource): MedplumResource => resource as unknown as MedplumResource;
  return {
    origin: ctx.origin,
    fhirBaseUrl: ctx.fhirBaseUrl,
    tokenUrl: ctx.tokenUrl,
    registerBackendClient: (client) => clients.registerBackendClient(client),
    registerAppClient: (client) => appLaunch.registerAppClient(client),
    appLaunch: appLaunch.settings,
    ehrUrl: `${ctx.origin}/ehr`,
    updateResource: async (resource) => (await repo.updateResource(asMedplum(resource))) as unknown as typeof resource,
    createResource: async (resource) => (await repo.createResource(asMedplum(resource))) as unknown as typeof resource,
    deleteResource: (type, id) => repo.deleteResource(type, id),
    readResource: async (type, id) => (await repo.readResource(type, id)) as unknown as Resource,
    searchAll: async (type, query = {}) =>
      (await repo.searchResources(
        parseSearchRequest(type as MedplumResource['resourceType'], query),
      )) as unknown as Resource[],
    counts: async () => repo.counts(),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        if ('closeAllConnections' in server) server.closeAllConnections();
      }),
  };
}

export type { AssertionAlgorithm, TestBackendClient } from './backend-client';
export { createTestBackendClient, fetchBackendToken, signAssertion, tokenRequestBody } from './backend-client';
export type { AppClientRegistration, AppLaunchSettings } from './smart/app-launch';
