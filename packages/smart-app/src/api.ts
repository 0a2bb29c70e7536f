// Calls to the fhirdesk API with the session token as a bearer header. On 401 the caller's
// `onExpired` gets one chance to renew (single-flight), then the session ends (SAL-74).
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class SessionEnded extends Error {}

export interface ApiOptions {
  token: () => string;
  renew: () => Promise<boolean>;
}

export function createApi(options: ApiOptions) {
  let renewing: Promise<boolean> | null = null;
  const renewOnce = () => {
    renewing ??= options.renew().finally(() => {
      renewing = null;
    });
    return renewing;
  };

  async function send(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const once = () =>
      fetch(path, {
        method,
        headers: {
          accept: 'application/json',
          authorization: `Bearer ${options.token()}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    let res = await once();
    if (res.status === 401) {
      if (!(await renewOnce())) throw new SessionEnded('Session ended');
      res = await once();
      if (res.status === 401) throw new SessionEnded('Session ended');
    }
    return res;
  }

  async function call<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const res = await send(method, path, body, headers);
    const json = (await res.json().catch(() => null)) as (T & { detail?: string; title?: string }) | null;
    if (!res.ok) throw new ApiError(res.status, json?.detail ?? json?.title ?? `Request failed (${res.status})`);
    return { body: json as T, etag: res.headers.get('etag') };
  }
  return {
    get: <T>(path: string) => call<T>('GET', path).then((r) => r.body),
    post: <T>(path: string, body: unknown, headers?: Record<string, string>) => call<T>('POST', path, body, headers),
    /** A file (e.g. CSV) fetched with the bearer header, so the token never goes into a download URL. */
    blob: async (path: string, accept: string): Promise<Blob> => {
      const res = await send('GET', path, undefined, { accept });
      if (!res.ok) {
        const problem = (await res.json().catch(() => null)) as { detail?: string } | null;
        throw new ApiError(res.status, problem?.detail ?? `Request failed (${res.status})`);
      }
      return res.blob();
    },
  };
}

export type Api = ReturnType<typeof createApi>;
