// Authenticating inbound webhooks (HIPAA-09 "inbound webhooks authenticated"): HMAC-SHA256 over
// the exact raw body with a signed timestamp, a tolerance window and optional replay detection.
// Header shape `t=<unix seconds>,v1=<hex>` (several v1 entries allowed during secret rotation).
import { createHmac, timingSafeEqual } from 'node:crypto';

export type WebhookBytes = string | Uint8Array;

function hmacSha256(secret: WebhookBytes, timestamp: number, rawBody: WebhookBytes): Buffer {
  const mac = createHmac('sha256', secret);
  mac.update(`${timestamp}.`);
  mac.update(rawBody);
  return mac.digest();
}

/** Header value for a payload; used by our outbound webhooks and by tests. */
export function signWebhookPayload(rawBody: WebhookBytes, secret: WebhookBytes, timestampSeconds: number): string {
  return `t=${timestampSeconds},v1=${hmacSha256(secret, timestampSeconds, rawBody).toString('hex')}`;
}

/** Remembers signatures seen inside the tolerance window. */
export interface ReplayCache {
  /** True if `key` was already recorded (a replay); otherwise records it until `expiresAtMs`. */
  checkAndRemember(key: string, expiresAtMs: number, nowMs: number): boolean;
}

/** In-process replay cache; use a shared store (database, Redis) when running several servers. */
export function createMemoryReplayCache(): ReplayCache {
  const seen = new Map<string, number>();
  return {
    checkAndRemember(key, expiresAtMs, nowMs) {
      for (const [k, exp] of seen) if (exp <= nowMs) seen.delete(k);
      if (seen.has(key)) return true;
      seen.set(key, expiresAtMs);
      return false;
    },
  };
}

export type WebhookFailure =
  | 'missing-header'
  | 'malformed-header'
  | 'timestamp-outside-window'
  | 'signature-mismatch'
  | 'replayed';

export type WebhookVerification = { ok: true; timestamp: Date } | { ok: false; reason: WebhookFailure };

export interface VerifyWebhookOptions {
  /** The body exactly as received, before any JSON or form parsing. */
  rawBody: WebhookBytes;
  header: string | null | undefined;
  /** Current and previous secrets during rotation. */
  secrets: readonly WebhookBytes[];
  now?: Date;
  /** Accepted clock difference either way, in seconds (default 300). */
  toleranceSeconds?: number;
  replayCache?: ReplayCache;
}

/** Verify a signed webhook. Never throws on bad input; the reason is safe to log. */
export function verifyWebhookSignature(options: VerifyWebhookOptions): WebhookVerification {
  const { rawBody, header, secrets } = options;
  const nowMs = (options.now ?? new Date()).getTime();
  const tolerance = options.toleranceSeconds ?? 300;
  if (!header) return { ok: false, reason: 'missing-header' };

  let timestamp: number | undefined;
  const signatures: Buffer[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/i.test(value)) signatures.push(Buffer.from(value, 'hex'));
  }
  if (timestamp === undefined || signatures.length === 0) return { ok: false, reason: 'malformed-header' };
  if (Math.abs(nowMs / 1000 - timestamp) > tolerance) return { ok: false, reason: 'timestamp-outside-window' };

  let matched: Buffer | undefined;
  for (const secret of secrets) {
    const expected = hmacSha256(secret, timestamp, rawBody);
    for (const candidate of signatures) {
      // Both are 32 bytes (checked above), so timingSafeEqual cannot throw; no early exit per byte.
      if (timingSafeEqual(expected, candidate)) matched = candidate;
    }
  }
  if (!matched) return { ok: false, reason: 'signature-mismatch' };

  if (options.replayCache) {
    const key = `${timestamp}.${matched.toString('hex')}`;
    const replayed = options.replayCache.checkAndRemember(key, (timestamp + tolerance) * 1000, nowMs);
    if (replayed) return { ok: false, reason: 'replayed' };
  }
  return { ok: true, timestamp: new Date(timestamp * 1000) };
}

/**
 * Twilio-style request signature (`X-Twilio-Signature`): Base64 HMAC-SHA1, keyed by the account
 * auth token, of the full request URL followed by each POST parameter name and value, sorted by
 * name. Twilio signs no timestamp, so pair it with MessageSid de-duplication against replays.
 */
export function verifyTwilioStyleSignature(options: {
  url: string;
  params: URLSearchParams | Record<string, string>;
  signature: string | null | undefined;
  authToken: string;
}): boolean {
  if (!options.signature) return false;
  const entries =
    options.params instanceof URLSearchParams ? [...options.params.entries()] : Object.entries(options.params);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const data = options.url + entries.map(([k, v]) => k + v).join('');
  const expected = createHmac('sha1', options.authToken).update(data, 'utf8').digest();
  const given = Buffer.from(options.signature, 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
