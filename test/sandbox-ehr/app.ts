// The sandbox's HTTP surface as one Hono app: discovery and metadata (open), the token endpoint,
// Bulk Data status/files, and everything else under the FHIR base handed to @medplum/fhir-router.
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { requireBearer } from './auth/bearer';
import { OAuthError, oauthErrorResponse } from './auth/oauth-error';
import { smartConfiguration } from './auth/smart-configuration';
import type { TokenEndpoint } from './auth/token-endpoint';
import type { TokenStore } from './auth/token-store';
import type { BulkExports, ExportLevel } from './bulk/bulk-export';
import type { SandboxContext } from './context';
import { ADVERTISED_TYPES, capabilityStatement } from './fhir/capability-statement';
import { handleFhirRequest } from './fhir/fhir-routes';
import { FhirHttpError, fhirResponse, operationOutcome, outcomeResponse } from './fhir/outcome';
import type { SmartAppLaunch } from './smart/app-launch';

export interface SandboxServices {
  tokens: TokenStore;
  tokenEndpoint: TokenEndpoint;
  bulk: BulkExports;
  /** SMART app launch (authorize, openid-configuration, JWKS, EHR page); optional. */
  appLaunch?: SmartAppLaunch;
}

export const TOKEN_PATH = '/auth/token';

export function createSandboxApp(ctx: SandboxContext, services: SandboxServices): Hono {
  const { tokens, tokenEndpoint, bulk, appLaunch } = services;
  const base = ctx.fhirBasePath;
  const app = new Hono();

  // INF-S-05: discovery must allow any origin. The sandbox allows any origin everywhere (a deviation:
  // real EHRs restrict token and FHIR endpoints to registered origins).
  app.use(
    '*',
    cors({
      origin: '*',
      exposeHeaders: ['Location', 'Content-Location', 'ETag', 'Last-Modified', 'Retry-After', 'X-Progress'],
    }),
  );

  const authorise = (request: Request, path: string[] = []): void => {
    if (!ctx.options.requireAuth) return;
    const token = requireBearer(tokens, request.headers.get('authorization'));
    // SAL-50: a patient-context token reads only its own Patient.
    if (appLaunch && !appLaunch.allows(token, path))
      throw new FhirHttpError(403, operationOutcome('forbidden', 'Outside the launch patient'));
  };

  app.get(`${base}/metadata`, () => fhirResponse(capabilityStatement(ctx, ctx.repo.resourceTypes()), 200));
  app.get(`${base}/.well-known/smart-configuration`, (c) =>
    c.json(
      smartConfiguration({
        tokenUrl: ctx.tokenUrl,
        grantTypes: tokenEndpoint.grantTypes(),
        resourceTypes: [...ADVERTISED_TYPES],
        ...(appLaunch ? { extra: appLaunch.discoveryExtra(), extraCapabilities: appLaunch.capabilities() } : {}),
      }),
    ),
  );

  app.post(TOKEN_PATH, (c) => tokenEndpoint.handle(c.req.raw));
  appLaunch?.mount(app);

  app.get('/bulk/status/:jobId', (c) => {
    authorise(c.req.raw);
    return bulk.status(c.req.param('jobId'));
  });
  app.delete('/bulk/status/:jobId', (c) => {
    authorise(c.req.raw);
    return bulk.cancel(c.req.param('jobId'));
  });
  app.get('/bulk/files/:jobId/:name', (c) => {
    authorise(c.req.raw);
    return bulk.file(c.req.param('jobId'), c.req.param('name'), c.req.header('accept-encoding') ?? null);
  });

  app.all(`${base}/*`, async (c) => {
    const pathname = new URL(c.req.url).pathname;
    const path = pathname
      .slice(base.length)
      .split('/')
      .filter(Boolean)
      .map((segment) => decodeURIComponent(segment));
    authorise(c.req.raw, path);
    const level = exportLevel(path);
    if (level) {
      if (c.req.method !== 'GET')
        throw new FhirHttpError(405, operationOutcome('not-supported', 'Use GET for $export'));
      return bulk.kickOff(c.req.raw, level);
    }
    return handleFhirRequest(ctx, c.req.raw, path.join('/'));
  });

  app.notFound(() => outcomeResponse(FhirHttpError.notFound()));
  app.onError((err) => {
    if (err instanceof FhirHttpError) {
      return outcomeResponse(err, err.status === 401 ? { 'WWW-Authenticate': 'Bearer' } : {});
    }
    if (err instanceof OAuthError) return oauthErrorResponse(err);
    return fhirResponse(operationOutcome('exception', 'Internal server error'), 500);
  });
  return app;
}

/** BULK-01: `[base]/$export`, `[base]/Patient/$export`, `[base]/Group/[id]/$export`. */
function exportLevel(path: string[]): ExportLevel | undefined {
  if (path.length === 1 && path[0] === '$export') return { kind: 'system' };
  if (path.length === 2 && path[0] === 'Patient' && path[1] === '$export') return { kind: 'patient' };
  if (path.length === 3 && path[0] === 'Group' && path[2] === '$export' && path[1])
    return { kind: 'group', id: path[1] };
  return undefined;
}
