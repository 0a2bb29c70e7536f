// Supervisor dashboard (`#/dashboard`, roles supervisor/admin): desk metrics of GET /api/v1/metrics
// for a period, narrowed to a queue or an agent. Aggregates only, no patient data (HIPAA-07).
import type { DeskMetrics, DurationStats } from '@fhirdesk/core';
import { useEffect, useState } from 'preact/hooks';
import { type Api, ApiError } from '../api';
import { label } from '../format';
import { BarChart, duration, percent } from './charts';
import { type DashboardView, dashboardHash, metricsQuery, PRESET_DAYS, parseDashboardHash, periodOf } from './period';

interface User {
  id: string;
  displayName: string;
}

const presetLabel = (days: number) => (days === 1 ? 'Today' : `Last ${days} days`);
const isoDay = (d: Date) => d.toISOString().slice(0, 10);

export function SupervisorDashboard(props: { api: Api; route: string; onError: (e: unknown) => void }) {
  const { api } = props;
  const view = parseDashboardHash(props.route) ?? parseDashboardHash('#/dashboard')!;
  const [metrics, setMetrics] = useState<DeskMetrics | null>(null);
  const [queues, setQueues] = useState<string[]>([]);
  const [users, setUsers] = useState<User[]>([]);
  const [error, setError] = useState<string | null>(null);
  const query = metricsQuery(view);

  useEffect(() => {
    let live = true;
    setError(null);
    api
      .get<DeskMetrics>(`/api/v1/metrics?${query}`)
      .then((m) => live && setMetrics(m))
      .catch((e: unknown) => {
        props.onError(e);
        if (live) setError(e instanceof ApiError ? e.message : 'The metrics could not be loaded.');
      });
    return () => {
      live = false;
    };
  }, [api, query]);

  // Filter choices: agents from the user list, queues from the unfiltered period's volume.
  const period = periodOf(view);
  const periodKey = `${period.from.toISOString()}|${period.to.toISOString()}`;
  useEffect(() => {
    void api
      .get<{ items: User[] }>('/api/v1/users')
      .then((r) => setUsers(r.items))
      .catch(() => setUsers([]));
  }, [api]);
  useEffect(() => {
    const q = new URLSearchParams({ from: period.from.toISOString(), to: period.to.toISOString() });
    void api
      .get<DeskMetrics>(`/api/v1/metrics?${q.toString()}`)
      .then((m) => setQueues(Object.keys(m.volumeByQueue ?? {})))
      .catch(() => setQueues([]));
  }, [api, periodKey]);

  const go = (next: Partial<DashboardView>) => {
    location.hash = dashboardHash({ ...view, ...next });
  };
  const nameOf = (id: string) =>
    id === 'unassigned' ? 'Unassigned' : (users.find((u) => u.id === id)?.displayName ?? 'Former user');
  const lastDay = isoDay(new Date(period.to.getTime() - 86_400_000));

  return (
    <main class="dashboard">
      <h1>Supervisor dashboard</h1>
      <form class="dash-filters" onSubmit={(e) => e.preventDefault()} aria-label="Dashboard filters">
        <div>
          <label for="d-period">Period</label>
          <select
            id="d-period"
            value={view.from ? 'custom' : String(view.days)}
            onChange={(e) => {
              const v = e.currentTarget.value;
              if (v === 'custom') go({ from: isoDay(period.from), to: lastDay });
              else go({ days: Number(v), from: null, to: null });
            }}
          >
            {PRESET_DAYS.map((d) => (
              <option value={String(d)} key={d}>
                {presetLabel(d)}
              </option>
            ))}
            <option value="custom">Custom dates</option>
          </select>
        </div>
        {view.from ? (
          <>
            <div>
              <label for="d-from">From</label>
              <input
                id="d-from"
                type="date"
                value={view.from}
                max={view.to ?? undefined}
                onChange={(e) => e.currentTarget.value && go({ from: e.currentTarget.value })}
              />
            </div>
            <div>
              <label for="d-to">To</label>
              <input
                id="d-to"
                type="date"
                value={view.to ?? ''}
                min={view.from}
                onChange={(e) => e.currentTarget.value && go({ to: e.currentTarget.value })}
              />
            </div>
          </>
        ) : null}
        <div>
          <label for="d-queue">Queue</label>
          <select id="d-queue" value={view.queue ?? ''} onChange={(e) => go({ queue: e.currentTarget.value || null })}>
            <option value="">All queues</option>
            {[...new Set([...queues, ...(view.queue ? [view.queue] : [])])].map((q) => (
              <option value={q} key={q}>
                {label(q)}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="d-agent">Agent</label>
          <select id="d-agent" value={view.agent ?? ''} onChange={(e) => go({ agent: e.currentTarget.value || null })}>
            <option value="">All agents</option>
            {users.map((u) => (
              <option value={u.id} key={u.id}>
                {u.displayName}
              </option>
            ))}
          </select>
        </div>
      </form>
      <p class="dash-period" aria-live="polite">
        {isoDay(period.from)} to {lastDay} (UTC){view.queue ? ` · queue ${label(view.queue)}` : ''}
        {view.agent ? ` · agent ${nameOf(view.agent)}` : ''}
        {metrics ? (
          <>
            {' '}
            · <span id="dash-tickets">{metrics.tickets}</span> tickets
          </>
        ) : null}
      </p>
      {error ? <p role="alert">{error}</p> : null}
      {!metrics ? <p aria-busy="true">Loading the metrics…</p> : <Charts metrics={metrics} nameOf={nameOf} />}
    </main>
  );
}

function Charts(props: { metrics: DeskMetrics; nameOf: (id: string) => string }) {
  const m = props.metrics;
  const counts = (r: Record<string, number>, name: (k: string) => string = label) =>
    Object.entries(r).map(([k, v]) => ({ label: name(k), value: v }));
  const times = (d: DurationStats) => [
    { label: 'Median', value: d.medianSeconds, display: duration(d.medianSeconds) },
    { label: '90th percentile', value: d.p90Seconds, display: duration(d.p90Seconds) },
  ];
  const rate = (name: string, r: number | null, n: number, of: number) => ({
    label: name,
    value: r === null ? null : Math.round(r * 1000) / 10,
    display: r === null ? 'no data' : `${percent(r)} (${n} of ${of})`,
  });
  return (
    <div class="dash-grid">
      <BarChart id="chart-channel" title="Volume by channel" bars={counts(m.volumeByChannel)} />
      <BarChart id="chart-category" title="Volume by category" bars={counts(m.volumeByCategory)} />
      <BarChart id="chart-queue" title="Volume by queue" bars={counts(m.volumeByQueue ?? {})} />
      <BarChart id="chart-agent" title="Volume by agent" bars={counts(m.volumeByAgent ?? {}, props.nameOf)} />
      <BarChart
        id="chart-frt"
        title={`Time to first response (${m.timeToFirstResponse.count} answered)`}
        bars={times(m.timeToFirstResponse)}
      />
      <BarChart
        id="chart-ttr"
        title={`Time to resolution (${m.timeToResolution.count} resolved)`}
        bars={times(m.timeToResolution)}
      />
      <BarChart
        id="chart-rates"
        title="Quality rates (%)"
        max={100}
        bars={[
          rate('SLA compliance', m.sla.compliance, m.sla.tracked - m.sla.breached, m.sla.tracked),
          rate(
            'First-contact resolution',
            m.firstContactResolution.rate,
            m.firstContactResolution.firstContact,
            m.firstContactResolution.resolved,
          ),
          rate('Reopen rate', m.reopen.rate, m.reopen.reopened, m.reopen.resolved),
          rate('Routing accuracy', m.routing.accuracy, m.routing.triaged - m.routing.corrected, m.routing.triaged),
          rate('CSAT satisfied (4–5)', m.csat.satisfactionRate, m.csat.satisfied, m.csat.answers),
        ]}
      />
      <BarChart
        id="chart-escalations"
        title="Clinical escalations"
        bars={[
          { label: 'Total', value: m.escalations.total },
          { label: 'Written back (Task)', value: m.escalations.writtenBack },
          { label: 'Queued', value: m.escalations.queued },
        ]}
      />
      <BarChart
        id="chart-csat"
        title={`CSAT and NPS (${m.csat.answers} answers)`}
        bars={[
          {
            label: 'CSAT average (1–5)',
            value: m.csat.average,
            display: m.csat.average === null ? 'no data' : m.csat.average.toFixed(2),
          },
          { label: 'NPS promoters', value: m.nps.promoters },
          { label: 'NPS detractors', value: m.nps.detractors },
          {
            label: 'NPS score (−100…100)',
            value: m.nps.score,
            display: m.nps.score === null ? 'no data' : String(Math.round(m.nps.score)),
          },
        ]}
      />
    </div>
  );
}
