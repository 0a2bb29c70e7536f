// Automatic assignment when a ticket lands in a queue (issue #6): round-robin or least-loaded among
// the queue's available agents who speak the ticket's language. Runs inside the creating transaction,
// holding the queue's `queue_policy` row lock, so concurrent creates see each other's picks.
import { and, eq, sql } from 'drizzle-orm';
import { recordAudit } from '../audit/record';
import type { Actor } from '../context/actor';
import { appendTicketEvent } from '../conversations/timeline';
import type { Tx } from '../db/database';
import { rowsOf } from '../db/database';
import { type AssignmentStrategy, queuePolicy } from '../db/schema/routing';
import { type Ticket, ticket } from '../db/schema/tickets';

export interface Candidate {
  userId: string;
  /** Open (not resolved/closed) tickets assigned to the agent, counted in SQL. */
  open: number;
}

export type AssignmentOutcome =
  | { assigned: true; userId: string; strategy: Exclude<AssignmentStrategy, 'manual'>; languageMatched: boolean }
  | { assigned: false; reason: 'no-available-agent' | 'no-agent-speaks-language' };

/** Primary language subtag (`es-MX` → `es`), the level at which an agent and a patient understand each other. */
export const primaryLanguage = (tag: string): string => tag.split('-')[0]!.toLowerCase();

/** Round-robin: the first candidate after the previous pick in a stable (user id) order, wrapping around. */
export function nextInRotation(candidates: readonly Candidate[], lastUserId: string | null): Candidate | undefined {
  const sorted = [...candidates].sort((a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0));
  if (lastUserId === null) return sorted[0];
  return sorted.find((c) => c.userId > lastUserId) ?? sorted[0];
}

/** Least-loaded: fewest open tickets; ties go to the rotation order so equal agents alternate. */
export function leastLoaded(candidates: readonly Candidate[], lastUserId: string | null): Candidate | undefined {
  if (candidates.length === 0) return undefined;
  const min = Math.min(...candidates.map((c) => c.open));
  return nextInRotation(
    candidates.filter((c) => c.open === min),
    lastUserId,
  );
}

async function candidatesOf(tx: Tx, tenantId: string, queue: string, language: string | null): Promise<Candidate[]> {
  const languageFilter = language
    ? sql`and exists (select 1 from unnest(u.languages) l where lower(split_part(l, '-', 1)) = ${primaryLanguage(language)})`
    : sql``;
  // Open counts use ticket_tenant_assignee_idx (tenant_id, assignee_id, …).
  const rows = rowsOf<{ user_id: string; open: number | string }>(
    await tx.execute(sql`
      select s.user_id, o.open
      from agent_skill s
      join app_user u on u.id = s.user_id and u.tenant_id = s.tenant_id
      cross join lateral (
        select count(*)::int as open from ticket t
        where t.tenant_id = s.tenant_id and t.assignee_id = s.user_id and t.status not in ('resolved', 'closed')
      ) o
      where s.tenant_id = ${tenantId} and s.available and u.active and ${queue} = any(s.queues)
        and (s.max_open is null or o.open < s.max_open)
        ${languageFilter}
      order by s.user_id`),
  );
  return rows.map((r) => ({ userId: r.user_id, open: Number(r.open) }));
}

/**
 * Picks and records an assignee for a ticket just created without one. Nothing happens for a queue
 * without a policy or with `manual`. The ticket row is updated in place (same transaction that
 * inserted it, so its version stays 1); the decision goes on the timeline as an `assigned` event.
 */
export async function autoAssign(tx: Tx, actor: Actor, row: Ticket, now: Date): Promise<AssignmentOutcome | null> {
  return assignByPolicy(tx, actor, row, now, {});
}

/**
 * A ticket moved to another queue (agent edit or routing correction): when its assignee does not serve the
 * new queue (`agent_skill.queues`), the new queue's strategy picks again, with the same language rules as at
 * creation, and the timeline's `assigned` event says why (`cause: 'queue-changed'`, the queues). When nobody
 * suitable is available the ticket is left unassigned in the new queue rather than with someone outside it.
 * An assignee who serves the new queue keeps the ticket; a queue without a policy (or `manual`) changes
 * nothing. Runs in the caller's transaction, after the ticket row was written (its version already moved).
 */
