// Parsing the application/x-www-form-urlencoded body SMS gateways post for an inbound message
// (Twilio's field names: From, To, Body, MessageSid, NumMedia, MediaUrl0…, MediaContentType0…).
import { z } from 'zod';
import { ValidationError } from '../errors';
import { normalisePhone, type PhoneOptions } from './contact-address';

export interface InboundSms {
  messageSid: string;
  /** Sender as posted (may be a short code or alphanumeric id). */
  from: string;
  /** Sender in E.164 for patient matching, or null if it is not a phone number. */
  fromE164: string | null;
  to: string;
  toE164: string | null;
  body: string;
  media: { url: string; contentType: string }[];
}

const maxBodyLength = 10_000;
const maxMedia = 10;

const fieldsSchema = z.object({
  MessageSid: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a message id'),
  From: z.string().min(1, 'is required').max(64),
  To: z.string().min(1, 'is required').max(64),
  Body: z.string().max(maxBodyLength, `must be at most ${maxBodyLength} characters`),
  NumMedia: z.coerce.number().int().min(0).max(maxMedia).default(0),
});

/**
 * Parse a gateway's inbound SMS post. Error messages name fields but never echo their values,
 * because every value here is PHI (HIPAA-11).
 */
export function parseInboundSms(rawBody: string | URLSearchParams, options: PhoneOptions = {}): InboundSms {
  const params = typeof rawBody === 'string' ? new URLSearchParams(rawBody) : rawBody;
  const result = fieldsSchema.safeParse({
    MessageSid: params.get('MessageSid') ?? params.get('SmsMessageSid') ?? undefined,
    From: params.get('From') ?? undefined,
    To: params.get('To') ?? undefined,
    Body: params.get('Body') ?? '',
    NumMedia: params.get('NumMedia') ?? undefined,
  });
  if (!result.success) {
    throw new ValidationError(
      'inbound SMS is malformed',
      result.error.issues.map((i) => ({ field: i.path.join('.'), message: safeMessage(i) })),
    );
  }
  const f = result.data;
  const media: InboundSms['media'] = [];
  for (let i = 0; i < f.NumMedia; i++) {
    const url = params.get(`MediaUrl${i}`);
    if (!url || !/^https:\/\//.test(url)) {
      throw new ValidationError('inbound SMS is malformed', [
        { field: `MediaUrl${i}`, message: 'must be an https URL' },
      ]);
    }
    media.push({ url, contentType: params.get(`MediaContentType${i}`) ?? 'application/octet-stream' });
  }
  return {
    messageSid: f.MessageSid,
    from: f.From,
    fromE164: normalisePhone(f.From, options),
    to: f.To,
    toE164: normalisePhone(f.To, options),
    body: f.Body,
    media,
  };
}

function safeMessage(issue: z.core.$ZodIssue): string {
  // zod's built-in messages describe types and sizes, not values; custom ones above are ours.
  return issue.code === 'invalid_type' ? 'is required' : issue.message;
}
