// Clinical escalation write-back (WB-01..05): a FHIR Task for the clinical team and a Communication
// carrying the message, created on the ticket's EHR source with If-None-Exist so a retry never makes
// a second Task (WB-04/VER-04). When the source cannot take them (no `create` for Task in its
// CapabilityStatement, WB-03) or the call fails, the escalation is queued and the timeline says so.
import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import type { CodeableConcept, Communication, Task } from 'fhir/r4';
import { recordAudit } from '../audit/record';
import type { Actor, Clock } from '../context/actor';
import { systemClock } from '../context/actor';
import type { VerificationState } from '../conversations/caller-verification';
import { appendTicketEvent, lockTicket, writeTicket } from '../conversations/timeline';
import { verificationStateOf } from '../conversations/verification-view';
import type { Database } from '../db/database';
import { type Escalation, escalation } from '../db/schema/conversations';
import { type Source, source } from '../db/schema/sources';
import { appUser } from '../db/schema/tenants';
import { ticket } from '../db/schema/tickets';
import { NotFoundError, ValidationError } from '../errors';
import { canTransition } from '../tickets/ticket-status';

/** Identifier system of fhirdesk-created write-back resources. */
export const escalationIdentifierSystem = 'urn:fhirdesk:escalation';

export type TaskPriority = 'routine' | 'urgent' | 'asap' | 'stat';

export const escalationPerformerTypes = ['nurse', 'pharmacist', 'care-manager'] as const;
export type EscalationPerformerType = (typeof escalationPerformerTypes)[number];

const SNOMED = 'http://snomed.info/sct';
const PRACTITIONER_ROLE = 'http://terminology.hl7.org/CodeSystem/practitioner-role';

/**
 * `Task.performerType` per clinical team: SNOMED CT occupations (the R4 binding, ProcedurePerformerRoleCodes, is
 * "is-a 223366009 Healthcare professional"), plus the HL7 practitioner-role code where one exists, so an EHR that
 * routes on either system finds its work queue. Care manager has no HL7 practitioner-role code.
 */
export const performerTypeConcepts: Record<EscalationPerformerType, CodeableConcept> = {
  nurse: {
    coding: [
      { system: SNOMED, code: '224535009', display: 'Registered nurse' },
      { system: PRACTITIONER_ROLE, code: 'nurse', display: 'Nurse' },
    ],
    text: 'Nurse',
  },
  pharmacist: {
    coding: [
      { system: SNOMED, code: '46255001', display: 'Pharmacist' },
      { system: PRACTITIONER_ROLE, code: 'pharmacist', display: 'Pharmacist' },
    ],
    text: 'Pharmacist',
  },
  'care-manager': {
    coding: [{ system: SNOMED, code: '184154008', display: 'Care manager' }],
    text: 'Care manager',
  },
};

/** A reference an escalation may be addressed to (Task.owner). */
export const escalationOwnerPattern = /^(Organization|PractitionerRole|CareTeam|Practitioner)\/[A-Za-z0-9\-.]{1,64}$/;

/**
 * Who owns an escalation's Task: the request's `owner`, else the source's configuration
 * (`source.settings.escalation.owners[<performerType>]`, then `source.settings.escalation.owner`), else nobody
 * (the EHR routes by `performerType`). Invalid configured values are ignored, never sent.
 */
export function escalationOwner(
  sourceSettings: Record<string, unknown> | null | undefined,
  input: Pick<EscalateInput, 'owner' | 'performerType'>,
): string | null {
  if (input.owner) return input.owner;
  const config = sourceSettings?.escalation as { owners?: Record<string, unknown>; owner?: unknown } | undefined;
  const candidates = [input.performerType ? config?.owners?.[input.performerType] : undefined, config?.owner];
  for (const c of candidates) if (typeof c === 'string' && escalationOwnerPattern.test(c)) return c;
  return null;
}

