// The agent view: patient banner, coverage cards, claims table, the patient's tickets and a ticket page.
// Every FHIR string is rendered as text by Preact (escaped); narrative `text.div` is never used (SAL-82).
import type { ClaimRow, CoverageCard, PatientContext } from '@fhirdesk/core';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { type Api, ApiError, createApi, SessionEnded } from './api';
import { BillingQueue } from './billing/billing-queue';
import { amountFor, type DisputableRow, type DisputeDraft, draftFor } from './billing/dispute-draft';
import { DisputePanel } from './billing/dispute-panel';
import { canUseBillingQueue, REASONS } from './billing/queue-query';
import { EscalationPrompt } from './escalation-prompt';
import { age, date, label, money } from './format';
import { createIdleTimer, INPUT_EVENTS, renewSessionToken, shouldRenew } from './idle';
import { canRead } from './scopes';
import { type Session, saveSession } from './session';
import { SupervisorDashboard } from './supervisor/dashboard';

interface TicketLink {
  id: string;
  reference: string;
  resourceType: string;
  role: string;
  seenVersionId: string | null;
  seenLastUpdated: string | null;
}

interface Ticket {
  id: string;
  number: string;
  subject: string;
  description: string;
  category: string;
  channel: string;
  status: string;
  priority: string;
  assigneeId: string | null;
  createdAt: string;
  version: number;
  links: TicketLink[];
}

interface TicketEvent {
  id: string;
  seq: number;
  type: string;
  channel: string | null;
  direction: string | null;
  body: string | null;
  data: Record<string, unknown>;
  createdAt: string;
  /** Outbound replies on email/SMS/chat/portal: `sent` only once the transport accepted them. */
  delivery?: { status: string; lastError: string | null };
}

const STATUSES = ['new', 'open', 'pending-patient', 'pending-payer', 'escalated', 'resolved', 'closed'];
const CHANNELS = ['phone', 'chat', 'email', 'sms', 'portal', 'in-person'];

interface Draft {
  category: 'claim-dispute' | 'insurance';
  subject: string;
  links: { reference: string; role: string }[];
  /** "Dispute this claim": the ticket is opened with its dispute record (POST /api/v1/disputes). */
  dispute?: { row: DisputableRow; initial: DisputeDraft };
}

export function AgentApp(props: { initial: Session; renew: () => Promise<Session | null>; onEnd: () => void }) {
  const [session, setSession] = useState<Session>(props.initial);
  const [ended, setEnded] = useState<false | 'expired' | 'idle'>(false);
  const [route, setRoute] = useState(location.hash);
  const current = useRef(props.initial);
  const api = useMemo(() => {
    current.current = props.initial;
    return createApi({
      token: () => current.current.token,
      renew: async () => {
        const next = await props.renew();
        if (!next) return false;
        current.current = next;
        setSession(next);
        return true;
      },
    });
  }, [props.initial, props.renew]);

  // HIPAA-04: no input for the idle limit ends the session; input renews the server's short-lived token.
  useEffect(() => {
    const idleMs = props.initial.idleMs ?? 15 * 60_000;
    const timer = createIdleTimer({
      idleMs,
      onIdle: () => {
        props.onEnd();
        setEnded('idle');
      },
    });
    let renewing = false;
    const onInput = () => {
      timer.activity();
      const s = current.current;
      if (renewing || !shouldRenew(s.expiresAt, idleMs, Date.now())) return;
      renewing = true;
      void renewSessionToken(s.token)
        .then((renewed) => {
          if (!renewed) return;
          const next = { ...current.current, token: renewed.token, expiresAt: Date.now() + renewed.expiresIn * 1000 };
          current.current = next;
          saveSession(next);
          setSession(next);
        })
        .finally(() => {
          renewing = false;
        });
    };
    for (const type of INPUT_EVENTS) addEventListener(type, onInput, { capture: true, passive: true });
    return () => {
      timer.stop();
      for (const type of INPUT_EVENTS) removeEventListener(type, onInput, { capture: true });
    };
  }, [props.initial, props.onEnd]);

  useEffect(() => {
    const onHash = () => setRoute(location.hash);
    addEventListener('hashchange', onHash);
    // SAL-74: a session without a refresh token ends at its expiry, with a clear message.
    const timer = setInterval(() => {
      // The token expires only without input since its last renewal, so that is the inactivity logoff too.
      if (!session.canRefresh && Date.now() >= session.expiresAt) {
        props.onEnd();
        setEnded('idle');
      }
    }, 5000);
    return () => {
      removeEventListener('hashchange', onHash);
      clearInterval(timer);
    };
  }, [session]);

  const fail = useCallback(
    (error: unknown) => {
      if (error instanceof SessionEnded) {
        props.onEnd();
        setEnded('expired');
      }
    },
    [props.onEnd],
  );

  if (ended === 'idle') {
    return (
      <main class="message">
        <h1>Signed out after inactivity</h1>
        <p role="alert">Session ended: signed out after inactivity — launch the app again from the EHR.</p>
      </main>
    );
  }
  if (ended) {
    return (
      <main class="message">
        <h1>Session ended</h1>
        <p role="alert">Session ended — launch the app again from the EHR.</p>
      </main>
    );
  }
  const ticketId = /^#\/tickets\/([0-9a-f-]{36})$/.exec(route)?.[1];
  const supervises = session.user.roles.some((r) => r === 'supervisor' || r === 'admin');
  const bills = canUseBillingQueue(session.user.roles);
  const billing = /^#\/billing(\?|$)/.test(route) && bills;
  return (
    <>
      {supervises || bills ? (
        // One landmark for the sections this user's roles open; agents get none.
        <nav class="app-nav" aria-label="Sections">
          <a href="#/">Patient</a>
          {bills ? <a href="#/billing">Billing queue</a> : null}
          {supervises ? <a href="#/dashboard">Dashboard</a> : null}
        </nav>
      ) : null}
      {supervises && route.startsWith('#/dashboard') ? (
        <SupervisorDashboard api={api} route={route} onError={fail} />
      ) : ticketId ? (
        <TicketPage api={api} id={ticketId} onError={fail} />
      ) : billing ? (
        <BillingQueue api={api} onError={fail} />
      ) : (
        <PatientView api={api} session={session} onError={fail} />
      )}
    </>
  );
}

