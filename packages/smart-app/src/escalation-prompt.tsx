// Red-flag safety prompt on the ticket page (issue #6): when triage flagged the patient's message, the
// agent sees the scripted safety text (in the message's language, from the escalation config) and must
// acknowledge it; then escalates to clinical staff through /api/v1/escalations (FHIR Task write-back,
// or queued when the EHR cannot take it).
import { useEffect, useRef, useState } from 'preact/hooks';
import { type Api, ApiError } from './api';
import { loadSession } from './session';

interface TimelineEvent {
  id: string;
  type: string;
  actorId?: string | null;
  data: Record<string, unknown>;
}

interface EscalationResponse {
  escalation: { id: string; status: string; taskId: string | null };
  writtenBack: boolean;
  problem: string | null;
}

const TARGETS = [
  { id: 'nurse', label: 'Nurse triage' },
  { id: 'pharmacist', label: 'Pharmacist' },
  { id: 'care-manager', label: 'Care manager' },
] as const;

type Handoff =
  /** `task` is null while the caller is unverified: the server withholds EHR ids until then (issue #6). */
  { state: 'written-back'; task: string | null } | { state: 'queued'; problem: string | null; escalationId: string };

/** The handoff as the timeline last recorded it (survives a reload). */
function handoffOf(events: readonly TimelineEvent[]): Handoff | null {
  for (const e of [...events].reverse()) {
    if (e.type === 'escalated-to-ehr')
      return { state: 'written-back', task: typeof e.data.task === 'string' ? e.data.task : null };
    if (e.type === 'escalation-queued')
      return {
        state: 'queued',
        problem: (e.data.problem as string) ?? null,
        escalationId: String(e.data.escalationId ?? ''),
      };
  }
  return null;
}

export function EscalationPrompt(props: {
  api: Api;
  ticketId: string;
  events: readonly TimelineEvent[];
  onChanged: () => unknown;
}) {
  const { api, ticketId, events } = props;
  // Each agent who opens the ticket acknowledges the script for themselves.
  const userId = loadSession()?.user.id;
  const flag = [...events].reverse().find((e) => e.type === 'red-flag');
  const acknowledged = events.some((e) => e.type === 'safety-prompt-acknowledged' && (!userId || e.actorId === userId));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [target, setTarget] = useState<string>('nurse');
  const [result, setResult] = useState<Handoff | null>(null);
  const ackRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    // An alertdialog takes focus so a keyboard or screen-reader user meets the script first.
    if (flag && !acknowledged) ackRef.current?.focus();
  }, [flag?.id, acknowledged]);
  if (!flag) return null;

  const prompt = flag.data.safetyPrompt as { language?: string; text?: string } | null | undefined;
  const text = prompt?.text ?? 'This message may describe a medical emergency. Advise the patient to call 911.';
  const lang = prompt?.language ?? 'en';
  const handoff = result ?? handoffOf(events);
  const run = async (fn: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
      await props.onChanged();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : 'That did not work. Try again.');
    } finally {
      setBusy(false);
    }
  };

  if (!acknowledged) {
    return (
      <section class="safety-prompt" role="alertdialog" aria-labelledby="sp-title" aria-describedby="sp-text">
        <h2 id="sp-title">Possible emergency: read this to the patient now</h2>
        <p id="sp-text" class="safety-script" lang={lang}>
          {text}
        </p>
        {error ? <p role="alert">{error}</p> : null}
        <button
          type="button"
          ref={ackRef}
          disabled={busy}
          onClick={() =>
            run(async () => {
              await api.post('/api/v1/escalations/acknowledgements', { ticketId });
            })
          }
        >
          I have read the safety script to the patient
        </button>
      </section>
    );
  }

  const targetLabel = TARGETS.find((t) => t.id === target)?.label ?? 'Clinical team';
  return (
    <section class="safety-prompt acknowledged" aria-labelledby="sp-title">
      <h2 id="sp-title">Red-flag message: safety script acknowledged</h2>
      <p class="safety-script" lang={lang}>
        {text}
      </p>
      {handoff ? (
        <p role="status" class={`handoff handoff-${handoff.state}`}>
          {handoff.state === 'written-back'
            ? handoff.task
              ? `Escalated: ${handoff.task} created in the EHR.`
              : 'Escalated: a Task was created in the EHR (its id shows once the caller is verified).'
            : `Escalation queued — EHR write-back not available${handoff.problem ? ` (${handoff.problem})` : ''}. Call the clinical team.`}
        </p>
      ) : null}
      {error ? <p role="alert">{error}</p> : null}
      {handoff?.state === 'written-back' ? null : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void run(async () => {
              const request = {
                reason: `Red-flag patient message: ${targetLabel.toLowerCase()} review`,
                message: `Patient message flagged by triage; safety script read by the agent. Please contact the patient (${targetLabel}).`,
                priority: 'urgent',
                performerType: target,
              };
              // A queued escalation is retried (same identifier on the EHR, WB-04), not duplicated.
              const { body } =
                handoff?.state === 'queued' && handoff.escalationId
                  ? await api.post<EscalationResponse>(`/api/v1/escalations/${handoff.escalationId}/retry`, request)
                  : await api.post<EscalationResponse>('/api/v1/escalations', { ticketId, ...request });
              setResult(
                body.writtenBack
                  ? {
                      state: 'written-back',
                      task: body.escalation.taskId ? `Task/${body.escalation.taskId}` : null,
                    }
                  : { state: 'queued', problem: body.problem, escalationId: body.escalation.id },
              );
            });
          }}
        >
          <label for="sp-target">Escalate to</label>
          <select id="sp-target" value={target} onChange={(e) => setTarget(e.currentTarget.value)}>
            {TARGETS.map((t) => (
              <option value={t.id} key={t.id}>
                {t.label}
              </option>
            ))}
          </select>
          <button type="submit" disabled={busy}>
            {handoff?.state === 'queued' ? 'Try the EHR write-back again' : `Escalate to ${targetLabel.toLowerCase()}`}
          </button>
        </form>
      )}
    </section>
  );
}
