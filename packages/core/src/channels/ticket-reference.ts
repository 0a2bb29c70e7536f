// Threading an inbound message onto an existing ticket: explicit ticket numbers (`T-1042`,
// `[T-1042]`) in subject or body, and per-ticket reply-to tokens (`reply+<token>@desk.example`).

export interface TicketReference {
  /** The ticket number, e.g. 1042 for `T-1042`. */
  number: number;
  source: 'subject' | 'body';
  /** `[T-1042]` as we put it in outbound subjects: the strongest textual hint. */
  bracketed: boolean;
}

// `T-` must not be glued to a preceding letter/digit ("AT-1042", "PT-12") nor followed by more
// digits or a hyphenated suffix that would make it another identifier ("T-1042-7").
const ticketRef = /(\[)?(?<![\p{L}\p{N}])T-(\d{1,10})(?![\p{N}]|-\p{N})(\])?/gu;

/** Ticket references in order of appearance, deduplicated per source. */
export function parseTicketReferences(text: string, source: TicketReference['source'] = 'body'): TicketReference[] {
  const out: TicketReference[] = [];
  const seen = new Set<number>();
  for (const m of text.matchAll(ticketRef)) {
    const number = Number(m[2]);
    if (!Number.isSafeInteger(number) || number <= 0 || seen.has(number)) continue;
    seen.add(number);
    out.push({ number, source, bracketed: m[1] === '[' && m[3] === ']' });
  }
  return out;
}

/** Format a ticket number as we write it in outbound subjects. */
export function formatTicketReference(number: number): string {
  return `[T-${number}]`;
}

const addrSpec = /[^\s<>,;:"()[\]]+@[^\s<>,;:"()[\]]+/g;
const tokenShape = /^[A-Za-z0-9_-]{8,128}$/;

/**
 * Reply tokens from one or more address headers (`To`, `Cc`, `Delivered-To`), e.g.
 * `Desk <reply+Zx81…@desk.example>` → `Zx81…`. `localPart` is the configured prefix before `+`.
 */
export function parseReplyTokens(addresses: string | readonly string[], localPart = 'reply'): string[] {
  const headers = typeof addresses === 'string' ? [addresses] : addresses;
  const prefix = `${localPart.toLowerCase()}+`;
  const out: string[] = [];
  for (const header of headers) {
    for (const m of header.matchAll(addrSpec)) {
      const local = m[0].slice(0, m[0].lastIndexOf('@'));
      if (!local.toLowerCase().startsWith(prefix)) continue;
      const token = local.slice(prefix.length);
      if (tokenShape.test(token) && !out.includes(token)) out.push(token);
    }
  }
  return out;
}

export interface ThreadHints {
  /** Reply tokens: unguessable, so the most trustworthy hint. */
  replyTokens: string[];
  /** Ticket references, strongest first: bracketed subject, subject, body. */
  ticketReferences: TicketReference[];
}

/** Everything in an inbound email/portal message that can thread it onto an existing ticket. */
export function threadHints(message: {
  subject?: string;
  body?: string;
  to?: string | readonly string[];
}): ThreadHints {
  const subject = parseTicketReferences(message.subject ?? '', 'subject');
  const body = parseTicketReferences(message.body ?? '', 'body').filter(
    (b) => !subject.some((s) => s.number === b.number),
  );
  const rank = (r: TicketReference) => (r.source === 'subject' ? 0 : 2) + (r.bracketed ? 0 : 1);
  return {
    replyTokens: message.to ? parseReplyTokens(message.to) : [],
    ticketReferences: [...subject, ...body].sort((a, b) => rank(a) - rank(b)),
  };
}
