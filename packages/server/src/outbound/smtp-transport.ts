// Email replies over SMTP (nodemailer). Threading: `Reply-To: reply+<token>@<domain>` is what the
// inbound email route threads on (channels/ticket-reference.ts), `[T-1042]` in the subject is the
// fallback, and In-Reply-To/References point at the patient's message so mail clients thread too.
import {
  formatTicketReference,
  type OutboundReply,
  type ReplyTransport,
  TransportError,
  type TransportReceipt,
} from '@fhirdesk/core';
import nodemailer from 'nodemailer';

export interface SmtpSettings {
  host: string;
  port: number;
  /** Implicit TLS (port 465); otherwise STARTTLS when the server offers it. */
  secure: boolean;
  auth?: { user: string; pass: string } | undefined;
  /** `Desk <desk@clinic.example>` */
  from: string;
  /** Domain of the reply-to address `reply+<token>@<replyDomain>`. */
  replyDomain: string;
  replyLocalPart?: string | undefined;
  timeoutMs?: number | undefined;
}

const messageIdShape = /^<?[^\s<>@]{1,200}@[^\s<>@]{1,200}>?$/;
const angle = (id: string) => (id.startsWith('<') ? id : `<${id}>`);

/** SMTP reply codes and socket failures to a value-free reason; 4xx and network faults are transient. */
export function classifySmtpError(error: unknown): TransportError {
  const e = error as { code?: unknown; responseCode?: unknown; message?: unknown };
  const responseCode = typeof e.responseCode === 'number' ? e.responseCode : null;
  if (responseCode !== null) return new TransportError(`smtp-${responseCode}`, responseCode < 500);
  const code = typeof e.code === 'string' ? e.code : '';
  const message = typeof e.message === 'string' ? e.message : '';
  if (/ECONNREFUSED/.test(message) || code === 'ECONNREFUSED') return new TransportError('connection-refused', true);
  if (code === 'ETIMEDOUT' || /timeout/i.test(message)) return new TransportError('timeout', true);
  if (code === 'EAUTH') return new TransportError('smtp-auth', false);
  if (code === 'ECONNECTION' || code === 'ESOCKET' || code === 'EDNS')
    return new TransportError('smtp-connection', true);
  return new TransportError('smtp-error', true);
}

export class SmtpTransport implements ReplyTransport {
  readonly kind = 'smtp';
  constructor(private readonly settings: SmtpSettings) {}

  async send(reply: OutboundReply): Promise<TransportReceipt> {
    const s = this.settings;
    const timeout = s.timeoutMs ?? 30_000;
    // One connection per reply (no pool): replies are few, and a pooled socket would outlive a config change.
    const transport = nodemailer.createTransport({
      host: s.host,
      port: s.port,
      secure: s.secure,
      ...(s.auth ? { auth: s.auth } : {}),
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
      logger: false,
      debug: false,
    });
    const reference = formatTicketReference(reply.ticketNumber);
    const subject = reply.ticketSubject.includes(reference)
      ? reply.ticketSubject
      : `${reply.ticketSubject.replace(/^(re:\s*)+/i, '')} ${reference}`;
    const parent = reply.inReplyTo && messageIdShape.test(reply.inReplyTo) ? angle(reply.inReplyTo) : null;
    try {
      const info = await transport.sendMail({
        from: s.from,
        to: reply.recipient,
        replyTo: `${s.replyLocalPart ?? 'reply'}+${reply.replyToken}@${s.replyDomain}`,
        subject: `Re: ${subject}`,
        text: reply.body,
        // Stable per delivery: a re-send after a lost acknowledgement is recognisable as the same message.
        messageId: `<${reply.deliveryId}@${s.replyDomain}>`,
        ...(parent ? { inReplyTo: parent, references: [parent] } : {}),
        headers: { 'X-Fhirdesk-Ticket': reference.slice(1, -1) },
      });
      if (info.rejected.length > 0) throw new TransportError('smtp-recipient-rejected', false);
      return { providerMessageId: info.messageId ?? null };
    } catch (error) {
      if (error instanceof TransportError) throw error;
      throw classifySmtpError(error);
    } finally {
      transport.close();
    }
  }
}
