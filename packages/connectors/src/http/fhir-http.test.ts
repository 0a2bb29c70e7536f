import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noAuth } from '../auth/access-token';
import { FhirHttp } from './fhir-http';

let server: Server;
let base: string;
const seen: { url: string; headers: IncomingHttpHeaders }[] = [];
let inFlight = 0;
let maxInFlight = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url?.startsWith('/r4/tenant/slow-file')) {
      // NDJSON trickling in: one line every 60 ms for ~600 ms, or a stall after the first line.
      res.writeHead(200, { 'content-type': 'application/fhir+ndjson' });
      const stall = req.url.includes('stall');
      let n = 0;
      const tick = setInterval(() => {
        res.write(`{"resourceType":"Patient","id":"p${n}"}\n`);
        n++;
        if (stall || n === 10) {
          clearInterval(tick);
          if (!stall) res.end();
        }
      }, 60);
      return;
    }
    seen.push({ url: req.url ?? '', headers: req.headers });
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    // Long enough that requests started together overlap even on a loaded machine.
    setTimeout(() => {
      inFlight--;
      res.writeHead(200, { 'content-type': 'application/fhir+json' });
      res.end(JSON.stringify({ resourceType: 'Bundle', type: 'searchset', entry: [] }));
    }, 150);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/r4/tenant`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe('FhirHttp', () => {
  it('passes Oracle-style leading-hyphen parameters through unchanged (ORA-05)', async () => {
    const http = new FhirHttp({ baseUrl: base, tokens: noAuth });
    await http.get('Account', { '-guarantor': 'Patient/12', type: 'financial-account', _count: 10 });
    expect(seen.at(-1)?.url).toBe('/r4/tenant/Account?-guarantor=Patient%2F12&type=financial-account&_count=10');
    expect(seen.at(-1)?.headers.authorization).toBeUndefined();
  });

  it('adds the bearer token only for the source origin (REST-06)', async () => {
    const http = new FhirHttp({ baseUrl: base, tokens: { getToken: async () => 'tok', invalidate: () => {} } });
    expect(http.sameOrigin(`${base}/Claim?_offset=50`)).toBe(true);
    expect(http.sameOrigin('https://files.example/x.ndjson')).toBe(false);
    await http.get('Claim');
    expect(seen.at(-1)?.headers.authorization).toBe('Bearer tok');
  });

  it('never runs more requests at once than the concurrency limit', async () => {
    const limited = new FhirHttp({ baseUrl: base, tokens: noAuth, concurrency: 1 });
    maxInFlight = 0;
    await Promise.all([limited.get('Patient'), limited.get('Coverage'), limited.get('Claim')]);
    expect(maxInFlight).toBe(1);
    const wider = new FhirHttp({ baseUrl: base, tokens: noAuth, concurrency: 3 });
    maxInFlight = 0;
    await Promise.all([wider.get('Patient'), wider.get('Coverage'), wider.get('Claim')]);
    expect(maxInFlight).toBe(3);
  });

  it('times out waiting for headers or between chunks, never a long body that keeps flowing (BULK-06)', async () => {
    const http = new FhirHttp({ baseUrl: base, tokens: noAuth, timeoutMs: 250, maxRetries: 0 });
    const flowing = await http.raw(`${base}/slow-file`, { auth: false });
    expect((await flowing.text()).trim().split('\n')).toHaveLength(10);
    const stalled = await http.raw(`${base}/slow-file-stall`, { auth: false });
    await expect(stalled.text()).rejects.toThrow();
  });

  it('spaces request starts to the per-source rate limit (EPIC-07)', async () => {
    const waits: number[] = [];
    const http = new FhirHttp({
      baseUrl: base,
      tokens: noAuth,
      concurrency: 4,
      rateLimit: 10,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    await Promise.all([http.get('Patient'), http.get('Coverage'), http.get('Claim')]);
    // 10 req/s: the second start waits ~100 ms, the third ~200 ms.
    expect(waits).toHaveLength(2);
    expect(Math.max(...waits)).toBeGreaterThan(150);
  });
});
