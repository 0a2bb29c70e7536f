// The dispute panel on a claim-dispute ticket (issue 5). Billing roles get the claim's financial summary,
// the adjudication table, the stage stepper and the payer contact and outcome forms; an agent gets the
// patient-facing summary the server returns (the server shapes it, HIPAA-07; the panel shows what it gets).
import type { Adjustment, ClaimExplanation, ClaimFinancialSummary, CodedValue, DisputeOutcome } from '@fhirdesk/core';
import { Fragment } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { type Api, ApiError } from '../api';
import { date, label, money } from '../format';
import { countdown, isAmount, STAGES } from './queue-query';
import type { AgentDisputeView, DisputeView, FullDisputeView } from './types';

const OUTCOMES = [
  'overturned',
  'partially-overturned',
  'upheld',
  'withdrawn',
] as const satisfies readonly DisputeOutcome[];
const CONTACT_CHANNELS = ['phone', 'portal', 'fax', 'email', 'mail'] as const;

/** Mirrors DISPUTE_TRANSITIONS in core; the server decides, this only avoids offering refused moves. */
const NEXT: Record<string, readonly string[]> = {
  intake: ['investigating', 'decided'],
  investigating: ['payer-contacted', 'appeal-filed', 'decided'],
  'payer-contacted': ['investigating', 'appeal-filed', 'decided'],
  'appeal-filed': ['investigating', 'payer-contacted', 'decided'],
  decided: ['appeal-filed'],
};

const AMOUNT_ROWS: [keyof ClaimFinancialSummary['amounts'], string][] = [
  ['billed', 'Billed'],
  ['allowed', 'Allowed'],
  ['paid', 'Paid'],
  ['deductible', 'Deductible'],
  ['copay', 'Copay'],
  ['coinsurance', 'Coinsurance'],
  ['patientResponsibility', 'Patient responsibility'],
  ['nonCovered', 'Non-covered'],
];

export function DisputePanel(props: {
  api: Api;
  ticketId: string;
  onChanged: () => void;
  onError: (e: unknown) => void;
}) {
  const { api, ticketId } = props;
  const [view, setView] = useState<DisputeView | null>(null);
  const [missing, setMissing] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setView(await api.get<DisputeView>(`/api/v1/disputes/${ticketId}`));
    } catch (e) {
      props.onError(e);
      if (e instanceof ApiError && e.status === 404) setMissing(true);
      else setError(e instanceof ApiError ? e.message : 'The dispute could not be loaded.');
    }
  }, [api, ticketId]);
  useEffect(() => {
    void load();
  }, [load]);

  /** Runs a write, then reloads the dispute and the ticket page; an API refusal is shown in the panel. */
  const run = async (fn: () => Promise<unknown>): Promise<boolean> => {
    try {
      setError(null);
      await fn();
      await load();
      props.onChanged();
      return true;
    } catch (e) {
      props.onError(e);
      const message = e instanceof ApiError ? e.message : 'The change was not saved.';
      setError(e instanceof ApiError && e.status === 412 ? `${message} The dispute has been reloaded.` : message);
      if (e instanceof ApiError && e.status === 412) await load();
      return false;
    }
  };

  if (missing) {
    return (
      <section class="dispute-panel" aria-labelledby="dp-h">
        <h2 id="dp-h">Claim dispute</h2>
        <p>This ticket has no dispute record yet.</p>
      </section>
    );
  }
  if (!view) {
    return error ? (
      <p role="alert" class="error">
        {error}
      </p>
    ) : (
      <p aria-busy="true">Loading the dispute…</p>
    );
  }
  return (
    <section class="dispute-panel" aria-labelledby="dp-h" data-view={view.view}>
      <h2 id="dp-h">Claim dispute</h2>
      {error ? (
        <p role="alert" class="error">
          {error}
        </p>
      ) : null}
      {view.view === 'full' ? <FullPanel api={api} view={view} run={run} /> : <AgentPanel view={view} />}
    </section>
  );
}