function PatientView(props: { api: Api; session: Session; onError: (e: unknown) => void }) {
  const { api, session } = props;
  const [context, setContext] = useState<PatientContext | null>(null);
  const [tickets, setTickets] = useState<Ticket[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [draft, setDraft] = useState<Draft | null>(null);
  const patientRef = `Patient/${session.patient}`;

  const load = useCallback(async () => {
    try {
      const [ctx, page] = await Promise.all([
        api.get<PatientContext>(`/api/v1/patients/${encodeURIComponent(session.patient)}/context`),
        api.get<{ items: Ticket[] }>(`/api/v1/tickets?patient=${encodeURIComponent(patientRef)}&limit=50`),
      ]);
      // The list endpoint omits links; read each of the patient's tickets for them (a handful per patient).
      const full = await Promise.all(page.items.slice(0, 20).map((t) => api.get<Ticket>(`/api/v1/tickets/${t.id}`)));
      setContext(ctx);
      setTickets(full);
    } catch (e) {
      props.onError(e);
      setError(e instanceof ApiError ? e.message : 'The patient could not be loaded. Try again.');
    }
  }, [api, session.patient]);
  useEffect(() => {
    void load();
  }, [load]);

  const coverageAllowed = canRead(session.scope, 'Coverage');
  const claimsAllowed =
    canRead(session.scope, 'Claim') ||
    canRead(session.scope, 'ExplanationOfBenefit') ||
    canRead(session.scope, 'ClaimResponse');

  if (error) return <p role="alert">{error}</p>;
  if (!context || !tickets) return <p aria-busy="true">Loading the patient…</p>;
  const versions = lastUpdatedIndex(context);
  return (
    <main>
      {session.needPatientBanner ? <Banner context={context} /> : null}
      {context.warnings.map((w) => (
        <p class="warning" role="status" key={w.code}>
          {w.message}
        </p>
      ))}
      <section aria-labelledby="cov-h">
        <h2 id="cov-h">Coverage</h2>
        {coverageAllowed ? (
          <Coverages
            items={context.coverages.items}
            onNew={(c) =>
              setDraft({
                category: 'insurance',
                subject: `Coverage question: ${c.payer.name ?? 'payer'}`,
                links: c.id ? [{ reference: `Coverage/${c.id}`, role: 'coverage' }] : [],
              })
            }
          />
        ) : (
          <p class="off">Coverage is switched off: the EHR did not grant access to Coverage.</p>
        )}
      </section>
      <section aria-labelledby="claims-h">
        <h2 id="claims-h">Claims</h2>
        {claimsAllowed ? (
          <Claims
            billing={(context as { view?: string }).view === 'billing'}
            rows={context.claims.items}
            onNew={(row) =>
              setDraft({
                category: 'claim-dispute',
                subject: `Claim dispute: ${row.type ?? 'claim'} ${date(row.created)}`,
                links: [{ reference: row.key, role: 'disputed-claim' }],
                dispute: { row, initial: draftFor(row) },
              })
            }
          />
        ) : (
          <p class="off">Claims are switched off: the EHR did not grant access to claims.</p>
        )}
      </section>
      {draft ? (
        <NewTicket
          api={api}
          draft={draft}
          patient={patientRef}
          onDone={async (created) => {
            setDraft(null);
            if (created) await load();
          }}
          onError={props.onError}
        />
      ) : null}
      <section aria-labelledby="tickets-h">
        <h2 id="tickets-h">Tickets</h2>
        <TicketList tickets={tickets} versions={versions} assignees={assigneeNames(context)} />
      </section>
    </main>
  );
}

function Banner(props: { context: PatientContext }) {
  const b = props.context.patient.banner;
  return (
    <section class="banner" aria-label="Patient">
      <h1 class="patient-name">{b.name ?? 'Unnamed patient'}</h1>
      <dl>
        <dt>Born</dt>
        <dd>{date(b.birthDate)}</dd>
        <dt>Gender</dt>
        <dd>{label(b.gender)}</dd>
        <dt>MRN</dt>
        <dd>{b.mrn?.value ?? '—'}</dd>
      </dl>
    </section>
  );
}

function Coverages(props: { items: CoverageCard[]; onNew: (c: CoverageCard) => void }) {
  if (props.items.length === 0) return <p>No coverage on file.</p>;
  return (
    <ul class="cards">
      {props.items.map((c, i) => (
        <li class="card coverage" key={c.id ?? i}>
          <h3 class="payer">{c.payer.name ?? 'Unknown payer'}</h3>
          <dl>
            <dt>Member ID</dt>
            <dd class="member-id">{c.memberId ?? '—'}</dd>
            <dt>Plan</dt>
            <dd>{c.plan?.name ?? c.plan?.value ?? c.type ?? '—'}</dd>
            <dt>Status</dt>
            <dd>
              {label(c.status)}
              {c.current === false ? ' (not current)' : ''}
            </dd>
            <dt>Period</dt>
            <dd>
              {date(c.period?.start)} – {date(c.period?.end)}
            </dd>
          </dl>
          <button type="button" onClick={() => props.onNew(c)}>
            New insurance ticket
          </button>
        </li>
      ))}
    </ul>
  );
}

type SortKey = 'date' | 'amount';

/** Billing users get full adjudication; agents get what the patient owes, never allowed/paid (HIPAA-07). */
type ViewRow = Pick<ClaimRow, 'key' | 'claim' | 'type' | 'created' | 'decision' | 'provider' | 'insurer'> &
  Partial<Pick<ClaimRow, 'billed' | 'paid' | 'allowed'>> & {
    patientResponsibility: ClaimRow['patientResponsibility'];
    reasons: { code: string | null; text?: string | null; plain?: string | null; display?: string | null }[];
    adjudications: { resourceType: string; id: string; created: string | null; decision: string }[];
  };

function Claims(props: { rows: ViewRow[]; billing: boolean; onNew: (row: ViewRow) => void }) {
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean }>({ key: 'date', desc: true });
  const [open, setOpen] = useState<string | null>(null);
  const rows = [...props.rows].sort((a, b) => {
    const d =
      sort.key === 'date'
        ? (a.created ?? '').localeCompare(b.created ?? '')
        : amountOf(a, props.billing) - amountOf(b, props.billing);
    return sort.desc ? -d : d;
  });
  if (rows.length === 0) return <p>No claims on file.</p>;
  const header = (key: SortKey, text: string) => (
    <th scope="col" aria-sort={sort.key === key ? (sort.desc ? 'descending' : 'ascending') : 'none'}>
      <button type="button" onClick={() => setSort({ key, desc: sort.key === key ? !sort.desc : true })}>
        {text}
      </button>
    </th>
  );
  return (
    <div class="table-wrap">
      <table class="claims">
        <thead>
          <tr>
            {header('date', 'Date')}
            <th scope="col">Type</th>
            <th scope="col">Decision</th>
            {props.billing ? header('amount', 'Billed') : header('amount', 'Patient owes')}
            {props.billing ? <th scope="col">Paid</th> : null}
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => {
            const denied = row.decision === 'denied';
            const expanded = open === row.key;
            return [
              <tr key={row.key} class={denied ? 'claim denied' : 'claim'} data-claim={row.key}>
                <td>{date(row.created)}</td>
                <td>{row.type ?? '—'}</td>
                <td>{denied ? <strong class="denied-mark">Denied</strong> : label(row.decision)}</td>
                {props.billing ? (
                  <td class="total">{money(row.billed)}</td>
                ) : (
                  <td class="owes">{money(row.patientResponsibility)}</td>
                )}
                {props.billing ? <td>{money(row.paid)}</td> : null}
                <td class="actions">
                  <button type="button" aria-expanded={expanded} onClick={() => setOpen(expanded ? null : row.key)}>
                    {expanded ? 'Hide details' : 'Details'}
                  </button>
                  <button type="button" onClick={() => props.onNew(row)}>
                    Dispute
                  </button>
                </td>
              </tr>,
              expanded ? (
                <tr key={`${row.key}-d`} class="details">
                  <td colSpan={props.billing ? 6 : 5}>
                    <ClaimDetails row={row} />
                  </td>
                </tr>
              ) : null,
            ];
          })}
        </tbody>
      </table>
    </div>
  );
}

