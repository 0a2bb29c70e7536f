import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OperationOutcome } from 'fhir/r4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestBackendClient,
  fetchBackendToken,
  type SandboxEhr,
  signAssertion,
  startSandboxEhr,
  type TestBackendClient,
  tokenRequestBody,
} from './index';

let ehr: SandboxEhr;
let rsClient: TestBackendClient;
let esClient: TestBackendClient;
let jwksServer: Server;

beforeAll(async () => {
  ehr = await startSandboxEhr({ requireAuth: true });
  rsClient = await createTestBackendClient('RS384');
  esClient = await createTestBackendClient('ES384');
  ehr.registerBackendClient({
    clientId: rsClient.clientId,
    jwks: rsClient.jwks,
    scopes: ['system/*.rs', 'system/Patient.read'],
  });
  // BS-01: the ES384 client publishes its keys at a JWKS URL instead of registering them inline.
  jwksServer = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'max-age=300' });
    res.end(JSON.stringify(esClient.jwks));
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  const { port } = jwksServer.address() as AddressInfo;
  ehr.registerBackendClient({ clientId: esClient.clientId, jwksUrl: `http://127.0.0.1:${port}/jwks.json` });
});

afterAll(async () => {
  await ehr.close();
  await new Promise((resolve) => jwksServer.close(resolve));
});

async function requestToken(body: URLSearchParams) {
  const response = await fetch(ehr.tokenUrl, { method: 'POST', body });
  return { response, body: (await response.json()) as Record<string, unknown> };
}

