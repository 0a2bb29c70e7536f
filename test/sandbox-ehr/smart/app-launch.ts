// SMART App Launch 2.x authorization server of the sandbox EHR (INF-S-01..06): discovery, JWKS, /authorize
// with a practitioner login and a patient picker, the `authorization_code` and `refresh_token` grants
// (PKCE S256, single-use short-lived codes, RS256 id_token), and an EHR page that launches the app in an
// iframe. Everything lives in memory; this is a test double, not a product.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { parseSearchRequest } from '@medplum/core';
import type { Patient, Practitioner } from 'fhir/r4';
import type { Hono } from 'hono';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { OAuthError } from '../auth/oauth-error';
import type { TokenEndpoint } from '../auth/token-endpoint';
import { type IssuedToken, TokenStore } from '../auth/token-store';
import type { SandboxContext } from '../context';
import { escapeHtml, page } from './html';

export const AUTHORIZE_PATH = '/auth/authorize';
export const JWKS_PATH = '/auth/jwks';
export const EHR_PATH = '/ehr';
const APPROVE_PATH = '/auth/approve';

export interface AppClientRegistration {
  clientId: string;
  redirectUris: string[];
  /** Where the EHR page points its launch iframe (`?iss=…&launch=…`). */
  launchUrl?: string;
}

/** Knobs tests turn at run time (launch failure cases, reduced grants). */
export interface AppLaunchSettings {
  /** Scopes actually granted, from the requested ones. Default: all requested. */
  grantScopes: (requested: string[]) => string[];
  /** `fhirUser` as an absolute URL (Epic style, SAL-62) instead of `Practitioner/<id>`. */
  absoluteFhirUser: boolean;
  /** id_token lifetime; a negative value mints an already-expired token. Default 300. */
  idTokenLifetimeSeconds: number;
  /** Break the id_token signature (the launch must be refused). */
  tamperIdTokenSignature: boolean;
  /** `need_patient_banner` in the token response. Default true. */
  needPatientBanner: boolean;
  /** Authorization code lifetime. Default 60 s. */
  codeLifetimeSeconds: number;
}

interface AuthorizeRequest {
  clientId: string;
  redirectUri: string;
  scope: string[];
  state: string;
  codeChallenge: string;
  /** From the EHR launch token, or picked on the standalone patient page. */
  patient?: string;
}

interface IssuedCode {
  request: AuthorizeRequest;
  practitioner: string;
  patient: string | undefined;
  scope: string[];
  expiresAt: number;
}

interface RefreshGrant {
  clientId: string;
  practitioner: string;
  patient: string | undefined;
  scope: string[];
}

interface LaunchContext {
  patient?: string;
}

/** Tokens carrying their launch patient, so patient-scoped reads can be confined (SAL-50). */
export interface ContextualToken extends IssuedToken {
  patient?: string;
}

/**
 * The TokenEndpoint issues the opaque access token after the grant handler returns; this store
 * attaches the launch patient of the grant that is being issued (matched by client id and scope).
 */
export class ContextTokenStore extends TokenStore {
  private readonly pending: { key: string; context: LaunchContext }[] = [];
  private readonly contexts = new Map<string, LaunchContext>();

  expect(clientId: string, scope: string, context: LaunchContext): void {
    this.pending.push({ key: `${clientId} ${scope}`, context });
  }

  override issue(clientId: string, scope: string, lifetimeSeconds: number) {
    const issued = super.issue(clientId, scope, lifetimeSeconds);
    const index = this.pending.findIndex((p) => p.key === `${clientId} ${scope}`);
    if (index >= 0) {
      this.contexts.set(issued.accessToken, this.pending[index]!.context);
      this.pending.splice(index, 1);
    }
    return issued;
  }

  override verify(accessToken: string): ContextualToken | undefined {
    const token = super.verify(accessToken);
    if (!token) {
      this.contexts.delete(accessToken);
      return undefined;
    }
    const context = this.contexts.get(accessToken);
    return context?.patient ? { ...token, patient: context.patient } : token;
  }
}

export class SmartAppLaunch {
  readonly settings: AppLaunchSettings = {
    grantScopes: (requested) => requested,
    absoluteFhirUser: false,
    idTokenLifetimeSeconds: 300,
    tamperIdTokenSignature: false,
    needPatientBanner: true,
    codeLifetimeSeconds: 60,
  };
  private readonly clients = new Map<string, AppClientRegistration>();
  private readonly pendingAuthorizations = new Map<string, AuthorizeRequest>();
  private readonly codes = new Map<string, IssuedCode>();
  private readonly refreshTokens = new Map<string, RefreshGrant>();
  private readonly launches = new Map<string, LaunchContext>();
  private keys?: { privateKey: CryptoKey; jwk: JWK };