function amountOf(row: ViewRow, billing: boolean): number {
  return (billing ? row.billed?.minor : row.patientResponsibility?.minor) ?? 0;
}

function ClaimDetails(props: { row: ViewRow }) {
  const { row } = props;
  return (
    <div>
      <p>
        Provider: {row.provider.name ?? '—'} · Insurer: {row.insurer.name ?? '—'}
        {row.allowed !== undefined ? ` · Allowed: ${money(row.allowed)}` : ''} · Patient owes:{' '}
        {money(row.patientResponsibility)}
      </p>
      {row.reasons.length > 0 ? (
        <ul>
          {row.reasons.map((r, i) => (
            <li key={i}>
              {r.plain ?? r.text ?? r.display ?? r.code} {r.code ? `(${r.code})` : ''}
            </li>
          ))}
        </ul>
      ) : (
        <p>No adjudication reasons.</p>
      )}
      <ul>
        {row.adjudications.map((a) => (
          <li key={a.id}>
            {a.resourceType === 'ExplanationOfBenefit' ? 'EOB' : 'Claim response'} {date(a.created)}:{' '}
            {label(a.decision)}
          </li>
        ))}
      </ul>
    </div>
  );
}

function NewTicket(props: {
  api: Api;
  draft: Draft;
  patient: string;
  onDone: (created: boolean) => void;
  onError: (e: unknown) => void;
}) {
  const [subject, setSubject] = useState(props.draft.subject);
  const [channel, setChannel] = useState('phone');
  const [description, setDescription] = useState('');
  const [error, setError] = useState<string | null>(null);
  const dispute = props.draft.dispute;
  const [reason, setReason] = useState(dispute?.initial.reasonCategory ?? 'denied');
  const [amount, setAmount] = useState(dispute?.initial.disputedAmount ?? '');
  const [amountEdited, setAmountEdited] = useState(false);
  const currency = dispute?.initial.currency ?? 'USD';
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      if (dispute) {
        // One request, one transaction server-side: ticket, dispute record and links (no record-less ticket).
        const created = await props.api.post<{ ticketId: string }>('/api/v1/disputes', {
          ...(dispute.initial.claim ? { claim: dispute.initial.claim } : {}),
          ...(dispute.initial.adjudication ? { adjudication: dispute.initial.adjudication } : {}),
          reasonCategory: reason,
          ...(amount.trim() ? { disputedAmount: amount.trim(), currency } : {}),
          patient: props.patient,
          subject,
          ...(description ? { description } : {}),
          channel,
        });
        props.onDone(true);
        location.hash = `#/tickets/${created.body.ticketId}`;
        return;
      }
      await props.api.post('/api/v1/tickets', {
        subject,
        description,
        category: props.draft.category,
        channel,
        patient: props.patient,
        links: props.draft.links,
      });
      props.onDone(true);
    } catch (err) {
      props.onError(err);
      setError(err instanceof ApiError ? err.message : 'The ticket could not be created.');
    }
  };
  return (
    <section aria-labelledby="new-h" class="card">
      <h2 id="new-h">New {label(props.draft.category)} ticket</h2>
      <form onSubmit={submit}>
        <p>Linked: {props.draft.links.map((l) => l.reference).join(', ') || 'patient only'}</p>
        <label for="nt-subject">Subject</label>
        <input id="nt-subject" value={subject} onInput={(e) => setSubject(e.currentTarget.value)} required />
        <label for="nt-channel">Channel</label>
        <select id="nt-channel" value={channel} onChange={(e) => setChannel(e.currentTarget.value)}>
          {CHANNELS.map((c) => (
            <option value={c} key={c}>
              {label(c)}
            </option>
          ))}
        </select>
        {dispute ? (
          <>
            <label for="nt-reason">Reason</label>
            <select
              id="nt-reason"
              value={reason}
              onChange={(e) => {
                const next = e.currentTarget.value as DisputeDraft['reasonCategory'];
                setReason(next);
                if (!amountEdited) setAmount(amountFor(dispute.row, next).value);
              }}
            >
              {REASONS.map((r) => (
                <option value={r} key={r}>
                  {label(r)}
                </option>
              ))}
            </select>
            <label for="nt-amount">Disputed amount ({currency})</label>
            <input
              id="nt-amount"
              inputMode="decimal"
              pattern="\d{1,13}(\.\d{1,4})?"
              value={amount}
              aria-describedby="nt-amount-hint"
              onInput={(e) => {
                setAmount(e.currentTarget.value);
                setAmountEdited(true);
              }}
            />
            <p id="nt-amount-hint" class="hint">
              Leave empty to take the amount the payer withheld from the EOB.
            </p>
          </>
        ) : null}
        <label for="nt-desc">Description</label>
        <textarea id="nt-desc" value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
        {error ? <p role="alert">{error}</p> : null}
        <button type="submit">{dispute ? 'Open dispute' : 'Create ticket'}</button>
        <button type="button" onClick={() => props.onDone(false)}>
          Cancel
        </button>
      </form>
    </section>
  );
}

