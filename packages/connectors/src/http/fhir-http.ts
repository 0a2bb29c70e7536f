// The one HTTP path of a connector: fhir-kit-client for FHIR JSON, plain fetch for token and NDJSON, with
// retries (ERR-01..04), Retry-After (ERR-02), one re-mint on 401 (BS-07), rate and concurrency limits
// (EPIC-07), and no bearer token for any URL outside the source's origin (REST-06, BULK-05).
import type { Bundle } from 'fhir/r4';
import { Client, type FhirResponse, type SearchParams } from 'fhir-kit-client';
import type { AccessTokenProvider } from '../auth/access-token';
import { ConnectorError } from '../errors';
import { silenceFhirKitClientDebug } from './debug-guard';
import { RequestLimiter, realSleep, type Sleep } from './limiter';
import { backoffDelay, parseRetryAfter } from './retry-after';

silenceFhirKitClientDebug();

export interface FhirHttpOptions {
  baseUrl: string;
  tokens: AccessTokenProvider;
  concurrency?: number;
  rateLimit?: number | undefined;
  timeoutMs?: number;
  maxRetries?: number;
  retryBaseMs?: number;
  retryCapMs?: number;
  /** Longest Retry-After honoured; longer waits fail the request so the run can be rescheduled. */
  maxRetryAfterMs?: number;
  sleep?: Sleep;
  signal?: AbortSignal | undefined;
  onRetry?: (info: { reason: string; status?: number | undefined; attempt: number; delayMs: number }) => void;
}

export interface FhirResult<T> {
  body: T;
  status: number;
  headers: Headers;
  url: string;
}

interface Attempt {
  headers: Record<string, string>;
  signal: AbortSignal;
}

/** Path of a URL without its query: safe for messages (queries can carry patient ids). */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return url.split('?')[0] ?? '';
  }
}

const RETRYABLE_ISSUES = new Set(['transient', 'throttled', 'timeout']);

function issueCodes(data: unknown): string[] {
  if (!data || typeof data !== 'object') return [];
  const d = data as { resourceType?: unknown; issue?: unknown };
  if (d.resourceType !== 'OperationOutcome' || !Array.isArray(d.issue)) return [];
  return d.issue
    .map((i) => (i && typeof i === 'object' ? String((i as { code?: unknown }).code ?? '') : ''))
    .filter(Boolean);
}

/** A failed HTTP status as a connector error (ERR-01..03). */
export function statusError(status: number, url: string, headers: Headers | undefined, data: unknown): ConnectorError {
  const codes = issueCodes(data);
  const where = describeUrl(url);
  const detail =
    codes.length > 0
      ? ` (OperationOutcome: ${codes.join(', ')})`
      : typeof data === 'string' && data
        ? ' (non-FHIR body)'
        : '';
  const retryAfterMs = parseRetryAfter(headers?.get('retry-after'));
  const options = { httpStatus: status, retryAfterMs, extensions: { issueCodes: codes } };
  if (status === 0) {
    // A network-level failure surfaced as a status-0 response (connection reset, Response.error()).
    return new ConnectorError('unreachable', `Connection to ${where} failed`, { retryable: true });
  }
  if (status >= 200 && status < 300) {
    return new ConnectorError('invalid-body', `Invalid or truncated JSON body from ${where}`, {
      ...options,
      retryable: true,
    });
  }
  if (status === 429 || status === 503)
    return new ConnectorError('throttled', `HTTP ${status} from ${where}${detail}`, { ...options, retryable: true });
  if (status === 401) return new ConnectorError('unauthorized', `HTTP 401 from ${where}${detail}`, options);
  if (status === 403) return new ConnectorError('forbidden', `HTTP 403 from ${where}${detail}`, options);
  if (status === 404 || status === 410)
    return new ConnectorError('not-found', `HTTP ${status} from ${where}${detail}`, options);
  const retryable = status >= 500 || codes.some((c) => RETRYABLE_ISSUES.has(c));
  return new ConnectorError('http', `HTTP ${status} from ${where}${detail}`, { ...options, retryable });
}

interface FkcError {
  response: { status: number; data: unknown };
  config?: { headers?: unknown; url?: string };
}

function isFkcError(e: unknown): e is FkcError {
  return (
    typeof e === 'object' &&
    e !== null &&
    'response' in e &&
    typeof (e as { response?: { status?: unknown } }).response?.status === 'number'
  );
}

