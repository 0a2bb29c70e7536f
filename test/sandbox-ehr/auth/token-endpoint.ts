// POST [tokenUrl]: dispatches on grant_type. Backend Services registers `client_credentials`; the
// SMART app-launch module adds `authorization_code` (and refresh) to the same table.
import { NO_STORE_HEADERS, OAuthError, oauthErrorResponse } from './oauth-error';
import type { TokenStore } from './token-store';

export interface TokenGrant {
  clientId: string;
  scope: string;
  /** Extra response members, e.g. `patient`, `id_token` for app launch. */
  extra?: Record<string, unknown>;
}

export type GrantHandler = (form: URLSearchParams) => Promise<TokenGrant>;

export class TokenEndpoint {
  private readonly grants = new Map<string, GrantHandler>();

  constructor(
    private readonly tokens: TokenStore,
    private readonly lifetimeSeconds: () => number,
  ) {}

  addGrantType(grantType: string, handler: GrantHandler): void {
    this.grants.set(grantType, handler);
  }

  grantTypes(): string[] {
    return [...this.grants.keys()];
  }

  async handle(request: Request): Promise<Response> {
    try {
      const contentType = request.headers.get('content-type') ?? '';
      if (!contentType.startsWith('application/x-www-form-urlencoded')) {
        throw new OAuthError(400, 'invalid_request', 'Token requests are application/x-www-form-urlencoded');
      }
      const form = new URLSearchParams(await request.text());
      const grantType = form.get('grant_type');
      if (!grantType) throw new OAuthError(400, 'invalid_request', 'grant_type is required');
      const handler = this.grants.get(grantType);
      if (!handler) throw new OAuthError(400, 'unsupported_grant_type', 'grant_type is not supported');
      const grant = await handler(form);
      const lifetime = this.lifetimeSeconds();
      const { accessToken } = this.tokens.issue(grant.clientId, grant.scope, lifetime);
      // INF-S-02 / BS-07: bearer token, numeric expires_in (300 s by default), granted scope, no refresh token.
      const body = {
        access_token: accessToken,
        token_type: 'bearer',
        expires_in: lifetime,
        scope: grant.scope,
        ...grant.extra,
      };
      return new Response(JSON.stringify(body), {
        status: 200,
        headers: { 'Content-Type': 'application/json', ...NO_STORE_HEADERS },
      });
    } catch (err) {
      if (err instanceof OAuthError) return oauthErrorResponse(err);
      throw err;
    }
  }
}