/** Assignee display names from the agent view's ticket part (the ticket list API carries only ids). */
function assigneeNames(context: PatientContext): Map<string, string> {
  const names = new Map<string, string>();
  for (const t of context.tickets.items) if (t.assignee) names.set(t.assignee.id, t.assignee.displayName);
  return names;
}

function TicketList(props: {
  tickets: Ticket[];
  versions: Map<string, string | null>;
  assignees: Map<string, string>;
}) {
  if (props.tickets.length === 0) return <p>No tickets for this patient.</p>;
  return (
    <ul class="tickets">
      {props.tickets.map((t) => (
        <li key={t.id} class="ticket-row">
          <a href={`#/tickets/${t.id}`}>
            {t.number} · {t.subject}
          </a>
          <span>
            {' '}
            · <span class="status">{label(t.status)}</span> · {label(t.priority)} ·{' '}
            {age((Date.now() - Date.parse(t.createdAt)) / 1000)} ·{' '}
            {t.assigneeId ? (
              <span class="assignee">Assigned to {props.assignees.get(t.assigneeId) ?? 'another agent'}</span>
            ) : (
              'Unassigned'
            )}
          </span>
          <LinkList links={t.links} versions={props.versions} />
        </li>
      ))}
    </ul>
  );
}

function LinkList(props: { links: TicketLink[]; versions?: Map<string, string | null> }) {
  if (props.links.length === 0) return null;
  return (
    <ul class="links" aria-label="Linked records">
      {props.links.map((l) => {
        const now = props.versions?.get(l.reference);
        const changed = Boolean(now && l.seenLastUpdated && now !== l.seenLastUpdated);
        return (
          <li key={l.id} class="link" data-reference={l.reference}>
            {label(l.role)}: {l.reference}
            {changed ? <strong class="changed"> (changed since linked)</strong> : null}
          </li>
        );
      })}
    </ul>
  );
}

