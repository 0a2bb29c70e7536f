// Appending audit rows inside the caller's transaction (HIPAA-06, AUD-01..07).
import { randomUUID } from 'node:crypto';
import type { Actor } from '../context/actor';
import type { Executor } from '../db/database';
import { auditEvent } from '../db/schema/audit';
import type { AuditOutcome } from '../db/schema/enums';

export type FhirAuditAction = 'C' | 'R' | 'U' | 'D' | 'E';

export interface AuditEntry {
  /** Dotted verb, e.g. `ticket.create`, `ticket.search`, `patient-context.read`. */
  action: string;
  /** AuditEvent.action code: create, read, update, delete, execute (search). */
  fhirAction: FhirAuditAction;
  entityType: string;
  entityId?: string | null;
  patientRef?: string | null;
  outcome?: AuditOutcome;
  purpose?: string | null;
  /** Identifiers and codes only — never names, free text or values (AUD-05). */
  detail?: Record<string, unknown>;
}

export async function recordAudit(
  executor: Executor,
  actor: Actor,
  entries: AuditEntry | readonly AuditEntry[],
  at: Date = new Date(),
): Promise<void> {
  const list = Array.isArray(entries) ? entries : [entries as AuditEntry];
  if (list.length === 0) return;
  // Millisecond precision: the value must survive a round trip through JS Dates to re-hash equally.
  const occurredAt = new Date(Math.floor(at.getTime()));
  await executor.insert(auditEvent).values(
    list.map((e) => ({
      id: randomUUID(),
      tenantId: actor.tenantId,
      occurredAt,
      actorId: actor.userId,
      actorKind: actor.kind,
      actorLabel: actor.label ?? null,
      action: e.action,
      entityType: e.entityType,
      entityId: e.entityId ?? null,
      patientRef: e.patientRef ?? null,
      outcome: e.outcome ?? 'success',
      purpose: e.purpose ?? null,
      requestId: actor.requestId ?? null,
      detail: { fhirAction: e.fhirAction, ...(e.detail ?? {}) },
    })),
  );
}