export interface EscalationDeps {
  database: Database;
  clock?: Clock;
  fetch?: typeof fetch;
  /** Auth headers for a source (e.g. a Backend Services bearer token); none by default. */
  authHeaders?: (source: Source) => Promise<Record<string, string>>;
  timeoutMs?: number;
}

export interface EscalateInput {
  /** Short reason, e.g. "Possible medication reaction" (goes to Task.description). */
  reason: string;
  /** The message for the clinical team (Communication.payload); minimum necessary (WB-05). */
  message: string;
  priority?: TaskPriority | undefined;
  /** Target as a FHIR reference (`Organization/…`, `PractitionerRole/…`, `CareTeam/…`). */
  owner?: string | undefined;
  /** The clinical team asked for (Task.performerType). */
  performerType?: EscalationPerformerType | undefined;
  callback?: string | undefined;
  sourceId?: string | undefined;
}

export interface EscalationResult {
  escalation: Escalation;
  writtenBack: boolean;
  /** Why it was queued; safe to show. */
  problem: string | null;
  /** The ticket's caller verification: staff responses pass through `restrictEscalation`. */
  verification: VerificationState;
}

class WriteBackUnavailable extends Error {}

interface Prepared {
  owner?: string | null;
  escalationId: string;
  ticketNumber: number;
  patientRef: string;
  requester: string | null;
  input: EscalateInput;
}

export class EscalationService {
  private readonly deps: EscalationDeps;
  private readonly clock: Clock;

  constructor(deps: EscalationDeps) {
    this.deps = deps;
    this.clock = deps.clock ?? systemClock;
  }

  async escalate(actor: Actor, ticketId: string, input: EscalateInput): Promise<EscalationResult> {
    const now = this.clock.now();
    const { database } = this.deps;
    const [row] = await database.db
      .select()
      .from(ticket)
      .where(and(eq(ticket.id, ticketId), eq(ticket.tenantId, actor.tenantId)));
    if (!row) throw new NotFoundError('Ticket not found');
    if (!row.patientRef) {
      throw new ValidationError('Link the patient before escalating to the EHR', [
        { field: 'ticket.patient', message: 'the Task needs a patient (Task.for)' },
      ]);
    }
    const sourceId = input.sourceId ?? row.patientSourceId;
    const [esc] = await database.db
      .insert(escalation)
      .values({
        id: randomUUID(),
        tenantId: actor.tenantId,
        ticketId,
        sourceId,
        status: 'queued',
        priority: input.priority ?? 'urgent',
        createdAt: now,
        updatedAt: now,
        attempts: 0,
      })
      .returning();
    return this.attempt(actor, esc!, input);
  }

  /** Try a queued escalation again; the same identifier makes it idempotent on the EHR. */
  async retry(actor: Actor, escalationId: string, input: EscalateInput): Promise<EscalationResult> {
    const [esc] = await this.deps.database.db
      .select()
      .from(escalation)
      .where(and(eq(escalation.id, escalationId), eq(escalation.tenantId, actor.tenantId)));
    if (!esc) throw new NotFoundError('Escalation not found');
    if (esc.status === 'written-back') {
      const [row] = await this.deps.database.db.select().from(ticket).where(eq(ticket.id, esc.ticketId));
      const verification = await verificationStateOf(this.deps.database.db, actor.tenantId, row!);
      return { escalation: esc, writtenBack: true, problem: null, verification };
    }
    return this.attempt(actor, esc, input);
  }