function Deadline(props: { d: { deadline: string; daysRemaining?: number; state: 'ok' | 'due-soon' | 'missed' } }) {
  const { d } = props;
  return (
    <span class={`countdown ${d.state}`}>
      {d.state === 'missed' ? <span aria-hidden="true">⚠ </span> : null}
      {d.daysRemaining !== undefined ? countdown(d.daysRemaining, d.state) : d.state === 'missed' ? 'Overdue' : ''} (
      {date(d.deadline)})
    </span>
  );
}

function AgentPanel(props: { view: AgentDisputeView }) {
  const { view } = props;
  return (
    <div class="dispute-agent">
      <dl>
        <dt>Stage</dt>
        <dd class="dp-stage">{label(view.stage)}</dd>
        <dt>Reason</dt>
        <dd>{view.reason}</dd>
        {view.claim ? (
          <>
            <dt>Claim status</dt>
            <dd>{label(view.claim.status)}</dd>
            <dt>Patient owes</dt>
            <dd class="dp-owes">
              {view.claim.amountsUnverified
                ? 'Not confirmed — do not quote a figure'
                : money(view.claim.patientResponsibility)}
            </dd>
          </>
        ) : null}
        {view.appealDeadline ? (
          <>
            <dt>Appeal deadline</dt>
            <dd>
              <Deadline d={view.appealDeadline} />
            </dd>
          </>
        ) : null}
        {view.outcome ? (
          <>
            <dt>Outcome</dt>
            <dd>{label(view.outcome)}</dd>
          </>
        ) : null}
      </dl>
      {view.claim && view.claim.reasons.length > 0 ? (
        <>
          <h3>Reasons</h3>
          <ul>
            {view.claim.reasons.map((r, i) => (
              <li key={i}>{r}</li>
            ))}
          </ul>
        </>
      ) : null}
      {view.explanation ? <Explanation explanation={view.explanation} /> : null}
    </div>
  );
}

function Explanation(props: { explanation: ClaimExplanation }) {
  const { explanation } = props;
  return (
    <div class="dp-explanation">
      <h3>In plain language</h3>
      {explanation.warning ? (
        <p class="warning dp-warning">
          <strong>Check the amounts: </strong>
          {explanation.warning}
        </p>
      ) : null}
      {explanation.sentences.map((s, i) => (
        <p key={i}>{s}</p>
      ))}
    </div>
  );
}

function FullPanel(props: { api: Api; view: FullDisputeView; run: (fn: () => Promise<unknown>) => Promise<boolean> }) {
  const { api, view, run } = props;
  const path = `/api/v1/disputes/${view.ticketId}`;
  // If-Match with the version the user saw: a move made on a stale screen is refused (412), not applied.
  const move = (to: string) => run(() => api.post(`${path}/stage`, { to }, { 'if-match': `W/"${view.version}"` }));
  return (
    <div class="dispute-full">
      <dl class="dp-facts">
        <dt>Stage</dt>
        <dd class="dp-stage">{label(view.stage)}</dd>
        <dt>Ticket status</dt>
        <dd>{label(view.ticketStatus)}</dd>
        <dt>Disputed amount</dt>
        <dd>{money(view.disputedAmount)}</dd>
        <dt>Payer</dt>
        <dd>
          {view.payerName ?? view.payerId ?? '—'}
          {view.payerClaimNumber ? ` · claim no. ${view.payerClaimNumber}` : ''}
        </dd>
        <dt>Reason</dt>
        <dd>{label(view.reasonCategory)}</dd>
        <dt>Appeal deadline</dt>
        <dd>{view.appealDeadline ? <Deadline d={view.appealDeadline} /> : 'No deadline'}</dd>
        {view.outcome ? (
          <>
            <dt>Outcome</dt>
            <dd class="dp-outcome">
              {label(view.outcome)}
              {view.recoveredAmount ? ` · recovered ${money(view.recoveredAmount)}` : ''}
            </dd>
          </>
        ) : null}
      </dl>
      <Stepper stage={view.stage} onMove={move} />
      {view.summary ? <Summary summary={view.summary} /> : <p>No adjudication is linked or cached for this dispute.</p>}
      {view.explanation ? <Explanation explanation={view.explanation} /> : null}
      <PayerContactForm onSubmit={(body) => run(() => api.post(`${path}/payer-contacts`, body))} />
      <OutcomeForm onSubmit={(body) => run(() => api.post(`${path}/outcome`, body))} />
    </div>
  );
}

