// Public entry of @fhirdesk/core: the domain, the schema and the data-access layer.

export * from './agent-view/index';
export * from './assignment/index';
export * from './audit/index';
export * from './channels/index';
export * from './context/actor';
export * from './conversations/index';
export * from './db/database';
export * from './db/schema/enums';
export type {
  AgentSkill,
  AppUser,
  AuditEventRow,
  FhirResourceRow,
  QueuePolicy,
  Source,
  Tenant,
  TenantSecret,
  Ticket,
  TicketEvent,
  TicketLink,
} from './db/schema/index';
export * as schema from './db/schema/index';
export * from './disputes/index';
export * from './errors';
export * from './escalation/index';
export * from './fhir/adjudication/index';
export * from './fhir/contained';
export * from './fhir/content-hash';
export * from './fhir/patient-of';
export * from './fhir/reference';
export * from './fhir/resource-shape';
export * from './metrics/index';
export * from './secrets/index';
export * from './sla/index';
export * from './surveys/index';
export * from './tickets/index';
export * from './triage/index';
export * from './users/index';
export * from './x12/index';