  constructor(
    private readonly ctx: SandboxContext,
    private readonly tokens: ContextTokenStore,
  ) {}

  registerAppClient(client: AppClientRegistration): void {
    this.clients.set(client.clientId, { ...client, redirectUris: [...client.redirectUris] });
  }

  /** Mint an EHR launch token encoding the patient (what the EHR page puts in the iframe URL). */
  mintLaunch(patientId: string): string {
    const launch = randomBytes(16).toString('base64url');
    this.launches.set(launch, { patient: patientId });
    return launch;
  }

  capabilities(): string[] {
    return [
      'launch-ehr',
      'launch-standalone',
      'client-public',
      'context-ehr-patient',
      'context-standalone-patient',
      'context-banner',
      'sso-openid-connect',
      'permission-v2',
      'permission-v1',
      'permission-patient',
      'permission-offline',
      'authorize-post',
    ];
  }

  /** INF-S-01: the members app launch adds to `.well-known/smart-configuration` (all absolute). */
  discoveryExtra(): Record<string, unknown> {
    return {
      issuer: this.ctx.fhirBaseUrl,
      jwks_uri: `${this.ctx.origin}${JWKS_PATH}`,
      authorization_endpoint: `${this.ctx.origin}${AUTHORIZE_PATH}`,
      response_types_supported: ['code'],
    };
  }

  /** Confine a patient-context token to its patient's own Patient resource (SAL-50). */
  allows(token: ContextualToken, path: string[]): boolean {
    if (!token.patient) return true;
    if (path[0] === 'Patient' && path[1] && !path[1].startsWith('$') && !path[1].startsWith('_')) {
      return path[1] === token.patient;
    }
    return true;
  }

  grantHandlers(endpoint: TokenEndpoint): void {
    endpoint.addGrantType('authorization_code', (form) => this.codeGrant(form));
    endpoint.addGrantType('refresh_token', (form) => this.refreshGrant(form));
  }

  mount(app: Hono): void {
    const base = this.ctx.fhirBasePath;
    app.get(`${base}/.well-known/openid-configuration`, (c) =>
      c.json({
        issuer: this.ctx.fhirBaseUrl,
        jwks_uri: `${this.ctx.origin}${JWKS_PATH}`,
        authorization_endpoint: `${this.ctx.origin}${AUTHORIZE_PATH}`,
        token_endpoint: this.ctx.tokenUrl,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        scopes_supported: ['openid', 'fhirUser'],
        claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', 'fhirUser', 'name'],
      }),
    );
    app.get(JWKS_PATH, async (c) => c.json({ keys: [(await this.signingKeys()).jwk] }));
    app.get(AUTHORIZE_PATH, (c) => this.authorize(new URL(c.req.url).searchParams));
    app.post(AUTHORIZE_PATH, async (c) => this.authorize(new URLSearchParams(await c.req.text())));
    app.post(APPROVE_PATH, async (c) => this.approve(new URLSearchParams(await c.req.text())));
    app.get(EHR_PATH, async (c) => this.ehrPage(new URL(c.req.url).searchParams));
  }

  private async signingKeys(): Promise<{ privateKey: CryptoKey; jwk: JWK }> {
    if (!this.keys) {
      const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
      const jwk = { ...(await exportJWK(publicKey)), kid: randomUUID(), alg: 'RS256', use: 'sig' };
      this.keys = { privateKey, jwk };
    }
    return this.keys;
  }

  private async authorize(params: URLSearchParams): Promise<Response> {
    const clientId = params.get('client_id') ?? '';
    const client = this.clients.get(clientId);
    // Without a registered client and redirect URI we must not redirect anywhere (RFC 6749 §4.1.2.1).
    if (!client) return errorPage(400, 'Unknown client_id: this app is not registered with the EHR.');
    const redirectUri = params.get('redirect_uri') ?? '';
    if (!client.redirectUris.includes(redirectUri)) {
      return errorPage(400, 'The redirect_uri is not registered for this app.');
    }
    const state = params.get('state') ?? '';
    const fail = (error: string, description: string) => {
      const url = new URL(redirectUri);
      url.searchParams.set('error', error);
      url.searchParams.set('error_description', description);
      if (state) url.searchParams.set('state', state);
      return Response.redirect(url.toString(), 302);
    };
    // SAL-22 / G10 "invalid aud": a wrong audience never yields a code; show an error page.
    const aud = (params.get('aud') ?? '').replace(/\/+$/, '');
    if (aud !== this.ctx.fhirBaseUrl) {
      return errorPage(400, 'The aud parameter does not name this EHR’s FHIR server; no authorization was issued.');
    }
    if (params.get('response_type') !== 'code') return fail('unsupported_response_type', 'response_type must be code');
    if (!state) return fail('invalid_request', 'state is required');
    // SAL-23: PKCE S256 only.
    const codeChallenge = params.get('code_challenge') ?? '';
    if (params.get('code_challenge_method') !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(codeChallenge)) {
      return fail('invalid_request', 'PKCE with code_challenge_method=S256 is required');
    }
    const scope = (params.get('scope') ?? '').split(/\s+/).filter(Boolean);
    const request: AuthorizeRequest = { clientId, redirectUri, scope, state, codeChallenge };
    const launch = params.get('launch');
    if (launch) {
      const context = this.launches.get(launch);
      if (!context?.patient) return fail('invalid_request', 'The launch parameter is unknown or expired');
      request.patient = context.patient;
    }
    const id = randomBytes(16).toString('base64url');
    this.pendingAuthorizations.set(id, request);
    const needPicker = !request.patient && scope.includes('launch/patient');
    return this.loginPage(id, needPicker);
  }