export class FhirHttp {
  readonly baseUrl: string;
  readonly origin: string;
  /** fhir-kit-client never holds the token itself: it is added per request, only for the source's origin. */
  readonly client: Client;
  retries = 0;
  private readonly limiter: RequestLimiter;
  private readonly sleep: Sleep;

  constructor(private readonly options: FhirHttpOptions) {
    silenceFhirKitClientDebug();
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.origin = new URL(this.baseUrl).origin;
    this.client = new Client({ baseUrl: this.baseUrl });
    this.sleep = options.sleep ?? realSleep;
    this.limiter = new RequestLimiter(options.concurrency ?? 2, options.rateLimit, this.sleep);
  }

  get signal(): AbortSignal | undefined {
    return this.options.signal;
  }

  sameOrigin(url: string): boolean {
    try {
      return new URL(url, `${this.baseUrl}/`).origin === this.origin;
    } catch {
      return false;
    }
  }

  absolute(pathOrUrl: string): string {
    return /^https?:\/\//i.test(pathOrUrl) ? pathOrUrl : `${this.baseUrl}/${pathOrUrl.replace(/^\/+/, '')}`;
  }

  /** GET a FHIR JSON resource through fhir-kit-client. */
  async get<T = FhirResponse>(
    pathOrUrl: string,
    params?: SearchParams,
    extraHeaders: Record<string, string> = {},
  ): Promise<FhirResult<T>> {
    const query = params ? new URLSearchParams(flattenParams(params)).toString() : '';
    const url = this.absolute(pathOrUrl) + (query ? (pathOrUrl.includes('?') ? '&' : '?') + query : '');
    return this.withRetry(url, this.sameOrigin(url), async ({ headers, signal }) => {
      const result = await this.client.request(url, { options: { headers: { ...extraHeaders, ...headers }, signal } });
      return this.wrap<T>(result, url);
    });
  }

  /** Next page of a searchset, following `link[next]` exactly as given (REST-01, REST-06). */
  async nextPage(bundle: Bundle): Promise<FhirResult<Bundle> | undefined> {
    const next = bundle.link?.find((l) => l.relation === 'next')?.url;
    if (!next) return undefined;
    const url = this.absolute(next);
    // fhir-kit-client's nextPage sends the client's Authorization header to any URL, so the origin is
    // checked here and the token is only added per request for the source's own origin.
    return this.withRetry(url, this.sameOrigin(url), async ({ headers, signal }) => {
      const fkcBundle = bundle as unknown as Parameters<Client['nextPage']>[0]['bundle'];
      const result = await this.client.nextPage({ bundle: fkcBundle, options: { headers, signal } });
      if (!result) throw new ConnectorError('invalid-body', 'next link vanished');
      return this.wrap<Bundle>(result, url);
    });
  }

