// SLA on the database: due times kept in `ticket_sla`, and the sweep job that raises `sla-at-risk`
// and `sla-breached` exactly once per ticket and clock (the `sla_notice` primary key decides, so any
// number of workers may sweep at once).
import { and, asc, eq, inArray, isNull, lte, ne, notInArray, or } from 'drizzle-orm';
import type { Actor } from '../context/actor';
import { appendTicketEvent } from '../conversations/timeline';
import type { Database, Tx } from '../db/database';
import { type SlaClock, type SlaNoticeKind, slaNotice, ticketSla } from '../db/schema/conversations';
import type { TicketStatus } from '../db/schema/enums';
import { tenant } from '../db/schema/tenants';
import { type Ticket, ticket, ticketEvent } from '../db/schema/tickets';
import { type BusinessCalendar, businessCalendarSchema } from './business-calendar';
import { computeDueTimes, type StatusChange, slaState } from './due-times';
import { type SlaPolicy, slaPolicySchema } from './sla-policy';

export interface SlaSettings {
  policy: SlaPolicy;
  calendar: BusinessCalendar;
}

const weekday = [{ start: '08:00', end: '18:00' }];

/** Used when a tenant configured nothing (or something invalid): 8–18 Mon–Fri, UTC. */
export const defaultSlaSettings: SlaSettings = {
  policy: slaPolicySchema.parse({
    targets: [
      { firstResponseMinutes: 240, resolutionMinutes: 2400 },
      { priority: 'urgent', firstResponseMinutes: 30, resolutionMinutes: 480 },
      { priority: 'high', firstResponseMinutes: 120, resolutionMinutes: 1200 },
    ],
    atRiskMinutes: 60,
  }),
  calendar: businessCalendarSchema.parse({
    timeZone: 'UTC',
    weekly: { mon: weekday, tue: weekday, wed: weekday, thu: weekday, fri: weekday },
  }),
};

/** `tenant.settings.sla = { policy, calendar }`; each part falls back to the default on its own. */
export function slaSettingsOf(tenantSettings: Record<string, unknown> | null | undefined): SlaSettings {
  const raw = (tenantSettings?.sla ?? {}) as { policy?: unknown; calendar?: unknown };
  const policy = slaPolicySchema.safeParse(raw.policy);
  const calendar = businessCalendarSchema.safeParse(raw.calendar);
  return {
    policy: policy.success ? policy.data : defaultSlaSettings.policy,
    calendar: calendar.success ? calendar.data : defaultSlaSettings.calendar,
  };
}

const closedStatuses: TicketStatus[] = ['resolved', 'closed'];

/** Recompute and store a ticket's due times from its status history (pauses while pending-*). */
export async function refreshTicketSla(tx: Tx, row: Ticket, settings: SlaSettings, now: Date) {
  const changes = await tx
    .select({ data: ticketEvent.data, at: ticketEvent.createdAt })
    .from(ticketEvent)
    .where(and(eq(ticketEvent.ticketId, row.id), eq(ticketEvent.type, 'status-changed')))
    .orderBy(asc(ticketEvent.seq));
  const history: StatusChange[] = [{ status: 'new', at: row.createdAt }];
  for (const c of changes) {
    const to = (c.data as { to?: TicketStatus }).to;
    if (to) history.push({ status: to, at: c.at });
  }
  const due = computeDueTimes(row, settings.policy, settings.calendar, history, now);
  const values = {
    ticketId: row.id,
    tenantId: row.tenantId,
    firstResponseDueAt: due.firstResponseDueAt,
    resolutionDueAt: due.resolutionDueAt,
    paused: due.paused,
    ticketVersion: row.version,
    computedAt: now,
  };
  await tx
    .insert(ticketSla)
    .values(values)
    .onConflictDoUpdate({ target: ticketSla.ticketId, set: { ...values, ticketId: undefined } });
  return due;
}

export interface SlaNotification {
  tenantId: string;
  ticketId: string;
  ticketNumber: number;
  clock: SlaClock;
  kind: SlaNoticeKind;
  dueAt: string;
  raisedAt: string;
}

/** Delivers a raised notice (e.g. a signed webhook); failures are counted, never retried here. */
export interface SlaNotifier {
  notify(notification: SlaNotification): Promise<void>;
}

export interface SlaSweepResult {
  recomputed: number;
  raised: SlaNotification[];
  notifyFailures: number;
}

const systemActor = (tenantId: string): Actor => ({
  tenantId,
  userId: null,
  kind: 'system',
  roles: [],
  label: 'sla-sweep',
});

/**
 * One sweep: refresh stale due times, then raise due notices. Safe to run concurrently: a notice is
 * raised by whichever worker inserts its `sla_notice` row; the other's insert does nothing.
 */
