// The sandbox's SMART App Launch authorization server, over HTTP (INF-S-01..03, INF-S-06, SAL-22, SAL-23, SAL-50).
import { createHash, randomBytes } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SandboxEhr, startSandboxEhr } from '../index';

const CLIENT = 'test-app';
const REDIRECT = 'http://127.0.0.1:1/app/index.html';
let ehr: SandboxEhr;
let patientId: string;

beforeAll(async () => {
  ehr = await startSandboxEhr({ requireAuth: true });
  ehr.registerAppClient({
    clientId: CLIENT,
    redirectUris: [REDIRECT],
    launchUrl: 'http://127.0.0.1:1/app/launch.html',
  });
  patientId = (await ehr.searchAll('Patient')).find((p) => p.meta?.tag?.some((t) => t.code?.startsWith('synthea')))!
    .id!;
});
afterAll(async () => ehr?.close());

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function authorizeUrl(overrides: Record<string, string | null> = {}, challenge = pkce().challenge): string {
  const params: Record<string, string | null> = {
    response_type: 'code',
    client_id: CLIENT,
    redirect_uri: REDIRECT,
    scope: 'launch/patient openid fhirUser patient/Patient.rs offline_access',
    state: 'state-123',
    aud: ehr.fhirBaseUrl,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...overrides,
  };
  const url = new URL(`${ehr.origin}/auth/authorize`);
  for (const [k, v] of Object.entries(params)) if (v !== null) url.searchParams.set(k, v);
  return url.toString();
}

/** Authorize, pick the first practitioner and the patient, and return the redirect back to the app. */
async function approve(url: string): Promise<URL> {
  const page = await (await fetch(url)).text();
  const request = /name="request" value="([^"]+)"/.exec(page)![1]!;
  const practitioner = /<option value="([^"]+)" selected/.exec(page)![1]!;
  const res = await fetch(`${ehr.origin}/auth/approve`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ request, practitioner, patient: patientId }),
    redirect: 'manual',
  });
  expect(res.status).toBe(302);
  return new URL(res.headers.get('location')!);
}

const token = (form: Record<string, string>) =>
  fetch(ehr.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });

