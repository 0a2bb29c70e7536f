// What staff see of a ticket before its caller is verified (issue #6; HIPAA-07 minimum necessary,
// HIPAA-09 person authentication). Every API response that carries ticket data passes through these
// functions, reads and writes alike, so there is one rule and no copy of it: the ticket, its status and
// the caller's own words stay visible so the agent can work, but not which patient it is, which
// resources it is linked to, or anything the EHR holds about them.
import type { Executor } from '../db/database';
import type { Escalation } from '../db/schema/conversations';
import type { Ticket, TicketEvent, TicketLink } from '../db/schema/tickets';
import { type VerificationState, verificationChannels, verificationStates } from './caller-verification';

const WITHHELD = 'verify the caller to see patient details';

/** The verification state of one ticket (no query for channels that need none). */
export async function verificationStateOf(
  executor: Executor,
  tenantId: string,
  row: Pick<Ticket, 'id' | 'channel' | 'patientRef'>,
): Promise<VerificationState> {
  if (!verificationChannels.includes(row.channel)) return 'not-required';
  if (!row.patientRef) return 'required';
  return (await verificationStates(executor, tenantId, [row])).get(row.id)!;
}

/** A ticket (row or view) with its patient and links withheld while verification is required. */
export function restrictTicket<
  T extends { patientRef: string | null; patientSourceId: string | null; links?: TicketLink[] },
>(value: T, state: VerificationState): T & { verification: VerificationState } {
  if (state !== 'required') return { ...value, verification: state };
  return {
    ...value,
    patientRef: null,
    patientSourceId: null,
    ...(value.links ? { links: [] } : {}),
    verification: state,
  };
}

/** A link as shown to staff: while verification is required, its type and role but not which resource. */
export type LinkView = Omit<TicketLink, 'resourceId' | 'sourceId' | 'seenVersionId' | 'seenLastUpdated'> & {
  resourceId: string | null;
  sourceId: string | null;
  seenVersionId: string | null;
  seenLastUpdated: string | null;
  withheld?: string | undefined;
};

export function restrictLink(link: TicketLink, state: VerificationState): LinkView {
  if (state !== 'required') return link;
  return { ...link, resourceId: null, sourceId: null, seenVersionId: null, seenLastUpdated: null, withheld: WITHHELD };
}

/**
 * Events whose data carries no patient data: the ticket's own workflow and the caller's words. Anything
 * not listed (links, patient matches, EHR write-back ids, dispute and payer detail, and any event type
 * added later) is withheld until verification, so a new event type is safe by default.
 */
const VISIBLE_EVENTS: ReadonlySet<string> = new Set([
  'created',
  'status-changed',
  'assigned',
  'message',
  'note',
  'triaged',
  'red-flag',
  'sla-at-risk',
  'sla-breached',
  'delivery-status',
  'csat',
  'routing-corrected',
  'safety-prompt-acknowledged',
  'escalation-queued',
]);

/** Ticket fields that point at the patient; a `field-changed` event shows the rest of its changes. */
const PATIENT_FIELDS = ['patientRef', 'patientSourceId'];

export function restrictEvent<E extends TicketEvent>(event: E, state: VerificationState): E {
  if (state !== 'required' || VISIBLE_EVENTS.has(event.type)) return event;
  const data = event.data as Record<string, unknown>;
  if (event.type === 'field-changed') {
    const changes = { ...((data.changes as Record<string, unknown> | undefined) ?? {}) };
    const hidden = PATIENT_FIELDS.filter((f) => f in changes);
    if (hidden.length === 0) return event;
    for (const f of hidden) delete changes[f];
    return { ...event, data: { ...data, changes, withheld: WITHHELD } };
  }
  const kept: Record<string, unknown> = { withheld: WITHHELD };
  // Safe, value-free facts that tell the agent what happened without saying to whom.
  for (const key of ['linkId', 'role', 'by', 'reason', 'escalationId'] as const) {
    if (typeof data[key] === 'string') kept[key] = data[key];
  }
  if (typeof data.reference === 'string') kept.resourceType = data.reference.split('/')[0];
  if (typeof data.candidates === 'number') kept.candidates = data.candidates;
  return { ...event, body: null, data: kept };
}

/** An escalation's EHR write-back ids (`Task`, `Communication` about the patient), withheld likewise. */
export function restrictEscalation<R extends { escalation: Escalation; verification: VerificationState }>(
  result: R,
): R {
  if (result.verification !== 'required') return result;
  return { ...result, escalation: { ...result.escalation, taskId: null, communicationId: null } };
}