  /**
   * A raw request (token endpoint excluded) whose body the caller streams or parses: Bulk kick-off, status,
   * files. `auth` is honoured only for the source's own origin (REST-06, BULK-05). Non-2xx answers throw.
   */
  async raw(
    url: string,
    init: { method?: string; headers?: Record<string, string>; auth: boolean; accept2xx?: (status: number) => boolean },
  ): Promise<Response> {
    const absolute = this.absolute(url);
    const timeoutMs = this.options.timeoutMs ?? 30_000;
    const runSignal = this.options.signal;
    return this.withRetry(absolute, init.auth && this.sameOrigin(absolute), async ({ headers }) => {
      // The timeout covers waiting for the headers and then each pause between body chunks, not the whole
      // body: a large Bulk NDJSON file takes minutes to stream and must not be cut off at timeoutMs.
      const controller = new AbortController();
      const timedOut = () => controller.abort(new DOMException('The operation timed out.', 'TimeoutError'));
      const onRunAbort = () => controller.abort(runSignal?.reason);
      if (runSignal?.aborted) onRunAbort();
      runSignal?.addEventListener('abort', onRunAbort, { once: true });
      const arm = () => {
        const t = setTimeout(timedOut, timeoutMs);
        t.unref();
        return t;
      };
      let timer = arm();
      const done = () => {
        clearTimeout(timer);
        runSignal?.removeEventListener('abort', onRunAbort);
      };
      let response: Response;
      try {
        response = await fetch(absolute, {
          method: init.method ?? 'GET',
          headers: { ...init.headers, ...headers },
          signal: controller.signal,
        });
      } catch (e) {
        done();
        throw e;
      }
      if (response.body) {
        const idle = new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, out) {
            clearTimeout(timer);
            timer = arm();
            out.enqueue(chunk);
          },
          flush: done,
        });
        response = new Response(response.body.pipeThrough(idle), {
          status: response.status,
          statusText: response.statusText,
          headers: response.headers,
        });
      } else {
        done();
      }
      if (!response.ok) {
        const text = await response.text().catch(() => '');
        let data: unknown = text;
        try {
          data = JSON.parse(text);
        } catch {
          // HTML or text from a gateway (ERR-01).
        }
        throw statusError(response.status, absolute, response.headers, data);
      }
      return response;
    });
  }

  private wrap<T>(result: FhirResponse, url: string): FhirResult<T> {
    const { response } = Client.httpFor(result);
    return {
      body: result as unknown as T,
      status: response?.status ?? 200,
      headers: response?.headers ?? new Headers(),
      url,
    };
  }

  private async withRetry<T>(url: string, auth: boolean, attempt: (a: Attempt) => Promise<T>): Promise<T> {
    const maxRetries = this.options.maxRetries ?? 5;
    let reminted = false;
    for (let n = 1; ; n++) {
      const runSignal = this.options.signal;
      if (runSignal?.aborted) throw new ConnectorError('aborted', 'Sync aborted');
      const timeout = AbortSignal.timeout(this.options.timeoutMs ?? 30_000);
      const signal = runSignal ? AbortSignal.any([runSignal, timeout]) : timeout;
      let error: ConnectorError;
      try {
        const headers: Record<string, string> = {};
        if (auth) {
          const token = await this.options.tokens.getToken(runSignal);
          if (token) headers.authorization = `Bearer ${token}`;
        }
        return await this.limiter.run(() => attempt({ headers, signal }), runSignal);
      } catch (e) {
        error = this.classify(e, url, runSignal);
      }
      if (error.reason === 'aborted') throw error;
      if (error.reason === 'unauthorized' && auth && !reminted) {
        // BS-07 / BULK-09: the token may have expired server-side; mint a new one once.
        reminted = true;
        this.options.tokens.invalidate();
        n--;
        continue;
      }
      if (!error.retryable || n > maxRetries) {
        if (error.retryable) {
          throw new ConnectorError(error.reason, `${error.message}; gave up after ${maxRetries} retries`, {
            ...(error.httpStatus !== undefined ? { httpStatus: error.httpStatus } : {}),
            extensions: error.extensions,
          });
        }
        throw error;
      }
      const cap = this.options.maxRetryAfterMs ?? 120_000;
      if (error.retryAfterMs !== undefined && error.retryAfterMs > cap) throw error;
      const delayMs =
        error.retryAfterMs ?? backoffDelay(n, this.options.retryBaseMs ?? 500, this.options.retryCapMs ?? 30_000);
      this.retries++;
      this.options.onRetry?.({ reason: error.reason, status: error.httpStatus, attempt: n, delayMs });
      try {
        await this.sleep(delayMs, runSignal);
      } catch {
        throw new ConnectorError('aborted', 'Sync aborted');
      }
    }
  }

  private classify(e: unknown, url: string, runSignal: AbortSignal | undefined): ConnectorError {
    if (runSignal?.aborted) return new ConnectorError('aborted', 'Sync aborted');
    if (e instanceof ConnectorError) return e;
    if (isFkcError(e)) {
      const headers = e.config?.headers instanceof Headers ? e.config.headers : undefined;
      return statusError(e.response.status, url, headers, e.response.data);
    }
    const name = e instanceof Error ? e.name : '';
    if (name === 'TimeoutError' || name === 'AbortError') {
      return new ConnectorError('timeout', `Request to ${describeUrl(url)} timed out`, { retryable: true });
    }
    if (e instanceof SyntaxError) {
      return new ConnectorError('invalid-body', `Invalid JSON from ${describeUrl(url)}`, { retryable: true });
    }
    // fetch failures: refused, reset, DNS, body cut mid-stream.
    return new ConnectorError('unreachable', `Could not reach ${describeUrl(url)}`, { retryable: true });
  }
}

function flattenParams(params: SearchParams): [string, string][] {
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(params)) {
    for (const item of Array.isArray(v) ? v : [v]) out.push([k, String(item)]);
  }
  return out;
}