export async function runSlaSweep(
  database: Database,
  now: Date,
  options: { notifier?: SlaNotifier; batchSize?: number; tenantId?: string } = {},
): Promise<SlaSweepResult> {
  const batch = options.batchSize ?? 500;
  const tenantFilter = options.tenantId ? [eq(ticket.tenantId, options.tenantId)] : [];
  const result: SlaSweepResult = { recomputed: 0, raised: [], notifyFailures: 0 };

  // 1. Due times of open tickets whose row changed since they were computed (or never were).
  const stale = await database.db
    .select({ ticket, settings: tenant.settings })
    .from(ticket)
    .innerJoin(tenant, eq(tenant.id, ticket.tenantId))
    .leftJoin(ticketSla, eq(ticketSla.ticketId, ticket.id))
    .where(
      and(
        notInArray(ticket.status, closedStatuses),
        or(isNull(ticketSla.ticketId), ne(ticketSla.ticketVersion, ticket.version)),
        ...tenantFilter,
      ),
    )
    .limit(batch);
  for (const { ticket: row, settings } of stale) {
    await database.db.transaction((tx) => refreshTicketSla(tx, row, slaSettingsOf(settings), now));
    result.recomputed++;
  }

  // 2. Candidates: open, running clocks whose due time is near (the exact at-risk window is per tenant).
  const horizon = new Date(now.getTime() + 7 * 24 * 60 * 60_000);
  const candidates = await database.db
    .select({
      ticketId: ticket.id,
      tenantId: ticket.tenantId,
      number: ticket.number,
      firstResponseAt: ticket.firstResponseAt,
      firstResponseDueAt: ticketSla.firstResponseDueAt,
      resolutionDueAt: ticketSla.resolutionDueAt,
      settings: tenant.settings,
    })
    .from(ticketSla)
    .innerJoin(ticket, eq(ticket.id, ticketSla.ticketId))
    .innerJoin(tenant, eq(tenant.id, ticket.tenantId))
    .where(
      and(
        notInArray(ticket.status, closedStatuses),
        eq(ticketSla.paused, false),
        or(lte(ticketSla.firstResponseDueAt, horizon), lte(ticketSla.resolutionDueAt, horizon)),
        ...tenantFilter,
      ),
    )
    .limit(batch);

  for (const c of candidates) {
    const { policy } = slaSettingsOf(c.settings);
    const clocks: [SlaClock, Date | null][] = [
      ['first-response', c.firstResponseAt ? null : c.firstResponseDueAt],
      ['resolution', c.resolutionDueAt],
    ];
    for (const [clock, dueAt] of clocks) {
      const state = slaState(dueAt, now, policy.atRiskMinutes);
      if (state === 'ok' || !dueAt) continue;
      const kind: SlaNoticeKind = state;
      const raised = await database.db.transaction(async (tx) => {
        const inserted = await tx
          .insert(slaNotice)
          .values({ ticketId: c.ticketId, clock, kind, tenantId: c.tenantId, dueAt, raisedAt: now })
          .onConflictDoNothing()
          .returning({ ticketId: slaNotice.ticketId });
        if (inserted.length === 0) return false;
        await appendTicketEvent(
          tx,
          systemActor(c.tenantId),
          c.ticketId,
          kind === 'at-risk' ? 'sla-at-risk' : 'sla-breached',
          now,
          {
            data: { clock, dueAt: dueAt.toISOString() },
          },
        );
        return true;
      });
      if (!raised) continue;
      const notification: SlaNotification = {
        tenantId: c.tenantId,
        ticketId: c.ticketId,
        ticketNumber: c.number,
        clock,
        kind,
        dueAt: dueAt.toISOString(),
        raisedAt: now.toISOString(),
      };
      result.raised.push(notification);
      if (options.notifier) {
        await options.notifier.notify(notification).catch(() => {
          result.notifyFailures++;
        });
      }
    }
  }
  return result;
}

/** Due times of tickets, for views (`GET …/sla`). */
export async function ticketSlaOf(database: Database, tenantId: string, ticketIds: readonly string[]) {
  if (ticketIds.length === 0) return [];
  return database.db
    .select()
    .from(ticketSla)
    .where(and(eq(ticketSla.tenantId, tenantId), inArray(ticketSla.ticketId, [...ticketIds])));
}

/** Webhook notifier: POSTs the notice as JSON, signed like our inbound webhooks (`t=…,v1=…`). */
export function webhookSlaNotifier(options: {
  url: string;
  sign: (rawBody: string, timestampSeconds: number) => string;
  fetch?: typeof fetch;
  now?: () => Date;
}): SlaNotifier {
  const doFetch = options.fetch ?? fetch;
  return {
    async notify(notification) {
      // Ids, numbers and times only: no PHI leaves in a notice (HIPAA-07).
      const body = JSON.stringify({ type: `sla.${notification.kind}`, ...notification });
      const ts = Math.floor((options.now?.() ?? new Date()).getTime() / 1000);
      const res = await doFetch(options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-fhirdesk-signature': options.sign(body, ts) },
        body,
      });
      if (!res.ok) throw new Error(`SLA webhook answered ${res.status}`);
    },
  };
}