  private async attempt(actor: Actor, esc: Escalation, input: EscalateInput): Promise<EscalationResult> {
    const { database } = this.deps;
    const [row] = await database.db.select().from(ticket).where(eq(ticket.id, esc.ticketId));
    const requester = actor.userId
      ? ((await database.db.select({ fhirUser: appUser.fhirUser }).from(appUser).where(eq(appUser.id, actor.userId)))[0]
          ?.fhirUser ?? null)
      : null;
    const prepared: Prepared = {
      escalationId: esc.id,
      ticketNumber: row!.number,
      patientRef: row!.patientRef!,
      requester,
      input: { ...input, priority: (esc.priority as TaskPriority) ?? input.priority },
    };
    let taskId: string | null = null;
    let communicationId: string | null = null;
    let problem: string | null = null;
    let owner: string | null = input.owner ?? null;
    try {
      const src = esc.sourceId
        ? (
            await database.db
              .select()
              .from(source)
              .where(and(eq(source.id, esc.sourceId), eq(source.tenantId, actor.tenantId)))
          )[0]
        : undefined;
      owner = escalationOwner(src?.settings, input);
      if (!src?.baseUrl) throw new WriteBackUnavailable('the ticket has no EHR source with a FHIR base URL');
      ({ taskId, communicationId } = await this.writeBack(src, { ...prepared, owner }));
    } catch (error) {
      problem = error instanceof WriteBackUnavailable ? error.message : 'the EHR did not accept the write-back';
    }
    const now = this.clock.now();
    const result = await database.db.transaction(async (tx) => {
      const [updated] = await tx
        .update(escalation)
        .set({
          status: taskId ? 'written-back' : 'queued',
          taskId,
          communicationId,
          problem,
          attempts: esc.attempts + 1,
          updatedAt: now,
        })
        .where(eq(escalation.id, esc.id))
        .returning();
      const current = await lockTicket(tx, actor.tenantId, esc.ticketId);
      const next = canTransition(current.status, 'escalated')
        ? await writeTicket(tx, current, { status: 'escalated', updatedAt: now })
        : await writeTicket(tx, current, { updatedAt: now });
      if (next.status !== current.status) {
        await appendTicketEvent(tx, actor, esc.ticketId, 'status-changed', now, {
          data: { from: current.status, to: 'escalated', cause: 'clinical-escalation' },
        });
      }
      if (taskId) {
        await appendTicketEvent(tx, actor, esc.ticketId, 'escalated-to-ehr', now, {
          data: {
            escalationId: esc.id,
            sourceId: esc.sourceId,
            task: `Task/${taskId}`,
            communication: communicationId ? `Communication/${communicationId}` : null,
            performerType: input.performerType ?? null,
            owner: owner,
            identifier: { system: escalationIdentifierSystem, value: esc.id },
          },
        });
      } else {
        await appendTicketEvent(tx, actor, esc.ticketId, 'escalation-queued', now, {
          body: `Write-back to the EHR is unavailable (${problem}); the escalation is queued for follow-up by phone or secure message.`,
          data: {
            escalationId: esc.id,
            sourceId: esc.sourceId,
            problem,
            attempts: esc.attempts + 1,
            performerType: input.performerType ?? null,
            owner,
          },
        });
      }
      await recordAudit(
        tx,
        actor,
        {
          action: 'ticket.escalate',
          fhirAction: 'C',
          entityType: 'Ticket',
          entityId: esc.ticketId,
          patientRef: current.patientRef,
          outcome: taskId ? 'success' : 'failure',
          detail: { escalationId: esc.id, taskId, communicationId },
        },
        now,
      );
      return { updated: updated!, verification: await verificationStateOf(tx, actor.tenantId, next) };
    });
    return { escalation: result.updated, writtenBack: Boolean(taskId), problem, verification: result.verification };
  }