describe('sandbox EHR SMART Backend Services token endpoint', () => {
  it('issues a short-lived bearer token for a valid RS384 assertion, uncached (INF-S-02, BS-07)', async () => {
    const { response, body } = await requestToken(
      tokenRequestBody(await rsClient.assertion(ehr.tokenUrl), 'system/Patient.rs'),
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('pragma')).toBe('no-cache');
    expect(body).toEqual({
      access_token: expect.any(String),
      token_type: 'bearer',
      expires_in: 300,
      scope: 'system/Patient.rs',
    });
    expect(body.refresh_token).toBeUndefined();
    const read = await fetch(`${ehr.fhirBaseUrl}/Patient/pat1`, {
      headers: { Authorization: `Bearer ${body.access_token}` },
    });
    expect(read.status).toBe(200);
  });

  it("verifies an ES384 assertion against keys fetched from the client's JWKS URL", async () => {
    const token = await fetchBackendToken(ehr.tokenUrl, esClient, 'system/ExplanationOfBenefit.rs');
    const search = await fetch(`${ehr.fhirBaseUrl}/ExplanationOfBenefit?_count=1`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(search.status).toBe(200);
  });

  const now = () => Math.floor(Date.now() / 1000);
  const rejections: [string, () => Promise<URLSearchParams>][] = [
    ['an expired assertion', async () => tokenRequestBody(await rsClient.assertion(ehr.tokenUrl, { exp: now() - 60 }))],
    [
      'an assertion for another audience',
      async () => tokenRequestBody(await rsClient.assertion(`${ehr.tokenUrl}/other`)),
    ],
    [
      'an assertion whose exp is more than five minutes ahead',
      async () => tokenRequestBody(await rsClient.assertion(ehr.tokenUrl, { exp: now() + 600 })),
    ],
    [
      'an assertion from an unknown client',
      async () => tokenRequestBody(await (await createTestBackendClient()).assertion(ehr.tokenUrl)),
    ],
    [
      'an assertion signed by another key under the registered kid',
      async () => {
        const impostor = await createTestBackendClient('RS384');
        return tokenRequestBody(
          await signAssertion(impostor.privateKey, 'RS384', rsClient.kid, rsClient.clientId, ehr.tokenUrl),
        );
      },
    ],
    [
      'an assertion whose sub is not the client id',
      async () => tokenRequestBody(await rsClient.assertion(ehr.tokenUrl, { sub: 'someone-else' })),
    ],
    [
      'an assertion without jti',
      async () => tokenRequestBody(await rsClient.assertion(ehr.tokenUrl, { jti: undefined })),
    ],
  ];
  for (const [name, body] of rejections) {
    it(`rejects ${name} with 401 invalid_client (INF-S-03, INF-S-04)`, async () => {
      const { response, body: error } = await requestToken(await body());
      expect(response.status).toBe(401);
      expect(error.error).toBe('invalid_client');
      expect(response.headers.get('cache-control')).toBe('no-store');
    });
  }

  it('rejects a replayed jti within the assertion lifetime (INF-S-04)', async () => {
    const assertion = await rsClient.assertion(ehr.tokenUrl);
    expect((await requestToken(tokenRequestBody(assertion))).response.status).toBe(200);
    const replay = await requestToken(tokenRequestBody(assertion));
    expect(replay.response.status).toBe(401);
    expect(replay.body.error).toBe('invalid_client');
  });

  it('rejects an unsupported grant_type, a wrong assertion type and an ungrantable scope with 400', async () => {
    const assertion = await rsClient.assertion(ehr.tokenUrl);
    const wrongGrant = tokenRequestBody(assertion);
    wrongGrant.set('grant_type', 'password');
    expect((await requestToken(wrongGrant)).body.error).toBe('unsupported_grant_type');

    const wrongType = tokenRequestBody(await rsClient.assertion(ehr.tokenUrl));
    wrongType.set('client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer');
    const wrongTypeResult = await requestToken(wrongType);
    expect(wrongTypeResult.response.status).toBe(400);
    expect(wrongTypeResult.body.error).toBe('invalid_request');

    const badScope = await requestToken(tokenRequestBody(await rsClient.assertion(ehr.tokenUrl), 'system/Claim.cud'));
    expect(badScope.response.status).toBe(400);
    expect(badScope.body.error).toBe('invalid_scope');
  });

  it('answers 401 OperationOutcome on FHIR endpoints without a valid token when auth is required', async () => {
    const attempts: Record<string, string>[] = [{}, { Authorization: 'Bearer not-a-token' }];
    for (const headers of attempts) {
      const response = await fetch(`${ehr.fhirBaseUrl}/Patient`, { headers });
      expect(response.status).toBe(401);
      expect(((await response.json()) as OperationOutcome).resourceType).toBe('OperationOutcome');
    }
  });

  it('rejects a token once it has expired', async () => {
    const shortLived = await startSandboxEhr({ requireAuth: true, seed: false, tokenLifetimeSeconds: 1 });
    try {
      shortLived.registerBackendClient({ clientId: rsClient.clientId, jwks: rsClient.jwks });
      const token = await fetchBackendToken(shortLived.tokenUrl, rsClient);
      const headers = { Authorization: `Bearer ${token}` };
      expect((await fetch(`${shortLived.fhirBaseUrl}/Patient`, { headers })).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect((await fetch(`${shortLived.fhirBaseUrl}/Patient`, { headers })).status).toBe(401);
    } finally {
      await shortLived.close();
    }
  });

  it('keeps metadata and SMART discovery open, with absolute URLs (INF-S-01)', async () => {
    expect((await fetch(`${ehr.fhirBaseUrl}/metadata`)).status).toBe(200);
    const response = await fetch(`${ehr.fhirBaseUrl}/.well-known/smart-configuration`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/json');
    const config = (await response.json()) as Record<string, unknown>;
    expect(config).toMatchObject({
      token_endpoint: ehr.tokenUrl,
      token_endpoint_auth_methods_supported: ['private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: ['RS384', 'ES384'],
      grant_types_supported: expect.arrayContaining(['client_credentials']),
      capabilities: expect.arrayContaining(['client-confidential-asymmetric']),
      scopes_supported: expect.arrayContaining(['system/*.rs']),
    });
    expect(new URL(config.token_endpoint as string).origin).toBe(ehr.origin);
  });
});
