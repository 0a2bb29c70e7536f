// The dashboard's view state, kept in the hash so a reload or a shared link shows the same view. Only
// a period, a queue name and an agent's user id: nothing about patients (HIPAA-11).

export interface DashboardView {
  /** Last N days including today (UTC); ignored when `from`/`to` are set. */
  days: number;
  /** Custom period, inclusive calendar dates (YYYY-MM-DD, UTC). */
  from: string | null;
  to: string | null;
  queue: string | null;
  agent: string | null;
}

export const PRESET_DAYS = [1, 7, 30, 90] as const;
const isoDate = /^\d{4}-\d{2}-\d{2}$/;
const queueName = /^[a-z0-9][a-z0-9-]{0,63}$/;
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const defaultView: DashboardView = { days: 30, from: null, to: null, queue: null, agent: null };

/** `#/dashboard?days=7&queue=billing` → view; anything malformed falls back to the default. */
export function parseDashboardHash(hash: string): DashboardView | null {
  const m = /^#\/dashboard(?:\?(.*))?$/.exec(hash);
  if (!m) return null;
  const q = new URLSearchParams(m[1] ?? '');
  const days = Number(q.get('days'));
  const from = q.get('from');
  const to = q.get('to');
  const custom = from && to && isoDate.test(from) && isoDate.test(to) && from <= to;
  const queue = q.get('queue');
  const agent = q.get('agent');
  return {
    days: (PRESET_DAYS as readonly number[]).includes(days) ? days : defaultView.days,
    from: custom ? from : null,
    to: custom ? to : null,
    queue: queue && queueName.test(queue) ? queue : null,
    agent: agent && uuid.test(agent) ? agent : null,
  };
}

export function dashboardHash(view: DashboardView): string {
  const q = new URLSearchParams();
  if (view.from && view.to) {
    q.set('from', view.from);
    q.set('to', view.to);
  } else q.set('days', String(view.days));
  if (view.queue) q.set('queue', view.queue);
  if (view.agent) q.set('agent', view.agent);
  return `#/dashboard?${q.toString()}`;
}

const dayStart = (d: Date) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));

/** The `[from, to)` instants the metrics API gets: whole UTC days. */
export function periodOf(view: DashboardView, now: Date = new Date()): { from: Date; to: Date } {
  if (view.from && view.to) {
    const from = new Date(`${view.from}T00:00:00Z`);
    const to = new Date(`${view.to}T00:00:00Z`);
    return { from, to: new Date(to.getTime() + 86_400_000) };
  }
  const to = new Date(dayStart(now).getTime() + 86_400_000);
  return { from: new Date(to.getTime() - view.days * 86_400_000), to };
}

export function metricsQuery(view: DashboardView, now?: Date): string {
  const { from, to } = periodOf(view, now);
  const q = new URLSearchParams({ from: from.toISOString(), to: to.toISOString() });
  if (view.queue) q.set('queue', view.queue);
  if (view.agent) q.set('agent', view.agent);
  return q.toString();
}
