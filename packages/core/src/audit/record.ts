// Appending audit rows inside the caller's transaction (HIPAA-06, AUD-01..07).
import { sql } from 'drizzle-orm';
import type { Actor } from '../context/actor';
import type { Executor } from '../db/database';
import { auditEvent } from '../db/schema/audit';
import type { AuditOutcome } from '../db/schema/enums';
import { newAuditId } from './audit-id';

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
  if (list.length >= BATCH_MIN) return recordAuditBatch(executor, actor, list, occurredAt);
  await executor.insert(auditEvent).values(
    list.map((e) => ({
      id: newAuditId(),
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

/** From this many entries on, rows travel as one JSON parameter (see recordAuditBatch). */
const BATCH_MIN = 16;

/**
 * The same rows as the multi-row INSERT, with the per-row fields in one JSON parameter instead of 14
 * parameters per row: a sync page audits up to one row per patient (AUD-07, hundreds per page), and drizzle
 * building those parameters cost the sync about a tenth of its client CPU (docs/benchmarks.md). Rows keep the
 * list's order (and so its `seq` order).
 */
async function recordAuditBatch(
  executor: Executor,
  actor: Actor,
  list: readonly AuditEntry[],
  occurredAt: Date,
): Promise<void> {
  const rows = list.map((e) => ({
    id: newAuditId(),
    action: e.action,
    entity_type: e.entityType,
    entity_id: e.entityId ?? null,
    patient_ref: e.patientRef ?? null,
    outcome: e.outcome ?? 'success',
    purpose: e.purpose ?? null,
    detail: { fhirAction: e.fhirAction, ...(e.detail ?? {}) },
  }));
  await executor.execute(sql`
    INSERT INTO ${auditEvent} (id, tenant_id, occurred_at, actor_id, actor_kind, actor_label, action, entity_type,
      entity_id, patient_ref, outcome, purpose, request_id, detail)
    SELECT r.id, ${actor.tenantId}::uuid, ${occurredAt.toISOString()}::timestamptz, ${actor.userId}::uuid,
      ${actor.kind}, ${actor.label ?? null}, r.action, r.entity_type, r.entity_id, r.patient_ref, r.outcome,
      r.purpose, ${actor.requestId ?? null}, r.detail
    FROM ROWS FROM (jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS (id uuid, action text, entity_type text,
      entity_id text, patient_ref text, outcome text, purpose text, detail jsonb)) WITH ORDINALITY
      AS r(id, action, entity_type, entity_id, patient_ref, outcome, purpose, detail, n)
    ORDER BY r.n`);
}
