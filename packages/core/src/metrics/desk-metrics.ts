// Desk metrics (issue #6), computed in SQL over the cohort of tickets created in [from, to) —
// never by loading tickets into memory. Definitions: docs/metrics.md.
import { type SQL, sql } from 'drizzle-orm';
import type { Database } from '../db/database';
import { ValidationError } from '../errors';

export interface MetricsQuery {
  tenantId: string;
  from: Date;
  to: Date;
  queue?: string | undefined;
  /** Assignee user id. */
  agent?: string | undefined;
}

export interface DurationStats {
  count: number;
  medianSeconds: number | null;
  p90Seconds: number | null;
}

export interface DeskMetrics {
  from: string;
  to: string;
  tickets: number;
  volumeByChannel: Record<string, number>;
  volumeByCategory: Record<string, number>;
  /** Cohort tickets per current queue, for the per-queue view. */
  volumeByQueue: Record<string, number>;
  /** Cohort tickets per current assignee (user id; `unassigned` for none), for the per-agent view. */
  volumeByAgent: Record<string, number>;
  firstContactResolution: { resolved: number; firstContact: number; rate: number | null };
  timeToFirstResponse: DurationStats;
  timeToResolution: DurationStats;
  sla: { tracked: number; breached: number; compliance: number | null };
  reopen: { resolved: number; reopened: number; rate: number | null };
  routing: { triaged: number; corrected: number; accuracy: number | null };
  escalations: { total: number; writtenBack: number; queued: number };
  csat: { answers: number; average: number | null; satisfied: number; satisfactionRate: number | null };
  nps: { answers: number; promoters: number; detractors: number; score: number | null };
}

const ratio = (n: number, d: number) => (d === 0 ? null : n / d);
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

