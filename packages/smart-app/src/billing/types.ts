// Shapes of the dispute API as the app reads them (types only; the server is the source of truth).
import type { AgentDisputeView, DisputePage, FullDisputeView } from '@fhirdesk/core';

export type { AgentDisputeView, DisputePage, FullDisputeView };
export type DisputeView = FullDisputeView | AgentDisputeView;

export interface StaffUser {
  id: string;
  displayName: string;
  roles: string[];
  active: boolean;
}
