// msw handlers that inject the outside world's failures on top of the real sandbox EHR (STYLE: msw only
// for faults). Each is named for the failure it injects; unmatched requests pass through to the sandbox.
import { bypass, delay, type HttpHandler, HttpResponse, http } from 'msw';

type Match = (url: URL) => boolean;

export const searchOf =
  (type: string): Match =>
  (url) =>
    url.pathname.endsWith(`/${type}`);

/** The first `times` matching requests get 429 with `Retry-After: <seconds>` (ERR-02). */
export function tooManyRequestsBurst(origin: string, match: Match, times: number, retryAfter = '1'): HttpHandler {
  let left = times;
  return http.get(`${origin}/*`, ({ request }) => {
    if (left <= 0 || !match(new URL(request.url))) return undefined;
    left--;
    return new HttpResponse('<html><body>Slow down</body></html>', {
      status: 429,
      headers: { 'Retry-After': retryAfter, 'Content-Type': 'text/html' },
    });
  });
}

/** One 503 whose Retry-After is an HTTP-date (ERR-02). */
export function serviceUnavailableOnceWithDate(origin: string, match: Match): HttpHandler {
  let left = 1;
  return http.get(`${origin}/*`, ({ request }) => {
    if (left <= 0 || !match(new URL(request.url))) return undefined;
    left--;
    return HttpResponse.json(
      { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'transient' }] },
      { status: 503, headers: { 'Retry-After': new Date(Date.now() + 5000).toUTCString() } },
    );
  });
}

/** One request hangs longer than the connector's timeout. */
export function hangsOnce(origin: string, match: Match, ms: number): HttpHandler {
  let left = 1;
  return http.get(`${origin}/*`, async ({ request }) => {
    if (left <= 0 || !match(new URL(request.url))) return undefined;
    left--;
    await delay(ms);
    return HttpResponse.json({ resourceType: 'Bundle', type: 'searchset' });
  });
}

/** One page arrives cut in half (a truncated JSON body with status 200). */
export function pageCutInHalfOnce(origin: string, match: Match): HttpHandler {
  let left = 1;
  return http.get(`${origin}/*`, async ({ request }) => {
    if (left <= 0 || !match(new URL(request.url))) return undefined;
    left--;
    const text = await (await fetch(bypass(request))).text();
    return new HttpResponse(text.slice(0, Math.floor(text.length / 2)), {
      status: 200,
      headers: { 'Content-Type': 'application/fhir+json' },
    });
  });
}

/** One answer that is not JSON at all. */
export function invalidJsonOnce(origin: string, match: Match): HttpHandler {
  let left = 1;
  return http.get(`${origin}/*`, ({ request }) => {
    if (left <= 0 || !match(new URL(request.url))) return undefined;
    left--;
    return new HttpResponse('{"resourceType": "Bundle", "entry": [ oops', {
      status: 200,
      headers: { 'Content-Type': 'application/fhir+json' },
    });
  });
}

/** Rewrites matching pages with `rewrite(bundle, url)`; the page otherwise comes from the sandbox. */
export function rewritePages(
  origin: string,
  match: Match,
  rewrite: (bundle: { link?: { relation: string; url: string }[]; entry?: unknown[] }, url: URL) => void,
): HttpHandler {
  return http.get(`${origin}/*`, async ({ request }) => {
    const url = new URL(request.url);
    if (!match(url)) return undefined;
    const bundle = (await (await fetch(bypass(request))).json()) as Parameters<typeof rewrite>[0];
    rewrite(bundle, url);
    return HttpResponse.json(bundle, { headers: { 'Content-Type': 'application/fhir+json' } });
  });
}

/** Every third request to the origin fails, cycling through 503, 500, a reset connection and a cut body. */
export function everyThirdRequestFails(origin: string): HttpHandler {
  let n = 0;
  let kind = 0;
  return http.all(`${origin}/*`, async ({ request }) => {
    n++;
    if (n % 3 !== 0) return undefined;
    switch (kind++ % 4) {
      case 0:
        return new HttpResponse('busy', { status: 503, headers: { 'Retry-After': '0' } });
      case 1:
        return new HttpResponse('<html>Internal error</html>', { status: 500 });
      case 2:
        return HttpResponse.error();
      default: {
        const text = await (await fetch(bypass(request))).text();
        return new HttpResponse(text.slice(0, Math.floor(text.length / 3)), { status: 200 });
      }
    }
  });
}
