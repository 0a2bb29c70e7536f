import { describe, expect, it } from 'vitest';
import {
  createMemoryReplayCache,
  signWebhookPayload,
  verifyTwilioStyleSignature,
  verifyWebhookSignature,
} from './webhook-signature';

const secret = 'whsec_test_only';
const body = '{"event":"message.received","id":"evt_1"}';
const t = 1_800_000_000;
const now = new Date(t * 1000 + 30_000);

describe('inbound webhook signatures (HIPAA-09)', () => {
  it('accepts a correctly signed raw body inside the window', () => {
    const header = signWebhookPayload(body, secret, t);
    expect(verifyWebhookSignature({ rawBody: body, header, secrets: [secret], now })).toEqual({
      ok: true,
      timestamp: new Date(t * 1000),
    });
  });

  it('verifies bytes as well as strings', () => {
    const bytes = new TextEncoder().encode(body);
    const header = signWebhookPayload(bytes, secret, t);
    expect(verifyWebhookSignature({ rawBody: body, header, secrets: [secret], now }).ok).toBe(true);
  });

  it('rejects a body changed by one byte (e.g. re-serialised JSON)', () => {
    const header = signWebhookPayload(body, secret, t);
    const result = verifyWebhookSignature({ rawBody: body.replace(':', ': '), header, secrets: [secret], now });
    expect(result).toEqual({ ok: false, reason: 'signature-mismatch' });
  });

  it('rejects a signature made with another secret and accepts the previous secret during rotation', () => {
    const header = signWebhookPayload(body, 'old-secret', t);
    expect(verifyWebhookSignature({ rawBody: body, header, secrets: [secret], now }).ok).toBe(false);
    expect(verifyWebhookSignature({ rawBody: body, header, secrets: [secret, 'old-secret'], now }).ok).toBe(true);
  });

  it('rejects timestamps outside the tolerance window in either direction', () => {
    const header = signWebhookPayload(body, secret, t);
    const late = new Date((t + 301) * 1000);
    const early = new Date((t - 301) * 1000);
    expect(verifyWebhookSignature({ rawBody: body, header, secrets: [secret], now: late })).toEqual({
      ok: false,
      reason: 'timestamp-outside-window',
    });
    expect(verifyWebhookSignature({ rawBody: body, header, secrets: [secret], now: early }).ok).toBe(false);
    expect(
      verifyWebhookSignature({ rawBody: body, header, secrets: [secret], now: late, toleranceSeconds: 600 }).ok,
    ).toBe(true);
  });

  it('rejects a replay of the same signed delivery', () => {
    const replayCache = createMemoryReplayCache();
    const header = signWebhookPayload(body, secret, t);
    expect(verifyWebhookSignature({ rawBody: body, header, secrets: [secret], now, replayCache }).ok).toBe(true);
    expect(verifyWebhookSignature({ rawBody: body, header, secrets: [secret], now, replayCache })).toEqual({
      ok: false,
      reason: 'replayed',
    });
  });

  it.each([
    [undefined, 'missing-header'],
    ['', 'missing-header'],
    ['v1=abcd', 'malformed-header'],
    [`t=${t}`, 'malformed-header'],
    [`t=${t},v1=zz`, 'malformed-header'],
    [`t=soon,v1=${'a'.repeat(64)}`, 'malformed-header'],
  ])('reports %j as %s', (header, reason) => {
    expect(verifyWebhookSignature({ rawBody: body, header, secrets: [secret], now })).toEqual({ ok: false, reason });
  });

  it('accepts when any of several v1 signatures matches', () => {
    const good = signWebhookPayload(body, secret, t).split(',')[1];
    const header = `t=${t},v1=${'0'.repeat(64)},${good}`;
    expect(verifyWebhookSignature({ rawBody: body, header, secrets: [secret], now }).ok).toBe(true);
  });
});

describe('Twilio-style request signatures', () => {
  // Twilio's published example (docs "Webhooks security"): token 12345, this URL and these params.
  const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
  const params = {
    CallSid: 'CA1234567890ABCDE',
    Caller: '+14158675309',
    Digits: '1234',
    From: '+14158675309',
    To: '+18005551212',
  };

  it('reproduces the published example', () => {
    expect(
      verifyTwilioStyleSignature({ url, params, signature: 'RSOYDt4T1cUTdK1PDd93/VVr8B8=', authToken: '12345' }),
    ).toBe(true);
  });

  it('is independent of parameter order and accepts URLSearchParams', () => {
    const form = new URLSearchParams(Object.entries(params).reverse());
    expect(
      verifyTwilioStyleSignature({ url, params: form, signature: 'RSOYDt4T1cUTdK1PDd93/VVr8B8=', authToken: '12345' }),
    ).toBe(true);
  });

  it('rejects a tampered parameter, wrong token or missing signature', () => {
    const signature = 'RSOYDt4T1cUTdK1PDd93/VVr8B8=';
    expect(
      verifyTwilioStyleSignature({ url, params: { ...params, Digits: '9999' }, signature, authToken: '12345' }),
    ).toBe(false);
    expect(verifyTwilioStyleSignature({ url, params, signature, authToken: '54321' })).toBe(false);
    expect(verifyTwilioStyleSignature({ url, params, signature: undefined, authToken: '12345' })).toBe(false);
    expect(verifyTwilioStyleSignature({ url, params, signature: 'short', authToken: '12345' })).toBe(false);
  });
});
