import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectorError } from '../errors';
import { createAccessTokenProvider } from './access-token';

let server: Server;
let tokenUrl: string;
const requests: { headers: IncomingHttpHeaders; body: string }[] = [];
let failNext: { status: number; body: string } | undefined;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      requests.push({ headers: req.headers, body });
      if (failNext) {
        res.writeHead(failNext.status, { 'content-type': 'application/json' });
        res.end(failNext.body);
        failNext = undefined;
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: `token-${requests.length}`, token_type: 'bearer', expires_in: 300 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  tokenUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe('client-secret access tokens', () => {
  it('authenticates with HTTP Basic, caches the token until shortly before expiry, and re-mints after invalidate (BS-07)', async () => {
    let now = 1_000_000;
    const provider = createAccessTokenProvider({
      auth: { mode: 'client-secret', clientId: 'desk', tokenUrl },
      secrets: { clientSecret: 's3cret' },
      scope: 'system/Coverage.rs',
      now: () => now,
    });
    const before = requests.length;
    const [a, b] = await Promise.all([provider.getToken(), provider.getToken()]);
    expect(a).toBe(b);
    expect(requests.length - before).toBe(1);
    const sent = requests.at(-1)!;
    expect(sent.headers.authorization).toBe(`Basic ${Buffer.from('desk:s3cret').toString('base64')}`);
    expect(new URLSearchParams(sent.body).get('grant_type')).toBe('client_credentials');
    expect(sent.body).not.toContain('s3cret');

    now += 200_000; // well within expires_in
    expect(await provider.getToken()).toBe(a);
    now += 80_000; // inside the refresh margin
    const c = await provider.getToken();
    expect(c).not.toBe(a);
    provider.invalidate();
    expect(await provider.getToken()).not.toBe(c);
    expect(requests.length - before).toBe(3);
  });

  it('turns an RFC 6749 error into a ConnectorError with error and error_description only (BS-08)', async () => {
    failNext = {
      status: 400,
      body: JSON.stringify({ error: 'invalid_scope', error_description: 'scope not allowed' }),
    };
    const provider = createAccessTokenProvider({
      auth: { mode: 'client-secret', clientId: 'desk', tokenUrl },
      secrets: { clientSecret: 'another-secret' },
      scope: 'system/Claim.rs',
    });
    const error = (await provider.getToken().catch((e: unknown) => e)) as ConnectorError;
    expect(error).toBeInstanceOf(ConnectorError);
    expect(error.message).toBe('Token request failed (HTTP 400): invalid_scope: scope not allowed');
    expect(JSON.stringify(error.extensions)).not.toContain('another-secret');
  });

  it('says what is missing when a secret or token URL is not configured', () => {
    expect(() =>
      createAccessTokenProvider({
        auth: { mode: 'client-secret', clientId: 'desk', tokenUrl },
        secrets: {},
        scope: '',
      }),
    ).toThrow('none is stored');
    expect(() =>
      createAccessTokenProvider({
        auth: { mode: 'client-secret', clientId: 'desk' },
        secrets: { clientSecret: 'x' },
        scope: '',
      }),
    ).toThrow('No token URL');
  });
});
