// Domain vocabularies, one TS union each, mirrored by CHECK constraints in the schema.
export const ticketCategories = [
  'billing',
  'insurance',
  'claim-dispute',
  'prescription',
  'portal-access',
  'care-coordination',
  'general-info',
  'complaint',
] as const;
export type TicketCategory = (typeof ticketCategories)[number];

export const ticketChannels = ['phone', 'chat', 'email', 'sms', 'portal', 'in-person'] as const;
export type TicketChannel = (typeof ticketChannels)[number];

export const ticketStatuses = [
  'new',
  'open',
  'pending-patient',
  'pending-payer',
  'escalated',
  'resolved',
  'closed',
] as const;
export type TicketStatus = (typeof ticketStatuses)[number];

export const ticketPriorities = ['low', 'normal', 'high', 'urgent'] as const;
export type TicketPriority = (typeof ticketPriorities)[number];

export const roles = ['agent', 'billing', 'supervisor', 'admin', 'integration'] as const;
export type Role = (typeof roles)[number];

/** Resource types a ticket may link to (issue #2). */
export const linkableResourceTypes = [
  'Patient',
  'Coverage',
  'Claim',
  'ClaimResponse',
  'ExplanationOfBenefit',
  'Account',
] as const;
export type LinkableResourceType = (typeof linkableResourceTypes)[number];

export const ticketEventTypes = [
  'created',
  'field-changed',
  'status-changed',
  'assigned',
  'message',
  'note',
  'linked',
  'unlinked',
  'dispute-stage-changed',
  'payer-contact',
  'dispute-updated',
  'auto-opened',
  'reversal-detected',
  // Conversations (issue #6).
  'triaged',
  'red-flag',
  'escalated-to-ehr',
  'escalation-queued',
  'sla-at-risk',
  'sla-breached',
  'delivery-status',
  'csat',
  'patient-linked',
  'patient-unlinked',
  'routing-corrected',
  // An agent confirmed reading the red-flag safety script (issue #6).
  'safety-prompt-acknowledged',
] as const;
export type TicketEventType = (typeof ticketEventTypes)[number];

export const messageDirections = ['inbound', 'outbound'] as const;
export type MessageDirection = (typeof messageDirections)[number];

export const actorKinds = ['user', 'system', 'integration'] as const;
export type ActorKind = (typeof actorKinds)[number];

export const auditOutcomes = ['success', 'failure', 'denied'] as const;
export type AuditOutcome = (typeof auditOutcomes)[number];

/** SQL `IN (...)` list for a CHECK constraint built from one of the unions above. */
export function sqlList(values: readonly string[]): string {
  return values.map((v) => `'${v.replace(/'/g, "''")}'`).join(', ');
}