  private async writeBack(src: Source, p: Prepared): Promise<{ taskId: string; communicationId: string | null }> {
    const doFetch = this.deps.fetch ?? fetch;
    const base = src.baseUrl!.replace(/\/+$/, '');
    const auth = (await this.deps.authHeaders?.(src)) ?? {};
    const timeout = this.deps.timeoutMs ?? 10_000;
    const call = (path: string, init: RequestInit = {}) =>
      doFetch(`${base}/${path}`, {
        ...init,
        headers: { accept: 'application/fhir+json', ...auth, ...(init.headers as Record<string, string>) },
        signal: AbortSignal.timeout(timeout),
      });

    const meta = await call('metadata').catch(() => null);
    if (!meta?.ok) throw new WriteBackUnavailable('the EHR capability statement could not be read');
    const capability = (await meta.json()) as {
      rest?: { resource?: { type: string; interaction?: { code: string }[] }[] }[];
    };
    const canCreate = (type: string) =>
      capability.rest?.some((r) =>
        r.resource?.some((res) => res.type === type && res.interaction?.some((i) => i.code === 'create')),
      ) ?? false;
    if (!canCreate('Task')) throw new WriteBackUnavailable('the EHR does not accept Task create');

    const identifier = { system: escalationIdentifierSystem, value: p.escalationId };
    const now = this.clock.now().toISOString();
    // Task.owner only when a target is known; otherwise the EHR routes on performerType (or its default pool).
    const owner = p.owner ? { reference: p.owner } : undefined;
    const performerType = p.input.performerType ? [performerTypeConcepts[p.input.performerType]] : undefined;
    const requester = p.requester ? { reference: p.requester } : { display: 'fhirdesk patient support' };
    // WB-05: ticket number, reason and callback only; no billing detail.
    const note = [`fhirdesk ticket T-${p.ticketNumber}`, p.input.callback ? `Callback: ${p.input.callback}` : null]
      .filter(Boolean)
      .map((text) => ({ text: text as string }));
    const task: Task = {
      resourceType: 'Task',
      identifier: [identifier],
      status: 'requested',
      intent: 'order',
      priority: p.input.priority ?? 'urgent',
      code: { text: 'Clinical escalation from patient support' },
      description: p.input.reason,
      for: { reference: p.patientRef },
      requester,
      ...(performerType ? { performerType } : {}),
      ...(owner ? { owner } : {}),
      authoredOn: now,
      note,
    };
    const created = await call('Task', {
      method: 'POST',
      headers: {
        'content-type': 'application/fhir+json',
        'if-none-exist': `identifier=${identifier.system}|${identifier.value}`,
      },
      body: JSON.stringify(task),
    });
    if (!created.ok) throw new Error(`Task create answered ${created.status}`);
    const taskId = await idOf(created, 'Task');

    let communicationId: string | null = null;
    if (canCreate('Communication')) {
      const communication: Communication = {
        resourceType: 'Communication',
        identifier: [identifier],
        status: 'completed',
        subject: { reference: p.patientRef },
        about: [{ reference: `Task/${taskId}` }],
        sender: requester,
        ...(owner ? { recipient: [owner] } : {}),
        sent: now,
        payload: [{ contentString: p.input.message }],
      };
      const comm = await call('Communication', {
        method: 'POST',
        headers: {
          'content-type': 'application/fhir+json',
          'if-none-exist': `identifier=${identifier.system}|${identifier.value}`,
        },
        body: JSON.stringify(communication),
      });
      if (comm.ok) communicationId = await idOf(comm, 'Communication');
    }
    return { taskId, communicationId };
  }
}

async function idOf(res: Response, type: string): Promise<string> {
  const text = await res.text();
  if (text) {
    try {
      const body = JSON.parse(text) as { id?: string; resourceType?: string };
      if (body.resourceType === type && body.id) return body.id;
    } catch {
      // Fall through to Location.
    }
  }
  const location = res.headers.get('location') ?? res.headers.get('content-location') ?? '';
  const m = new RegExp(`${type}/([A-Za-z0-9\\-.]{1,64})`).exec(location);
  if (!m) throw new Error(`${type} create returned no id`);
  return m[1]!;
}

export async function listEscalations(database: Database, tenantId: string, status?: Escalation['status']) {
  const where = [eq(escalation.tenantId, tenantId)];
  if (status) where.push(eq(escalation.status, status));
  return database.db
    .select()
    .from(escalation)
    .where(and(...where))
    .limit(200);
}
