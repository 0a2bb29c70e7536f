// An agent confirms having read the red-flag safety script of a ticket (issue #6). Recorded on the
// timeline and audited; once per agent and ticket (a repeat returns the first acknowledgement).
import { and, desc, eq } from 'drizzle-orm';
import { recordAudit } from '../audit/record';
import type { Actor, Clock } from '../context/actor';
import { systemClock } from '../context/actor';
import { appendTicketEvent, lockTicket } from '../conversations/timeline';
import type { Database } from '../db/database';
import { type TicketEvent, ticketEvent } from '../db/schema/tickets';
import { ConflictError } from '../errors';

export async function acknowledgeSafetyPrompt(
  database: Database,
  actor: Actor,
  ticketId: string,
  clock: Clock = systemClock,
): Promise<{ event: TicketEvent; created: boolean }> {
  const now = clock.now();
  const result = await database.db.transaction(async (tx) => {
    const row = await lockTicket(tx, actor.tenantId, ticketId);
    const [flag] = await tx
      .select()
      .from(ticketEvent)
      .where(and(eq(ticketEvent.ticketId, row.id), eq(ticketEvent.type, 'red-flag')))
      .orderBy(desc(ticketEvent.seq))
      .limit(1);
    if (!flag) throw new ConflictError('This ticket has no red-flag safety prompt to acknowledge');
    const previous = await tx
      .select()
      .from(ticketEvent)
      .where(and(eq(ticketEvent.ticketId, row.id), eq(ticketEvent.type, 'safety-prompt-acknowledged')));
    const mine = previous.find((e) => e.actorId === actor.userId);
    if (mine) return { event: mine, created: false };
    const language = (flag.data as { safetyPrompt?: { language?: string } }).safetyPrompt?.language ?? null;
    const event = await appendTicketEvent(tx, actor, row.id, 'safety-prompt-acknowledged', now, {
      data: { redFlagEventId: flag.id, language },
    });
    await recordAudit(
      tx,
      actor,
      {
        action: 'ticket.safety-prompt.acknowledge',
        fhirAction: 'U',
        entityType: 'Ticket',
        entityId: row.id,
        patientRef: row.patientRef,
        detail: { eventId: event.id },
      },
      now,
    );
    return { event, created: true };
  });
  return result;
}
