// Outbound replies (issue #6): the transport a channel's replies go through, how its failures are
// classified (transient → retry, permanent → failed) and the retry schedule.
import type { OutboundChannel } from '../db/schema/conversations';

/** One reply as handed to a transport: everything it needs, nothing it must look up. */
export interface OutboundReply {
  deliveryId: string;
  tenantId: string;
  channel: OutboundChannel;
  /** Normalised address: email, E.164 phone, or `conversation:<id>` for chat. */
  recipient: string;
  body: string;
  ticketNumber: number;
  ticketSubject: string;
  /** Token for `reply+<token>@…` so the patient's answer threads back to the ticket. */
  replyToken: string;
  /** Provider id of the inbound message this answers (email Message-ID), when known. */
  inReplyTo: string | null;
}

export interface TransportReceipt {
  /** The provider's id for the accepted message (SMTP Message-ID, webhook `messageId`). */
  providerMessageId: string | null;
}

export interface ReplyTransport {
  readonly kind: string;
  /** Resolves only when the provider accepted the message; throws `TransportError` otherwise. */
  send(reply: OutboundReply): Promise<TransportReceipt>;
}

/**
 * A failed send. `reason` is value-free (`smtp-550`, `http-503`, `connection-refused`): it goes to
 * the timeline and the API, so it never carries provider response text that could echo PHI.
 */
export class TransportError extends Error {
  constructor(
    readonly reason: string,
    readonly transient: boolean,
    /** From Retry-After (429/503): the earliest moment a retry makes sense. */
    readonly retryAfterMs: number | null = null,
  ) {
    super(`Reply transport failed: ${reason}`);
    this.name = 'TransportError';
  }
}

/** Resolves the transport of a tenant's channel; null when the tenant configured none. */
export type TransportResolver = (tenantId: string, channel: OutboundChannel) => Promise<ReplyTransport | null>;

export interface RetryPolicy {
  /** Attempts in total before a transient failure becomes permanent. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { maxAttempts: 6, baseDelayMs: 30_000, maxDelayMs: 3_600_000 };

/**
 * Delay before attempt `attempt + 1`: exponential with "full jitter" (uniform in [d/2, d]) so many
 * deliveries failing together do not retry in lock-step; never sooner than the provider's Retry-After.
 */
export function retryDelayMs(
  attempt: number,
  policy: RetryPolicy,
  retryAfterMs: number | null = null,
  random: () => number = Math.random,
): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  const jittered = Math.round(exp / 2 + (random() * exp) / 2);
  return Math.max(jittered, retryAfterMs ?? 0);
}

/** `Retry-After` as seconds or an HTTP date (RFC 9110 §10.2.3); null when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now: Date): number | null {
  if (!value) return null;
  if (/^\d{1,7}$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now.getTime());
}
