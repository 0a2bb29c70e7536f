// Appending to a ticket's timeline inside the caller's transaction: the one writer every service uses.
import { randomUUID } from 'node:crypto';
import type { Actor } from '../context/actor';
import type { Executor } from '../db/database';
import type { TicketEventType } from '../db/schema/enums';
import { type TicketEvent, ticketEvent } from '../db/schema/tickets';

export async function appendTicketEvent(
  tx: Executor,
  actor: Actor,
  ticketId: string,
  type: TicketEventType,
  now: Date,
  extra: Partial<Pick<TicketEvent, 'channel' | 'direction' | 'body' | 'data'>> = {},
): Promise<TicketEvent> {
  const [row] = await tx
    .insert(ticketEvent)
    .values({
      id: randomUUID(),
      tenantId: actor.tenantId,
      ticketId,
      type,
      actorId: actor.userId,
      actorKind: actor.kind,
      createdAt: now,
      channel: extra.channel ?? null,
      direction: extra.direction ?? null,
      body: extra.body ?? null,
      data: extra.data ?? {},
    })
    .returning();
  return row!;
}