  private async loginPage(id: string, needPicker: boolean): Promise<Response> {
    const practitioners = (await this.ctx.repo.searchResources(
      parseSearchRequest('Practitioner', { _count: '5' }),
    )) as unknown as Practitioner[];
    const options = practitioners
      .map(
        (p, i) =>
          `<option value="${escapeHtml(p.id ?? '')}"${i === 0 ? ' selected' : ''}>${escapeHtml(humanName(p.name))}</option>`,
      )
      .join('');
    let picker = '';
    if (needPicker) {
      const patients = await this.patients();
      picker = `<label for="patient">Patient</label><select id="patient" name="patient" required>${patients
        .map((p) => `<option value="${escapeHtml(p.id ?? '')}">${escapeHtml(humanName(p.name))}</option>`)
        .join('')}</select>`;
    }
    return page(
      'Sign in to the sandbox EHR',
      `<h1>Sandbox EHR sign-in</h1><form method="post" action="${APPROVE_PATH}">
<input type="hidden" name="request" value="${escapeHtml(id)}">
<label for="practitioner">Practitioner (demo, no password)</label>
<select id="practitioner" name="practitioner">${options}</select>
${picker}
<button type="submit">Sign in and allow</button></form>`,
    );
  }

  private async approve(form: URLSearchParams): Promise<Response> {
    const id = form.get('request') ?? '';
    const request = this.pendingAuthorizations.get(id);
    if (!request) return errorPage(400, 'This sign-in request has expired; launch the app again.');
    this.pendingAuthorizations.delete(id);
    const practitioner = form.get('practitioner') ?? '';
    const patient = request.patient ?? (form.get('patient') || undefined);
    const scope = this.settings.grantScopes(request.scope);
    const code = randomBytes(24).toString('base64url');
    this.codes.set(code, {
      request,
      practitioner,
      patient,
      scope,
      expiresAt: Date.now() + this.settings.codeLifetimeSeconds * 1000,
    });
    const url = new URL(request.redirectUri);
    url.searchParams.set('code', code);
    url.searchParams.set('state', request.state);
    return Response.redirect(url.toString(), 302);
  }

  private async codeGrant(form: URLSearchParams) {
    const code = form.get('code') ?? '';
    const issued = this.codes.get(code);
    // Codes are single use: delete before any check so a replay always fails (INF-S-03).
    this.codes.delete(code);
    const clientId = form.get('client_id') ?? '';
    if (!this.clients.has(clientId)) throw new OAuthError(401, 'invalid_client', 'Unknown client_id');
    if (!issued || issued.expiresAt <= Date.now()) {
      throw new OAuthError(400, 'invalid_grant', 'The authorization code is invalid, expired or already used');
    }
    if (issued.request.clientId !== clientId)
      throw new OAuthError(400, 'invalid_grant', 'Code issued to another client');
    if (form.get('redirect_uri') !== issued.request.redirectUri) {
      throw new OAuthError(400, 'invalid_grant', 'redirect_uri differs from the authorization request');
    }
    const verifier = form.get('code_verifier') ?? '';
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    if (!verifier || challenge !== issued.request.codeChallenge) {
      throw new OAuthError(400, 'invalid_grant', 'PKCE code_verifier does not match the code_challenge');
    }
    return this.grant({
      clientId,
      practitioner: issued.practitioner,
      patient: issued.patient,
      scope: issued.scope,
    });
  }

  private async refreshGrant(form: URLSearchParams) {
    const presented = form.get('refresh_token') ?? '';
    const grant = this.refreshTokens.get(presented);
    // SAL-73: rotate; a refresh token works once.
    this.refreshTokens.delete(presented);
    // RFC 6749 §6: a public client need not send client_id on refresh; when it does, it must match.
    const clientId = form.get('client_id');
    if (!grant || (clientId !== null && grant.clientId !== clientId)) {
      throw new OAuthError(400, 'invalid_grant', 'The refresh token is invalid or already used');
    }
    const requested = (form.get('scope') ?? '').split(/\s+/).filter(Boolean);
    // INF-S-06: a narrower scope may be asked for, never a wider one.
    if (requested.some((s) => !grant.scope.includes(s))) {
      throw new OAuthError(400, 'invalid_scope', 'Refresh scope must be a subset of the original grant');
    }
    return this.grant({ ...grant, scope: requested.length > 0 ? requested : grant.scope });
  }

