// SMS, chat and portal replies through the tenant's gateway: a JSON POST signed like our inbound
// webhooks (`X-Fhirdesk-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.rawBody">`), so the gateway
// verifies us with the same code it uses to sign to us. The provider's id comes from the response.
import {
  formatTicketNumber,
  type OutboundReply,
  parseRetryAfter,
  type ReplyTransport,
  signWebhookPayload,
  TransportError,
  type TransportReceipt,
} from '@fhirdesk/core';

export interface WebhookSettings {
  url: string;
  secret: string;
  timeoutMs?: number | undefined;
}

function networkReason(error: unknown): TransportError {
  const e = error as { name?: string; cause?: { code?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return new TransportError('timeout', true);
  const code = e.cause?.code;
  if (code === 'ECONNREFUSED') return new TransportError('connection-refused', true);
  if (code === 'ECONNRESET') return new TransportError('connection-reset', true);
  return new TransportError('network-error', true);
}

export class WebhookTransport implements ReplyTransport {
  readonly kind = 'webhook';
  constructor(
    private readonly settings: WebhookSettings,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async send(reply: OutboundReply): Promise<TransportReceipt> {
    const raw = JSON.stringify({
      deliveryId: reply.deliveryId,
      channel: reply.channel,
      to: reply.recipient,
      body: reply.body,
      ticket: formatTicketNumber(reply.ticketNumber),
    });
    const now = this.now();
    let response: Response;
    try {
      response = await fetch(this.settings.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-fhirdesk-signature': signWebhookPayload(raw, this.settings.secret, Math.floor(now.getTime() / 1000)),
          'x-fhirdesk-delivery-id': reply.deliveryId,
          // Same key on every attempt: a gateway can drop a retry of a message it already took.
          'idempotency-key': reply.deliveryId,
        },
        body: raw,
        redirect: 'error',
        signal: AbortSignal.timeout(this.settings.timeoutMs ?? 15_000),
      });
    } catch (error) {
      throw networkReason(error);
    }
    const text = await response.text().catch(() => '');
    const status = response.status;
    if (status >= 200 && status < 300) {
      let id: unknown = null;
      try {
        const json = JSON.parse(text) as { messageId?: unknown; id?: unknown };
        id = json.messageId ?? json.id ?? null;
      } catch {
        id = null;
      }
      return { providerMessageId: typeof id === 'string' && id.length > 0 && id.length <= 200 ? id : null };
    }
    // 408/429/5xx: the gateway may take it later; any other 4xx will not change on retry.
    const transient = status === 408 || status === 429 || status >= 500;
    throw new TransportError(
      `http-${status}`,
      transient,
      transient ? parseRetryAfter(response.headers.get('retry-after'), now) : null,
    );
  }
}
