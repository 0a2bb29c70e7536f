// RFC 6749 §5.2 token errors (BS-08): a stable `error` code and a safe description, never the assertion.
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope';

export class OAuthError extends Error {
  constructor(
    readonly status: 400 | 401,
    readonly error: OAuthErrorCode,
    readonly description: string,
  ) {
    super(description);
    this.name = 'OAuthError';
  }
}

/** INF-S-02: token responses (success and error) must not be cached. */
export const NO_STORE_HEADERS = { 'Cache-Control': 'no-store', Pragma: 'no-cache' } as const;

export function oauthErrorResponse(err: OAuthError): Response {
  const headers: Record<string, string> = { 'Content-Type': 'application/json', ...NO_STORE_HEADERS };
  // RFC 6749 §5.2: a 401 for client authentication names the scheme the client should use.
  if (err.status === 401) headers['WWW-Authenticate'] = 'Bearer error="invalid_client"';
  return new Response(JSON.stringify({ error: err.error, error_description: err.description }), {
    status: err.status,
    headers,
  });
}
