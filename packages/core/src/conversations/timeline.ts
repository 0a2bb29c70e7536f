import { and, eq } from 'drizzle-orm';
import type { Tx } from '../db/database';
import { type Ticket, ticket } from '../db/schema/tickets';
import { NotFoundError, PreconditionFailedError } from '../errors';

export { appendTicketEvent } from '../tickets/ticket-event';

export async function lockTicket(tx: Tx, tenantId: string, id: string): Promise<Ticket> {
  const [row] = await tx
    .select()
    .from(ticket)
    .where(and(eq(ticket.id, id), eq(ticket.tenantId, tenantId)))
    .for('update');
  if (!row) throw new NotFoundError('Ticket not found');
  return row;
}

export async function writeTicket(tx: Tx, current: Ticket, patch: Partial<Ticket>): Promise<Ticket> {
  const [row] = await tx
    .update(ticket)
    .set({ ...patch, version: current.version + 1 })
    .where(and(eq(ticket.id, current.id), eq(ticket.version, current.version)))
    .returning();
  if (!row) throw new PreconditionFailedError('The ticket was changed by someone else; reload and retry');
  return row;
}