export async function reassignOnQueueChange(
  tx: Tx,
  actor: Actor,
  row: Ticket,
  previousQueue: string,
  now: Date,
): Promise<AssignmentOutcome | null> {
  if (row.queue === previousQueue || row.status === 'resolved' || row.status === 'closed') return null;
  if (row.assigneeId) {
    const member = rowsOf<{ ok: number }>(
      await tx.execute(sql`select 1 as ok from agent_skill
        where user_id = ${row.assigneeId} and tenant_id = ${row.tenantId} and ${row.queue} = any(queues)`),
    );
    if (member.length > 0) return null;
  }
  return assignByPolicy(tx, actor, row, now, { previousQueue });
}

async function assignByPolicy(
  tx: Tx,
  actor: Actor,
  row: Ticket,
  now: Date,
  context: { previousQueue?: string },
): Promise<AssignmentOutcome | null> {
  const [policy] = await tx
    .select()
    .from(queuePolicy)
    .where(and(eq(queuePolicy.tenantId, row.tenantId), eq(queuePolicy.queue, row.queue)))
    .for('update');
  if (!policy || policy.strategy === 'manual') return null;
  const strategy = policy.strategy;
  const from = row.assigneeId;
  const cause = context.previousQueue ? { cause: 'queue-changed', previousQueue: context.previousQueue } : {};

  const unassigned = async (reason: 'no-available-agent' | 'no-agent-speaks-language') => {
    // Left unassigned on purpose: the event keeps it visible why (the queue view lists it unassigned).
    if (from !== null) {
      await tx.update(ticket).set({ assigneeId: null }).where(eq(ticket.id, row.id));
      row.assigneeId = null;
    }
    await appendTicketEvent(tx, actor, row.id, 'assigned', now, {
      data: { from, to: null, rule: 'auto', strategy, queue: row.queue, language: row.language, reason, ...cause },
    });
    if (from !== null) await auditAssign(tx, actor, row, null, strategy, now);
    return { assigned: false as const, reason };
  };

  let candidates = await candidatesOf(tx, row.tenantId, row.queue, row.language);
  let languageMatched = row.language !== null;
  if (candidates.length === 0 && row.language !== null) {
    const anyone = policy.languageFallback ? await candidatesOf(tx, row.tenantId, row.queue, null) : [];
    if (anyone.length === 0)
      return unassigned(policy.languageFallback ? 'no-available-agent' : 'no-agent-speaks-language');
    candidates = anyone;
    languageMatched = false;
  }
  const pick =
    strategy === 'round-robin'
      ? nextInRotation(candidates, policy.lastUserId)
      : leastLoaded(candidates, policy.lastUserId);
  if (!pick) return unassigned('no-available-agent');
  await tx
    .update(queuePolicy)
    .set({ lastUserId: pick.userId })
    .where(and(eq(queuePolicy.tenantId, row.tenantId), eq(queuePolicy.queue, row.queue)));
  await tx.update(ticket).set({ assigneeId: pick.userId }).where(eq(ticket.id, row.id));
  row.assigneeId = pick.userId;
  await appendTicketEvent(tx, actor, row.id, 'assigned', now, {
    data: {
      from,
      to: pick.userId,
      rule: 'auto',
      strategy,
      queue: row.queue,
      language: row.language,
      languageMatched,
      openTickets: pick.open,
      ...cause,
    },
  });
  await auditAssign(tx, actor, row, pick.userId, strategy, now);
  return { assigned: true, userId: pick.userId, strategy, languageMatched };
}

function auditAssign(
  tx: Tx,
  actor: Actor,
  row: Ticket,
  assigneeId: string | null,
  strategy: AssignmentStrategy,
  now: Date,
) {
  return recordAudit(
    tx,
    actor,
    {
      action: 'ticket.assign',
      fhirAction: 'U',
      entityType: 'Ticket',
      entityId: row.id,
      patientRef: row.patientRef,
      detail: { assigneeId, strategy },
    },
    now,
  );
}