  private async grant(grant: RefreshGrant) {
    const scopeText = grant.scope.join(' ');
    const extra: Record<string, unknown> = {};
    if (grant.patient) extra.patient = grant.patient;
    if (grant.patient) extra.need_patient_banner = this.settings.needPatientBanner;
    if (grant.scope.includes('openid') && grant.scope.includes('fhirUser')) {
      extra.id_token = await this.idToken(grant.clientId, grant.practitioner);
    }
    if (grant.scope.includes('offline_access') || grant.scope.includes('online_access')) {
      const refresh = randomBytes(32).toString('base64url');
      this.refreshTokens.set(refresh, grant);
      extra.refresh_token = refresh;
    }
    this.tokens.expect(grant.clientId, scopeText, { patient: grant.patient });
    return { clientId: grant.clientId, scope: scopeText, extra };
  }

  private async idToken(clientId: string, practitioner: string): Promise<string> {
    const { privateKey, jwk } = await this.signingKeys();
    const now = Math.floor(Date.now() / 1000);
    const relative = `Practitioner/${practitioner}`;
    let name: string | undefined;
    try {
      name = humanName(((await this.ctx.repo.readResource('Practitioner', practitioner)) as Practitioner).name);
    } catch {
      name = undefined;
    }
    const jwt = await new SignJWT({
      fhirUser: this.settings.absoluteFhirUser ? `${this.ctx.fhirBaseUrl}/${relative}` : relative,
      ...(name ? { name } : {}),
    })
      .setProtectedHeader({ alg: 'RS256', kid: jwk.kid as string, typ: 'JWT' })
      .setIssuer(this.ctx.fhirBaseUrl)
      .setSubject(practitioner || 'unknown')
      .setAudience(clientId)
      .setIssuedAt(now)
      .setExpirationTime(now + this.settings.idTokenLifetimeSeconds)
      .sign(privateKey);
    if (!this.settings.tamperIdTokenSignature) return jwt;
    const [header, payload, signature] = jwt.split('.') as [string, string, string];
    const flipped = `${signature[0] === 'A' ? 'B' : 'A'}${signature.slice(1)}`;
    return `${header}.${payload}.${flipped}`;
  }

  private async patients(): Promise<Patient[]> {
    const all = (await this.ctx.repo.searchResources(
      parseSearchRequest('Patient', { _count: '200' }),
    )) as unknown as Patient[];
    return all.filter((p) => p.name && p.name.length > 0).slice(0, 20);
  }

  private async ehrPage(query: URLSearchParams): Promise<Response> {
    const clientId = query.get('client') ?? [...this.clients.keys()][0];
    const client = clientId ? this.clients.get(clientId) : undefined;
    const selected = query.get('patient');
    const patients = await this.patients();
    const list = patients
      .map(
        (p) =>
          `<li><a href="${EHR_PATH}?patient=${encodeURIComponent(p.id ?? '')}${clientId ? `&client=${encodeURIComponent(clientId)}` : ''}" data-patient-id="${escapeHtml(p.id ?? '')}">${escapeHtml(humanName(p.name))}</a></li>`,
      )
      .join('');
    let frame = '<p>Choose a patient to open the fhirdesk app.</p>';
    if (selected && client?.launchUrl) {
      const src = new URL(client.launchUrl);
      src.searchParams.set('iss', this.ctx.fhirBaseUrl);
      src.searchParams.set('launch', this.mintLaunch(selected));
      frame = `<iframe title="fhirdesk" name="app" src="${escapeHtml(src.toString())}" style="width:100%;height:80vh;border:1px solid #888"></iframe>`;
    } else if (selected) {
      frame = '<p role="alert">No app with a launch URL is registered.</p>';
    }
    return page(
      'Sandbox EHR',
      `<h1>Sandbox EHR</h1><nav aria-label="Patients"><ul>${list}</ul></nav><main>${frame}</main>`,
    );
  }
}

function humanName(names: Patient['name'] | Practitioner['name']): string {
  const n = names?.find((h) => h.use === 'official') ?? names?.[0];
  if (!n) return 'Unnamed';
  return n.text ?? [...(n.given ?? []), n.family ?? ''].filter(Boolean).join(' ');
}

function errorPage(status: number, message: string): Response {
  return page('Authorization error', `<h1>Authorization error</h1><p role="alert">${escapeHtml(message)}</p>`, status);
}
