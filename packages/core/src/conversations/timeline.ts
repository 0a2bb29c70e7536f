import { and, eq, sql } from 'drizzle-orm';
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

/** Next gap-free human number of a tenant (the counter row lock serialises concurrent creates). */
export async function nextTicketNumber(tx: Tx, tenantId: string): Promise<number> {
  const result = await tx.execute(sql`
    insert into ticket_counter (tenant_id, next_number) values (${tenantId}, 1002)
    on conflict (tenant_id) do update set next_number = ticket_counter.next_number + 1
    returning next_number - 1 as number`);
  return Number(rowsOf<{ number: number }>(result)[0]!.number);
}

export function rowsOf<T>(result: unknown): T[] {
  // postgres.js returns an array; PGlite returns { rows }.
  return Array.isArray(result) ? (result as T[]) : ((result as { rows: T[] }).rows ?? []);
}