describe('SMART app launch in the sandbox EHR', () => {
  it('advertises app launch in smart-configuration with absolute URLs, S256 only and the OIDC issuer (INF-S-01)', async () => {
    const config = (await (await fetch(`${ehr.fhirBaseUrl}/.well-known/smart-configuration`)).json()) as Record<
      string,
      unknown
    >;
    expect(config.authorization_endpoint).toBe(`${ehr.origin}/auth/authorize`);
    expect(config.issuer).toBe(ehr.fhirBaseUrl);
    expect(config.code_challenge_methods_supported).toEqual(['S256']);
    expect(config.grant_types_supported).toEqual(expect.arrayContaining(['authorization_code', 'client_credentials']));
    expect(config.capabilities).toEqual(
      expect.arrayContaining([
        'launch-ehr',
        'launch-standalone',
        'client-public',
        'sso-openid-connect',
        'permission-offline',
      ]),
    );
    const oidc = (await (await fetch(`${ehr.fhirBaseUrl}/.well-known/openid-configuration`)).json()) as Record<
      string,
      string
    >;
    expect(oidc.issuer).toBe(ehr.fhirBaseUrl);
    expect(oidc.jwks_uri).toBe(config.jwks_uri);
  });

  it('issues no code for a wrong aud and shows an error page instead (SAL-22, INF-S-03)', async () => {
    const res = await fetch(authorizeUrl({ aud: 'http://127.0.0.1:1/other' }), { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(await res.text()).toContain('aud');
  });

  it('refuses an unregistered redirect_uri without redirecting, and a missing PKCE challenge with an error redirect', async () => {
    const bad = await fetch(authorizeUrl({ redirect_uri: 'http://127.0.0.1:1/evil' }), { redirect: 'manual' });
    expect(bad.status).toBe(400);
    const noPkce = await fetch(authorizeUrl({ code_challenge_method: null }), { redirect: 'manual' });
    const location = new URL(noPkce.headers.get('location')!);
    expect(location.searchParams.get('error')).toBe('invalid_request');
    expect(location.searchParams.get('state')).toBe('state-123');
    expect(location.searchParams.has('code')).toBe(false);
  });

  it('exchanges a code once with the PKCE verifier for a no-store token, patient context, a signed id_token and a refresh token', async () => {
    const { challenge } = pkce();
    const back = await approve(authorizeUrl({}, challenge));
    expect(back.searchParams.get('state')).toBe('state-123');
    const code = back.searchParams.get('code')!;
    const wrong = await token({
      grant_type: 'authorization_code',
      code,
      client_id: CLIENT,
      redirect_uri: REDIRECT,
      code_verifier: 'x'.repeat(43),
    });
    expect(wrong.status).toBe(400);
    // The failed attempt consumed the code (single use), so start again.
    const again = pkce();
    const code2 = (await approve(authorizeUrl({}, again.challenge))).searchParams.get('code')!;
    const ok = await token({
      grant_type: 'authorization_code',
      code: code2,
      client_id: CLIENT,
      redirect_uri: REDIRECT,
      code_verifier: again.verifier,
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('cache-control')).toBe('no-store');
    const body = (await ok.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ token_type: 'bearer', patient: patientId, need_patient_banner: true });
    expect(typeof body.expires_in).toBe('number');
    expect(body.refresh_token).toEqual(expect.any(String));
    const jwks = createRemoteJWKSet(new URL(`${ehr.origin}/auth/jwks`));
    const { payload } = await jwtVerify(body.id_token as string, jwks, { issuer: ehr.fhirBaseUrl, audience: CLIENT });
    expect(payload.fhirUser).toMatch(/^Practitioner\//);
    const replay = await token({
      grant_type: 'authorization_code',
      code: code2,
      client_id: CLIENT,
      redirect_uri: REDIRECT,
      code_verifier: again.verifier,
    });
    expect(replay.status).toBe(400);

    // SAL-50: the access token reads its own patient, not another one.
    const auth = { authorization: `Bearer ${body.access_token as string}` };
    expect((await fetch(`${ehr.fhirBaseUrl}/Patient/${patientId}`, { headers: auth })).status).toBe(200);
    const other = (await ehr.searchAll('Patient')).find((p) => p.id !== patientId)!.id!;
    expect((await fetch(`${ehr.fhirBaseUrl}/Patient/${other}`, { headers: auth })).status).toBe(403);

    // INF-S-06 / SAL-73: refresh rotates, a used refresh token fails, a wider scope is refused.
    const refreshed = await token({
      grant_type: 'refresh_token',
      refresh_token: body.refresh_token as string,
      client_id: CLIENT,
    });
    expect(refreshed.status).toBe(200);
    const next = (await refreshed.json()) as Record<string, unknown>;
    expect(next.scope).toBe(body.scope);
    expect(
      (await token({ grant_type: 'refresh_token', refresh_token: body.refresh_token as string, client_id: CLIENT }))
        .status,
    ).toBe(400);
    const wider = await token({
      grant_type: 'refresh_token',
      refresh_token: next.refresh_token as string,
      client_id: CLIENT,
      scope: 'patient/*.rs',
    });
    expect(wider.status).toBe(400);
  });

  it('grants fewer scopes when configured, and no refresh token without offline_access', async () => {
    ehr.appLaunch.grantScopes = (requested) => requested.filter((s) => s !== 'offline_access');
    try {
      const { verifier, challenge } = pkce();
      const code = (await approve(authorizeUrl({}, challenge))).searchParams.get('code')!;
      const body = (await (
        await token({
          grant_type: 'authorization_code',
          code,
          client_id: CLIENT,
          redirect_uri: REDIRECT,
          code_verifier: verifier,
        })
      ).json()) as Record<string, unknown>;
      expect(String(body.scope).split(' ')).not.toContain('offline_access');
      expect(body.refresh_token).toBeUndefined();
    } finally {
      ehr.appLaunch.grantScopes = (requested) => requested;
    }
  });

  it('launches the registered app from the EHR page in an iframe with iss and a launch token', async () => {
    const html = await (await fetch(`${ehr.ehrUrl}?patient=${patientId}`)).text();
    const src = /<iframe[^>]+src="([^"]+)"/.exec(html)![1]!.replace(/&amp;/g, '&');
    const url = new URL(src);
    expect(url.searchParams.get('iss')).toBe(ehr.fhirBaseUrl);
    expect(url.searchParams.get('launch')).toBeTruthy();
  });
});
