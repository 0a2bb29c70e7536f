import { describe, expect, it } from 'vitest';
import { ValidationError } from '../errors';
import { parseInboundSms } from './inbound-sms';

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

describe('inbound SMS parsing', () => {
  it('parses the Twilio form shape and normalises both numbers', () => {
    const sms = parseInboundSms(
      form({
        MessageSid: 'SM0123456789abcdef0123456789abcdef',
        AccountSid: 'AC0123456789abcdef0123456789abcdef',
        From: '+15552345678',
        To: '+15559876543',
        Body: 'need refill pls T-1042',
        NumMedia: '0',
      }),
    );
    expect(sms).toEqual({
      messageSid: 'SM0123456789abcdef0123456789abcdef',
      from: '+15552345678',
      fromE164: '+15552345678',
      to: '+15559876543',
      toE164: '+15559876543',
      body: 'need refill pls T-1042',
      media: [],
    });
  });

  it('decodes form encoding, including + for spaces and UTF-8 accents', () => {
    const sms = parseInboundSms(
      'MessageSid=SM1&From=%2B15552345678&To=%2B15559876543&Body=necesito+mi+receta%2C+gracias+%C2%BFs%C3%AD%3F',
    );
    expect(sms.body).toBe('necesito mi receta, gracias ¿sí?');
  });

  it('collects MMS media URLs and content types', () => {
    const sms = parseInboundSms(
      form({
        MessageSid: 'MM1',
        From: '+15552345678',
        To: '12345',
        Body: '',
        NumMedia: '2',
        MediaUrl0: 'https://media.example/1',
        MediaContentType0: 'image/jpeg',
        MediaUrl1: 'https://media.example/2',
      }),
    );
    expect(sms.media).toEqual([
      { url: 'https://media.example/1', contentType: 'image/jpeg' },
      { url: 'https://media.example/2', contentType: 'application/octet-stream' },
    ]);
    expect(sms.toE164).toBeNull();
  });

  it('accepts the older SmsMessageSid field', () => {
    expect(parseInboundSms(form({ SmsMessageSid: 'SM2', From: '+15552345678', To: '+15559876543' })).messageSid).toBe(
      'SM2',
    );
  });

  it('names missing fields without echoing any values (HIPAA-11)', () => {
    try {
      parseInboundSms(form({ Body: 'my chest hurts, call 555-234-5678', NumMedia: 'lots' }));
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationError);
      const e = err as ValidationError;
      expect(e.errors.map((x) => x.field).sort()).toEqual(['From', 'MessageSid', 'NumMedia', 'To']);
      expect(JSON.stringify(e.errors) + e.message).not.toMatch(/chest|555|lots/);
    }
  });

  it('rejects a media URL that is not https', () => {
    expect(() =>
      parseInboundSms(
        form({ MessageSid: 'MM3', From: '+15552345678', To: '+15559876543', NumMedia: '1', MediaUrl0: 'http://x' }),
      ),
    ).toThrow(ValidationError);
  });
});
