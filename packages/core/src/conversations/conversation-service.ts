// Agent actions on conversations: link or unlink the patient by hand (when contact matching found
// several or none) and correct triage's routing, which counts against routing accuracy.
import { and, eq } from 'drizzle-orm';
import { reassignOnQueueChange } from '../assignment/auto-assign';
import { recordAudit } from '../audit/record';
import type { Actor, Clock } from '../context/actor';
import { systemClock } from '../context/actor';
import type { Database } from '../db/database';
import { ticketTriage } from '../db/schema/conversations';
import type { TicketCategory } from '../db/schema/enums';
import { fhirResource } from '../db/schema/sources';
import type { Ticket } from '../db/schema/tickets';
import { NotFoundError, ValidationError } from '../errors';
import type { VerificationState } from './caller-verification';
import { appendTicketEvent, lockTicket, writeTicket } from './timeline';
import { restrictTicket, verificationStateOf } from './verification-view';

export class ConversationService {
  private readonly database: Database;
  private readonly clock: Clock;
  private readonly afterCommit: (actor: Actor) => void;

  constructor(deps: { database: Database; clock?: Clock; afterCommit?: (actor: Actor) => void }) {
    this.database = deps.database;
    this.clock = deps.clock ?? systemClock;
    this.afterCommit = deps.afterCommit ?? (() => {});
  }

  /** Link (`Patient/<id>` of the tenant's cache) or unlink (`null`) the ticket's patient. */
  async setPatient(
    actor: Actor,
    ticketId: string,
    patient: string | null,
  ): Promise<Ticket & { verification: VerificationState }> {
    const now = new Date(Math.floor(this.clock.now().getTime()));
    const row = await this.database.db.transaction(async (tx) => {
      const current = await lockTicket(tx, actor.tenantId, ticketId);
      let sourceId: string | null = null;
      if (patient !== null) {
        const m = /^Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(patient);
        if (!m)
          throw new ValidationError('Invalid patient reference', [{ field: 'patient', message: 'use Patient/<id>' }]);
        const cached = await tx
          .select({ sourceId: fhirResource.sourceId })
          .from(fhirResource)
          .where(
            and(
              eq(fhirResource.tenantId, actor.tenantId),
              eq(fhirResource.resourceType, 'Patient'),
              eq(fhirResource.resourceId, m[1]!),
              eq(fhirResource.deleted, false),
            ),
          )
          .limit(2);
        if (cached.length === 0) throw new NotFoundError('No such patient in this tenant');
        sourceId = cached.length === 1 ? cached[0]!.sourceId : null;
      }
      const updated = await writeTicket(tx, current, {
        patientRef: patient,
        patientSourceId: sourceId,
        updatedAt: now,
      });
      await appendTicketEvent(tx, actor, ticketId, patient ? 'patient-linked' : 'patient-unlinked', now, {
        data: { reference: patient ?? current.patientRef, previous: current.patientRef, by: 'agent' },
      });
      await recordAudit(
        tx,
        actor,
        {
          action: patient ? 'ticket.patient.link' : 'ticket.patient.unlink',
          fhirAction: 'U',
          entityType: 'Ticket',
          entityId: ticketId,
          patientRef: patient ?? current.patientRef,
        },
        now,
      );
      // Echoing the reference back would reveal whom the agent picked before the caller proved it.
      return restrictTicket(updated, await verificationStateOf(tx, actor.tenantId, updated));
    });
    this.afterCommit(actor);
    return row;
  }

  /**
   * Change category and/or queue. When triage set them and the agent disagrees, the correction is
   * recorded once per ticket (`ticket_triage.corrected_at`) and on the timeline; routing accuracy
   * in the metrics is 1 − corrected / triaged.
   */
  async correctRouting(
    actor: Actor,
    ticketId: string,
    input: { category?: TicketCategory | undefined; queue?: string | undefined },
  ): Promise<Ticket> {
    const now = new Date(Math.floor(this.clock.now().getTime()));
    const row = await this.database.db.transaction(async (tx) => {
      const current = await lockTicket(tx, actor.tenantId, ticketId);
      const changes: Record<string, { from: unknown; to: unknown }> = {};
      const patch: Partial<Ticket> = { updatedAt: now };
      if (input.category && input.category !== current.category) {
        changes.category = { from: current.category, to: input.category };
        patch.category = input.category;
      }
      if (input.queue && input.queue !== current.queue) {
        changes.queue = { from: current.queue, to: input.queue };
        patch.queue = input.queue;
      }
      if (Object.keys(changes).length === 0) return current;
      const updated = await writeTicket(tx, current, patch);
      await appendTicketEvent(tx, actor, ticketId, 'field-changed', now, { data: { changes } });
      if (changes.queue) await reassignOnQueueChange(tx, actor, updated, current.queue, now);
      const [triaged] = await tx.select().from(ticketTriage).where(eq(ticketTriage.ticketId, ticketId));
      if (triaged) {
        await appendTicketEvent(tx, actor, ticketId, 'routing-corrected', now, {
          data: { triaged: { category: triaged.category, queue: triaged.queue }, changes, ruleIds: triaged.ruleIds },
        });
        if (!triaged.correctedAt) {
          await tx.update(ticketTriage).set({ correctedAt: now }).where(eq(ticketTriage.ticketId, ticketId));
        }
      }
      await recordAudit(
        tx,
        actor,
        {
          action: 'ticket.update',
          fhirAction: 'U',
          entityType: 'Ticket',
          entityId: ticketId,
          patientRef: current.patientRef,
          detail: { changed: Object.keys(changes), routingCorrection: Boolean(triaged) },
        },
        now,
      );
      return updated;
    });
    this.afterCommit(actor);
    return row;
  }
}
