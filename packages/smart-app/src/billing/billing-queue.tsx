// The billing work queue (`#/billing`, issue 5): deadline countdowns, amounts, payer, stage, reason and
// assignee; filters kept in the URL hash (codes and ids only); bulk assignment; CSV export.
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { type Api, ApiError } from '../api';
import { date, label, money } from '../format';
import {
  apiQuery,
  countdown,
  DEADLINE_WINDOWS,
  type DeadlineWindow,
  isAmount,
  parseQueueHash,
  type QueueFilters,
  queueHash,
  REASONS,
  STAGES,
} from './queue-query';
import type { DisputePage, FullDisputeView, StaffUser } from './types';

const WINDOW_TEXT: Record<DeadlineWindow, string> = {
  overdue: 'Overdue',
  '7d': 'Due within 7 days',
  '30d': 'Due within 30 days',
};

export function BillingQueue(props: { api: Api; onError: (e: unknown) => void }) {
  const { api } = props;
  const [filters, setFilters] = useState<QueueFilters>(() => parseQueueHash(location.hash));
  const [rows, setRows] = useState<FullDisputeView[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [users, setUsers] = useState<StaffUser[]>([]);
  const [payers, setPayers] = useState<Map<string, string>>(new Map());
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [assignTo, setAssignTo] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [amounts, setAmounts] = useState({ min: filters.min ?? '', max: filters.max ?? '' });

  const fail = (e: unknown, fallback: string) => {
    props.onError(e);
    setError(e instanceof ApiError ? e.message : fallback);
  };

  // Filters changed quickly send several requests; only the newest answer may render (no stale order).
  const latest = useRef(0);
  const load = useCallback(
    async (cursor?: string) => {
      const request = ++latest.current;
      try {
        setError(null);
        const q = apiQuery(filters, new Date());
        q.set('limit', '100');
        if (cursor) q.set('cursor', cursor);
        const page = await api.get<DisputePage>(`/api/v1/disputes?${q}`);
        if (request !== latest.current) return;
        const items = page.items.filter((i): i is FullDisputeView => i.view === 'full');
        setRows((prev) => (cursor && prev ? [...prev, ...items] : items));
        setNext(page.nextCursor);
        setPayers((prev) => {
          const known = new Map(prev);
          for (const r of items) if (r.payerId) known.set(r.payerId, r.payerName ?? r.payerId);
          return known;
        });
      } catch (e) {
        fail(e, 'The queue could not be loaded. Try again.');
      }
    },
    [api, filters],
  );

  useEffect(() => {
    // replaceState: the hash records the filters without a hashchange (and without a history entry each).
    history.replaceState(null, '', queueHash(filters));
    setSelected(new Set());
    void load();
  }, [load]);

  useEffect(() => {
    api
      .get<{ items: StaffUser[] }>('/api/v1/users')
      .then((r) => setUsers(r.items.filter((u) => u.active)))
      .catch((e: unknown) => props.onError(e));
  }, [api]);

  const userName = useMemo(() => new Map(users.map((u) => [u.id, u.displayName])), [users]);
  const set = (patch: Partial<QueueFilters>) => setFilters((f) => clean({ ...f, ...patch }));

  const applyAmounts = (e: Event) => {
    e.preventDefault();
    const bad = [amounts.min, amounts.max].some((v) => v !== '' && !isAmount(v));
    if (bad) {
      setError('Amounts are numbers with up to two decimals, e.g. 120.50.');
      return;
    }
    set({ min: amounts.min || undefined, max: amounts.max || undefined });
  };

  const exportCsv = async () => {
    try {
      setError(null);
      const blob = await api.blob(`/api/v1/disputes/export.csv?${apiQuery(filters, new Date())}`, 'text/csv');
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = 'disputes.csv';
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    } catch (e) {
      fail(e, 'The export failed. Try again.');
    }
  };

  const assign = async (e: Event) => {
    e.preventDefault();
    try {
      setError(null);
      const ticketIds = [...selected];
      await api.post('/api/v1/disputes/assignment', { ticketIds, assigneeId: assignTo || null });
      const who = assignTo ? (userName.get(assignTo) ?? 'the selected user') : 'nobody';
      setNotice(`${ticketIds.length} dispute${ticketIds.length === 1 ? '' : 's'} assigned to ${who}.`);
      setSelected(new Set());
      await load();
    } catch (err) {
      fail(err, 'The disputes were not assigned.');
    }
  };

  const toggle = (id: string) =>
    setSelected((s) => {
      const n = new Set(s);
      if (n.has(id)) n.delete(id);
      else n.add(id);
      return n;
    });
  const allSelected = rows !== null && rows.length > 0 && rows.every((r) => selected.has(r.ticketId));

  return (
    <main class="billing">
      <h1>Billing queue</h1>
      <form class="queue-filters" aria-label="Filters" onSubmit={applyAmounts}>
        <div>
          <label for="bq-stage">Stage</label>
          <select id="bq-stage" value={filters.stage ?? ''} onChange={(e) => set({ stage: pickStage(e) })}>
            <option value="">Any stage</option>
            {STAGES.map((s) => (
              <option value={s} key={s}>
                {label(s)}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="bq-payer">Payer</label>
          <select
            id="bq-payer"
            value={filters.payer ?? ''}
            onChange={(e) => set({ payer: e.currentTarget.value || undefined })}
          >
            <option value="">Any payer</option>
            {[...payers.entries()].map(([id, name]) => (
              <option value={id} key={id}>
                {name}
              </option>
            ))}
            {filters.payer && !payers.has(filters.payer) ? (
              <option value={filters.payer}>{filters.payer}</option>
            ) : null}
          </select>
        </div>
        <div>
          <label for="bq-reason">Reason</label>
          <select id="bq-reason" value={filters.reason ?? ''} onChange={(e) => set({ reason: pickReason(e) })}>
            <option value="">Any reason</option>
            {REASONS.map((r) => (
              <option value={r} key={r}>
                {label(r)}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="bq-due">Appeal deadline</label>
          <select id="bq-due" value={filters.due ?? ''} onChange={(e) => set({ due: pickWindow(e) })}>
            <option value="">Any deadline</option>
            {DEADLINE_WINDOWS.map((w) => (
              <option value={w} key={w}>
                {WINDOW_TEXT[w]}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="bq-assignee">Assignee</label>
          <select
            id="bq-assignee"
            value={filters.assignee ?? ''}
            onChange={(e) => set({ assignee: e.currentTarget.value || undefined })}
          >
            <option value="">Anyone</option>
            {users.map((u) => (
              <option value={u.id} key={u.id}>
                {u.displayName}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="bq-sort">Sort by</label>
          <select
            id="bq-sort"
            value={filters.sort}
            onChange={(e) => set({ sort: e.currentTarget.value === 'amount' ? 'amount' : 'deadline' })}
          >
            <option value="deadline">Deadline (soonest first)</option>
            <option value="amount">Amount (largest first)</option>
          </select>
        </div>
        <div>
          <label for="bq-min">Amount from</label>
          <input
            id="bq-min"
            inputMode="decimal"
            value={amounts.min}
            onInput={(e) => setAmounts((a) => ({ ...a, min: e.currentTarget.value.trim() }))}
          />
        </div>
        <div>
          <label for="bq-max">Amount to</label>
          <input
            id="bq-max"
            inputMode="decimal"
            value={amounts.max}
            onInput={(e) => setAmounts((a) => ({ ...a, max: e.currentTarget.value.trim() }))}
          />
        </div>
        <div class="queue-filter-actions">
          <button type="submit">Apply amounts</button>
          <button
            type="button"
            class="secondary"
            onClick={() => {
              setAmounts({ min: '', max: '' });
              setFilters({ sort: filters.sort });
            }}
          >
            Clear filters
          </button>
        </div>
      </form>
      {error ? (
        <p role="alert" class="error">
          {error}
        </p>
      ) : null}
      <p role="status" class="notice">
        {notice ?? ''}
      </p>
      <form class="queue-actions" aria-label="Bulk actions" onSubmit={assign}>
        <label for="bq-assign-to">Assign selected to</label>
        <select id="bq-assign-to" value={assignTo} onChange={(e) => setAssignTo(e.currentTarget.value)}>
          <option value="">Nobody (unassign)</option>
          {users.map((u) => (
            <option value={u.id} key={u.id}>
              {u.displayName}
            </option>
          ))}
        </select>
        <button type="submit" disabled={selected.size === 0}>
          Assign selected ({selected.size})
        </button>
        <button type="button" class="secondary" onClick={exportCsv}>
          Export CSV
        </button>
      </form>
      {rows === null ? (
        <p aria-busy="true">Loading the queue…</p>
      ) : rows.length === 0 ? (
        <p>No disputes match these filters.</p>
      ) : (
        <div class="table-wrap">
          <table class="queue">
            <caption class="visually-hidden">Claim disputes</caption>
            <thead>
              <tr>
                <th scope="col">
                  <input
                    type="checkbox"
                    aria-label="Select all disputes shown"
                    checked={allSelected}
                    onChange={() => setSelected(allSelected ? new Set() : new Set(rows.map((r) => r.ticketId)))}
                  />
                </th>
                <th scope="col">Ticket</th>
                <th scope="col" aria-sort={filters.sort === 'deadline' ? 'ascending' : 'none'}>
                  Deadline
                </th>
                <th scope="col" aria-sort={filters.sort === 'amount' ? 'descending' : 'none'}>
                  Amount
                </th>
                <th scope="col">Payer</th>
                <th scope="col">Stage</th>
                <th scope="col">Reason</th>
                <th scope="col">Assignee</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <QueueRow
                  key={r.ticketId}
                  row={r}
                  selected={selected.has(r.ticketId)}
                  onToggle={() => toggle(r.ticketId)}
                  assignee={r.assigneeId ? (userName.get(r.assigneeId) ?? 'Assigned') : 'Unassigned'}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {next ? (
        <button type="button" class="secondary" onClick={() => void load(next)}>
          Load more
        </button>
      ) : null}
    </main>
  );
}

function QueueRow(props: { row: FullDisputeView; selected: boolean; onToggle: () => void; assignee: string }) {
  const { row } = props;
  const d = row.appealDeadline;
  const overdue = d?.state === 'missed';
  return (
    <tr class={`dispute-row${overdue ? ' overdue' : ''}`} data-ticket={row.ticketId}>
      <td>
        <input
          type="checkbox"
          aria-label={`Select ${row.displayNumber}`}
          checked={props.selected}
          onChange={props.onToggle}
        />
      </td>
      <td>
        <a href={`#/tickets/${row.ticketId}`}>{row.displayNumber}</a>
        <span class="sub">{label(row.ticketStatus)}</span>
      </td>
      <td class="deadline">
        {d ? (
          <>
            <span class={`countdown ${d.state}`}>
              {overdue ? <span aria-hidden="true">⚠ </span> : null}
              {countdown(d.daysRemaining, d.state)}
            </span>
            <span class="sub">{date(d.deadline)}</span>
          </>
        ) : (
          'No deadline'
        )}
      </td>
      <td class="amount">{money(row.disputedAmount)}</td>
      <td class="payer">{row.payerName ?? row.payerId ?? '—'}</td>
      <td class="stage">{label(row.stage)}</td>
      <td class="reason">{label(row.reasonCategory)}</td>
      <td class="assignee">{props.assignee}</td>
    </tr>
  );
}

function clean(f: QueueFilters): QueueFilters {
  const out = { ...f };
  for (const k of Object.keys(out) as (keyof QueueFilters)[]) if (out[k] === undefined) delete out[k];
  return out;
}

const value = (e: Event) => (e.currentTarget as HTMLSelectElement).value;
const pickStage = (e: Event) => STAGES.find((s) => s === value(e));
const pickReason = (e: Event) => REASONS.find((s) => s === value(e));
const pickWindow = (e: Event) => DEADLINE_WINDOWS.find((s) => s === value(e));