export async function deskMetrics(database: Database, q: MetricsQuery): Promise<DeskMetrics> {
  if (!(q.from < q.to)) throw new ValidationError('Invalid period', [{ field: 'from', message: 'must be before to' }]);
  const filters: SQL[] = [
    sql`t.tenant_id = ${q.tenantId}`,
    sql`t.created_at >= ${q.from.toISOString()}::timestamptz`,
    sql`t.created_at < ${q.to.toISOString()}::timestamptz`,
  ];
  if (q.queue) filters.push(sql`t.queue = ${q.queue}`);
  if (q.agent) filters.push(sql`t.assignee_id = ${q.agent}::uuid`);
  const cohort = sql`cohort as (select t.* from ticket t where ${sql.join(filters, sql` and `)})`;

  const [main] = await database.query<Record<string, unknown>>(sql`
    with ${cohort},
    -- The CSAT invitation is an outbound message but not a reply: it does not spoil first contact.
    per_ticket as (
      select c.id, c.status, c.resolved_at, c.first_response_at, c.created_at,
        (select count(*) from ticket_event e where e.ticket_id = c.id and e.type = 'message'
           and e.direction = 'outbound' and (e.data->'survey') is null) as outbound,
        exists (select 1 from ticket_event e where e.ticket_id = c.id and e.type = 'status-changed'
           and (e.data->>'reopened') = 'true') as reopened,
        exists (select 1 from ticket_event e where e.ticket_id = c.id and e.type = 'status-changed'
           and (e.data->>'to') = 'resolved') or c.resolved_at is not null as ever_resolved
      from cohort c
    )
    select
      (select count(*) from cohort) as tickets,
      (select count(*) from per_ticket where ever_resolved) as resolved,
      (select count(*) from per_ticket where ever_resolved and not reopened and outbound <= 1) as first_contact,
      (select count(*) from per_ticket where reopened) as reopened,
      (select count(*) from cohort where first_response_at is not null) as frt_n,
      (select percentile_cont(0.5) within group (order by extract(epoch from first_response_at - created_at))
         from cohort where first_response_at is not null) as frt_p50,
      (select percentile_cont(0.9) within group (order by extract(epoch from first_response_at - created_at))
         from cohort where first_response_at is not null) as frt_p90,
      (select count(*) from cohort where resolved_at is not null) as ttr_n,
      (select percentile_cont(0.5) within group (order by extract(epoch from resolved_at - created_at))
         from cohort where resolved_at is not null) as ttr_p50,
      (select percentile_cont(0.9) within group (order by extract(epoch from resolved_at - created_at))
         from cohort where resolved_at is not null) as ttr_p90,
      (select count(*) from ticket_sla s join cohort c on c.id = s.ticket_id) as sla_tracked,
      (select count(distinct n.ticket_id) from sla_notice n join cohort c on c.id = n.ticket_id
         where n.kind = 'breached') as sla_breached,
      (select count(*) from ticket_triage r join cohort c on c.id = r.ticket_id) as triaged,
      (select count(*) from ticket_triage r join cohort c on c.id = r.ticket_id
         where r.corrected_at is not null
            or exists (select 1 from ticket_event e where e.ticket_id = r.ticket_id and e.type = 'field-changed'
                 and e.actor_kind = 'user' and (e.data->'changes' ? 'category' or e.data->'changes' ? 'queue'))
      ) as corrected,
      (select count(*) from escalation x join cohort c on c.id = x.ticket_id) as esc_total,
      (select count(*) from escalation x join cohort c on c.id = x.ticket_id where x.status = 'written-back') as esc_done,
      (select count(*) from escalation x join cohort c on c.id = x.ticket_id where x.status = 'queued') as esc_queued,
      (select count(*) from survey v join cohort c on c.id = v.ticket_id where v.rating is not null) as csat_n,
      (select avg(v.rating) from survey v join cohort c on c.id = v.ticket_id where v.rating is not null) as csat_avg,
      (select count(*) from survey v join cohort c on c.id = v.ticket_id where v.rating >= 4) as csat_sat,
      (select count(*) from survey v join cohort c on c.id = v.ticket_id where v.nps is not null) as nps_n,
      (select count(*) from survey v join cohort c on c.id = v.ticket_id where v.nps >= 9) as nps_pro,
      (select count(*) from survey v join cohort c on c.id = v.ticket_id where v.nps <= 6) as nps_det
  `);
  const byChannel = await database.query<{ key: string; n: number }>(
    sql`with ${cohort} select channel as key, count(*)::int as n from cohort group by channel order by channel`,
  );
  const byCategory = await database.query<{ key: string; n: number }>(
    sql`with ${cohort} select category as key, count(*)::int as n from cohort group by category order by category`,
  );
  const byQueue = await database.query<{ key: string; n: number }>(
    sql`with ${cohort} select queue as key, count(*)::int as n from cohort group by queue order by queue`,
  );
  const byAgent = await database.query<{ key: string; n: number }>(
    sql`with ${cohort} select coalesce(assignee_id::text, 'unassigned') as key, count(*)::int as n
        from cohort group by 1 order by 1`,
  );
  const m = main!;
  const n = (k: string) => Number(m[k] ?? 0);
  const avg = num(m.csat_avg);
  return {
    from: q.from.toISOString(),
    to: q.to.toISOString(),
    tickets: n('tickets'),
    volumeByChannel: Object.fromEntries(byChannel.map((r) => [r.key, Number(r.n)])),
    volumeByCategory: Object.fromEntries(byCategory.map((r) => [r.key, Number(r.n)])),
    volumeByQueue: Object.fromEntries(byQueue.map((r) => [r.key, Number(r.n)])),
    volumeByAgent: Object.fromEntries(byAgent.map((r) => [r.key, Number(r.n)])),
    firstContactResolution: {
      resolved: n('resolved'),
      firstContact: n('first_contact'),
      rate: ratio(n('first_contact'), n('resolved')),
    },
    timeToFirstResponse: { count: n('frt_n'), medianSeconds: num(m.frt_p50), p90Seconds: num(m.frt_p90) },
    timeToResolution: { count: n('ttr_n'), medianSeconds: num(m.ttr_p50), p90Seconds: num(m.ttr_p90) },
    sla: {
      tracked: n('sla_tracked'),
      breached: n('sla_breached'),
      compliance: ratio(n('sla_tracked') - n('sla_breached'), n('sla_tracked')),
    },
    reopen: { resolved: n('resolved'), reopened: n('reopened'), rate: ratio(n('reopened'), n('resolved')) },
    routing: {
      triaged: n('triaged'),
      corrected: n('corrected'),
      accuracy: ratio(n('triaged') - n('corrected'), n('triaged')),
    },
    escalations: { total: n('esc_total'), writtenBack: n('esc_done'), queued: n('esc_queued') },
    csat: {
      answers: n('csat_n'),
      average: avg,
      satisfied: n('csat_sat'),
      satisfactionRate: ratio(n('csat_sat'), n('csat_n')),
    },
    nps: {
      answers: n('nps_n'),
      promoters: n('nps_pro'),
      detractors: n('nps_det'),
      score: n('nps_n') === 0 ? null : (100 * (n('nps_pro') - n('nps_det'))) / n('nps_n'),
    },
  };
}
