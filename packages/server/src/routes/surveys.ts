// /survey/{token}: the public CSAT page and its answer endpoint. Mounted outside /api/v1/* (the
// patient has no bearer token) and outside /api/* (the HTML form posts form-encoded). The token is
// an HS256 JWT whose only claim is the survey id (jti): no PHI in the URL; single use is enforced by
// the database, not by the token.
import {
  answerSurvey,
  type Clock,
  type Database,
  NotFoundError,
  openSurvey,
  type SurveyLinkBuilder,
  systemClock,
  ValidationError,
} from '@fhirdesk/core';
import { Hono } from 'hono';
import { errors, jwtVerify, SignJWT } from 'jose';
import type { AppEnv } from '../http/env';

const ISSUER = 'fhirdesk';
const AUDIENCE = 'fhirdesk-survey';

/** Signs and verifies survey tokens with an injected key (never the API token key's audience). */
export class SurveyTokens {
  constructor(
    private readonly key: Uint8Array,
    private readonly clock: Clock = systemClock,
  ) {}

  async sign(surveyId: string, expiresAt: Date): Promise<string> {
    return new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setJti(surveyId)
      .setIssuedAt(Math.floor(this.clock.now().getTime() / 1000))
      .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
      .sign(this.key);
  }

  /** The survey id, or a NotFoundError that does not say why (expired tokens are checked in the DB too). */
  async verify(token: string): Promise<string> {
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: ['HS256'],
        issuer: ISSUER,
        audience: AUDIENCE,
        requiredClaims: ['jti', 'exp'],
        currentDate: this.clock.now(),
      });
      return payload.jti!;
    } catch (error) {
      if (error instanceof errors.JWTExpired) throw new NotFoundError('This survey link has expired');
      throw new NotFoundError('This survey link is not valid');
    }
  }
}

/**
 * The public survey URL the invitation carries: `{base}/survey/{token}`. The token holds only the
 * survey id, so the URL names no patient, address or ticket.
 */
export function surveyLinkBuilder(tokens: SurveyTokens, publicBaseUrl: string | (() => string)): SurveyLinkBuilder {
  // A function when the origin is only known once listening (PORT=0 without FHIRDESK_PUBLIC_URL).
  const baseOf = typeof publicBaseUrl === 'string' ? () => publicBaseUrl : publicBaseUrl;
  return async (surveyId, expiresAt) =>
    `${baseOf().replace(/\/+$/, '')}/survey/${await tokens.sign(surveyId, expiresAt)}`;
}

const page = (inner: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>How did we do?</title></head><body><main>${inner}</main></body></html>`;

const form = `<h1>How did we do?</h1>
<form method="post">
<fieldset><legend>Your rating (1 = poor, 5 = excellent)</legend>
${[1, 2, 3, 4, 5].map((n) => `<label><input type="radio" name="rating" value="${n}" required> ${n}</label>`).join('\n')}
</fieldset>
<label for="nps">How likely are you to recommend us (0–10)? Optional</label>
<input id="nps" name="nps" type="number" min="0" max="10">
<label for="comment">Comment (optional)</label>
<textarea id="comment" name="comment" maxlength="2000"></textarea>
<button type="submit">Send</button>
</form>`;

function toInt(v: unknown): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : Number.NaN;
}

export function surveyRoutes(deps: { database: Database; clock?: Clock; surveyKey?: Uint8Array }) {
  const clock = deps.clock ?? systemClock;
  // Without a configured key, links work until the process restarts (documented on AppDeps).
  const tokens = new SurveyTokens(deps.surveyKey ?? crypto.getRandomValues(new Uint8Array(32)), clock);
  const app = new Hono<AppEnv>();
  app.use('*', async (c, next) => {
    c.header('Cache-Control', 'no-store');
    await next();
  });
  app.get('/:token', async (c) => {
    const id = await tokens.verify(c.req.param('token'));
    await openSurvey(deps.database, id, clock.now());
    return c.html(page(form));
  });
  app.post('/:token', async (c) => {
    const id = await tokens.verify(c.req.param('token'));
    const type = c.req.header('content-type') ?? '';
    const isJson = /^application\/json\b/i.test(type);
    let raw: Record<string, unknown>;
    if (isJson) raw = (await c.req.json()) as Record<string, unknown>;
    else if (/^application\/x-www-form-urlencoded\b/i.test(type))
      raw = Object.fromEntries(new URLSearchParams(await c.req.text()));
    else
      throw new ValidationError('Send the answer as JSON or a form', [{ field: 'body', message: 'unsupported type' }]);
    const comment = typeof raw.comment === 'string' ? raw.comment.slice(0, 2000) : undefined;
    const answer = { rating: toInt(raw.rating) ?? Number.NaN, nps: toInt(raw.nps), comment };
    const row = await answerSurvey(deps.database, id, answer, clock.now());
    if (isJson) return c.json({ rating: row.rating, nps: row.nps, answeredAt: row.usedAt }, 201);
    return c.html(page('<h1>Thank you</h1><p>Your answer was recorded.</p>'), 201);
  });
  return app;
}
