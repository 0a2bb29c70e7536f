import { describe, expect, it } from 'vitest';
import { formatTicketReference, parseReplyTokens, parseTicketReferences, threadHints } from './ticket-reference';

describe('ticket references', () => {
  it('finds plain and bracketed references in order, without duplicates', () => {
    expect(parseTicketReferences('Re: [T-1042] and also T-77, again T-1042', 'subject')).toEqual([
      { number: 1042, source: 'subject', bracketed: true },
      { number: 77, source: 'subject', bracketed: false },
    ]);
  });

  it('ignores look-alikes glued to other identifiers', () => {
    expect(parseTicketReferences('PT-12 AT-1042 T-1042-7 T-abc T-0 xT-5 T-12345678901')).toEqual([]);
  });

  it('accepts references next to punctuation', () => {
    expect(parseTicketReferences('(T-9), "T-10".').map((r) => r.number)).toEqual([9, 10]);
  });

  it('formats references the way it parses them', () => {
    expect(parseTicketReferences(formatTicketReference(1042))[0]).toMatchObject({ number: 1042, bracketed: true });
  });
});

describe('reply-to tokens', () => {
  it('extracts tokens from display-name and multi-address headers', () => {
    expect(
      parseReplyTokens([
        'Patient Desk <reply+Zx81kQ_9-aa@desk.example.org>, someone@else.example',
        'REPLY+abcdefgh12@desk.example.org',
      ]),
    ).toEqual(['Zx81kQ_9-aa', 'abcdefgh12']);
  });

  it('ignores other local parts and malformed tokens', () => {
    expect(parseReplyTokens('replies+abcdefgh12@x.org, reply+short@x.org, reply+bad%token1@x.org')).toEqual([]);
  });

  it('honours a configured local part', () => {
    expect(parseReplyTokens('support+abcdefgh12@x.org', 'support')).toEqual(['abcdefgh12']);
  });
});

describe('thread hints', () => {
  it('ranks the bracketed subject reference first and drops body duplicates', () => {
    const hints = threadHints({
      subject: 'RE: your question [T-1042]',
      body: 'see T-99 and T-1042 in the quoted text',
      to: 'Desk <reply+tok_12345678@desk.example>',
    });
    expect(hints.replyTokens).toEqual(['tok_12345678']);
    expect(hints.ticketReferences.map((r) => [r.number, r.source])).toEqual([
      [1042, 'subject'],
      [99, 'body'],
    ]);
  });

  it('returns empty hints for a new conversation', () => {
    expect(threadHints({ subject: 'Question about my bill', body: 'Hi' })).toEqual({
      replyTokens: [],
      ticketReferences: [],
    });
  });
});