function Stepper(props: { stage: string; onMove: (to: string) => void }) {
  const current = STAGES.indexOf(props.stage as (typeof STAGES)[number]);
  const allowed = NEXT[props.stage] ?? [];
  return (
    <nav aria-label="Dispute stage" class="stepper">
      <ol>
        {STAGES.map((s, i) => {
          const here = s === props.stage;
          const state = here ? 'current' : i < current ? 'done' : 'todo';
          return (
            <li key={s} class={`step ${state}`} aria-current={here ? 'step' : undefined}>
              <span class="step-name">
                {label(s)}
                {here ? ' (current)' : ''}
              </span>
              {!here && allowed.includes(s) && s !== 'decided' ? (
                <button type="button" onClick={() => props.onMove(s)}>
                  Move to {label(s)}
                </button>
              ) : null}
              {!here && s === 'decided' && allowed.includes(s) ? (
                <span class="sub">Record the outcome below</span>
              ) : null}
            </li>
          );
        })}
      </ol>
    </nav>
  );
}

function coded(c: CodedValue | undefined): string {
  if (!c) return '—';
  return c.display && c.display !== c.code ? `${c.code} — ${c.display}` : c.code;
}

function Summary(props: { summary: ClaimFinancialSummary }) {
  const { summary } = props;
  const adjustments: Adjustment[] = [...summary.adjustments, ...summary.lines.flatMap((l) => l.adjustments)];
  return (
    <div class="dp-summary">
      <h3>Claim financial summary</h3>
      <dl class="dp-amounts">
        {AMOUNT_ROWS.map(([k, text]) => (
          <Fragment key={k}>
            <dt>{text}</dt>
            <dd class={`amt-${k}`}>{money(summary.amounts[k])}</dd>
          </Fragment>
        ))}
      </dl>
      {summary.processNotes.length > 0 ? (
        <ul class="dp-notes" aria-label="Payer notes">
          {summary.processNotes.map((n, i) => (
            <li key={i}>{n.text}</li>
          ))}
        </ul>
      ) : null}
      <div class="table-wrap">
        <table class="adjudication">
          <caption>Adjudication</caption>
          <thead>
            <tr>
              <th scope="col">Line</th>
              <th scope="col">Group</th>
              <th scope="col">Reason (CARC)</th>
              <th scope="col">Remarks (RARC)</th>
              <th scope="col">Amount</th>
            </tr>
          </thead>
          <tbody>
            {adjustments.length === 0 ? (
              <tr>
                <td colSpan={5}>No adjustment reasons published.</td>
              </tr>
            ) : (
              adjustments.map((a, i) => (
                <tr key={i}>
                  <td>{a.itemSequence !== undefined ? `Line ${a.itemSequence}` : 'Claim'}</td>
                  <td class="group">{coded(a.group)}</td>
                  <td class="carc">
                    {a.carc ? coded(a.carc) : a.otherReasons.length > 0 ? a.otherReasons.map(coded).join('; ') : '—'}
                  </td>
                  <td class="rarc">{a.rarc.length > 0 ? a.rarc.map(coded).join('; ') : '—'}</td>
                  <td>{money(a.amount)}</td>
                </tr>
              ))
            )}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function today(): string {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

function PayerContactForm(props: { onSubmit: (body: Record<string, string>) => Promise<boolean> }) {
  const [channel, setChannel] = useState<string>('phone');
  const [day, setDay] = useState(today());
  const [reference, setReference] = useState('');
  const [contact, setContact] = useState('');
  const [notes, setNotes] = useState('');
  const submit = async (e: Event) => {
    e.preventDefault();
    // The date the contact happened, at local noon, so the day shown back is the day entered in any zone.
    const occurredAt = /^\d{4}-\d{2}-\d{2}$/.test(day) ? new Date(`${day}T12:00:00`).toISOString() : undefined;
    const ok = await props.onSubmit({
      channel,
      summary: notes,
      ...(reference.trim() ? { referenceNumber: reference.trim() } : {}),
      ...(contact.trim() ? { contactName: contact.trim() } : {}),
      ...(occurredAt ? { occurredAt } : {}),
    });
    if (ok) {
      setReference('');
      setContact('');
      setNotes('');
    }
  };
  return (
    <form class="dp-form" onSubmit={submit} aria-labelledby="pc-h">
      <h3 id="pc-h">Log a payer contact</h3>
      <label for="pc-date">Date</label>
      <input id="pc-date" type="date" value={day} onInput={(e) => setDay(e.currentTarget.value)} required />
      <label for="pc-channel">How</label>
      <select id="pc-channel" value={channel} onChange={(e) => setChannel(e.currentTarget.value)}>
        {CONTACT_CHANNELS.map((c) => (
          <option value={c} key={c}>
            {label(c)}
          </option>
        ))}
      </select>
      <label for="pc-ref">Reference number</label>
      <input id="pc-ref" value={reference} maxLength={128} onInput={(e) => setReference(e.currentTarget.value)} />
      <label for="pc-contact">Spoke with</label>
      <input id="pc-contact" value={contact} maxLength={200} onInput={(e) => setContact(e.currentTarget.value)} />
      <label for="pc-notes">Notes</label>
      <textarea id="pc-notes" value={notes} onInput={(e) => setNotes(e.currentTarget.value)} required />
      <button type="submit">Log contact</button>
    </form>
  );
}

function OutcomeForm(props: { onSubmit: (body: Record<string, string>) => Promise<boolean> }) {
  const [outcome, setOutcome] = useState<string>('overturned');
  const [recovered, setRecovered] = useState('');
  const [note, setNote] = useState('');
  const [invalid, setInvalid] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const amount = recovered.trim();
    if (amount && !isAmount(amount)) {
      setInvalid(true);
      return;
    }
    setInvalid(false);
    await props.onSubmit({
      outcome,
      ...(amount ? { recoveredAmount: amount } : {}),
      ...(note.trim() ? { note: note.trim() } : {}),
    });
  };
  return (
    <form class="dp-form" onSubmit={submit} aria-labelledby="oc-h">
      <h3 id="oc-h">Record the outcome</h3>
      <label for="oc-outcome">Outcome</label>
      <select id="oc-outcome" value={outcome} onChange={(e) => setOutcome(e.currentTarget.value)}>
        {OUTCOMES.map((o) => (
          <option value={o} key={o}>
            {label(o)}
          </option>
        ))}
      </select>
      <label for="oc-amount">Recovered amount</label>
      <input
        id="oc-amount"
        inputMode="decimal"
        value={recovered}
        aria-invalid={invalid}
        aria-describedby={invalid ? 'oc-amount-err' : undefined}
        onInput={(e) => setRecovered(e.currentTarget.value)}
      />
      {invalid ? (
        <p id="oc-amount-err" role="alert" class="error">
          Enter the amount as a number with up to two decimals, e.g. 120.50.
        </p>
      ) : null}
      <label for="oc-note">Note</label>
      <textarea id="oc-note" value={note} onInput={(e) => setNote(e.currentTarget.value)} />
      <button type="submit">Record outcome</button>
    </form>
  );
}