function lastUpdatedIndex(context: PatientContext): Map<string, string | null> {
  const out = new Map<string, string | null>();
  for (const c of context.coverages.items) if (c.id) out.set(`Coverage/${c.id}`, c.freshness?.lastUpdated ?? null);
  for (const r of context.claims.items) {
    if (r.claim) out.set(`Claim/${r.claim.id}`, r.claim.freshness?.lastUpdated ?? null);
    for (const a of r.adjudications) out.set(`${a.resourceType}/${a.id}`, a.freshness?.lastUpdated ?? null);
  }
  return out;
}

function TicketPage(props: { api: Api; id: string; onError: (e: unknown) => void }) {
  const { api, id } = props;
  const [ticket, setTicket] = useState<Ticket | null>(null);
  const [events, setEvents] = useState<TicketEvent[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [reply, setReply] = useState('');
  const [channel, setChannel] = useState('phone');
  const [note, setNote] = useState('');
  const [status, setStatus] = useState('');

  const load = useCallback(async () => {
    try {
      const [t, timeline] = await Promise.all([
        api.get<Ticket>(`/api/v1/tickets/${id}`),
        api.get<{ items: TicketEvent[] }>(`/api/v1/tickets/${id}/timeline`),
      ]);
      setTicket(t);
      setStatus(t.status);
      setEvents(timeline.items);
    } catch (e) {
      props.onError(e);
      setError(e instanceof ApiError ? e.message : 'The ticket could not be loaded.');
    }
  }, [api, id]);
  useEffect(() => {
    void load();
  }, [load]);

  const act = (fn: () => Promise<unknown>) => async (e: Event) => {
    e.preventDefault();
    try {
      setError(null);
      await fn();
      await load();
    } catch (err) {
      props.onError(err);
      setError(err instanceof ApiError ? err.message : 'The change was not saved.');
    }
  };

  if (!ticket) return error ? <p role="alert">{error}</p> : <p aria-busy="true">Loading the ticket…</p>;
  return (
    <main>
      <p>
        <a href="#/">← Back to the patient</a>
      </p>
      <h1 class="ticket-title">
        {ticket.number} · {ticket.subject}
      </h1>
      <p>
        Status: <span class="status">{label(ticket.status)}</span> · Priority {label(ticket.priority)} · Category{' '}
        {label(ticket.category)}
      </p>
      <EscalationPrompt api={api} ticketId={id} events={events} onChanged={load} />
      <LinkList links={ticket.links} />
      {error ? <p role="alert">{error}</p> : null}
      {ticket.category === 'claim-dispute' ? (
        <DisputePanel api={api} ticketId={id} onChanged={load} onError={props.onError} />
      ) : null}
      <section aria-labelledby="tl-h">
        <h2 id="tl-h">Timeline</h2>
        <ol class="timeline">
          {events.map((ev) => (
            <li key={ev.id} class={`event ev-${ev.type.replace(/\W/g, '-')}`}>
              <time dateTime={ev.createdAt}>{date(ev.createdAt)}</time> {label(ev.type.replace(/\./g, ' '))}
              {ev.channel ? ` via ${label(ev.channel)}` : ''}
              {ev.delivery ? (
                <span class={`delivery delivery-${ev.delivery.status}`}>
                  {' '}
                  ({label(ev.delivery.status)}
                  {ev.delivery.lastError ? `: ${ev.delivery.lastError}` : ''})
                </span>
              ) : null}
              {ev.body ? <p class="body">{ev.body}</p> : null}
            </li>
          ))}
        </ol>
      </section>
      <form
        onSubmit={act(async () => {
          await api.post(`/api/v1/tickets/${id}/messages`, { channel, direction: 'outbound', body: reply });
          setReply('');
        })}
      >
        <h2>Reply to the patient</h2>
        <label for="r-channel">Channel</label>
        <select id="r-channel" value={channel} onChange={(e) => setChannel(e.currentTarget.value)}>
          {CHANNELS.map((c) => (
            <option value={c} key={c}>
              {label(c)}
            </option>
          ))}
        </select>
        <label for="r-body">Message</label>
        <textarea id="r-body" value={reply} onInput={(e) => setReply(e.currentTarget.value)} required />
        <button type="submit">Send reply</button>
      </form>
      <form
        onSubmit={act(async () => {
          await api.post(`/api/v1/tickets/${id}/notes`, { body: note });
          setNote('');
        })}
      >
        <h2>Internal note</h2>
        <label for="n-body">Note (not sent to the patient)</label>
        <textarea id="n-body" value={note} onInput={(e) => setNote(e.currentTarget.value)} required />
        <button type="submit">Add note</button>
      </form>
      <form
        onSubmit={act(() =>
          api.post(`/api/v1/tickets/${id}/status`, { status }, { 'if-match': `W/"${ticket.version}"` }),
        )}
      >
        <h2>Status</h2>
        <label for="s-status">New status</label>
        <select id="s-status" value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
          {STATUSES.map((s) => (
            <option value={s} key={s}>
              {label(s)}
            </option>
          ))}
        </select>
        <button type="submit">Change status</button>
      </form>
    </main>
  );
}
