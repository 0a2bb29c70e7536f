import type { ActorKind, Role } from '../db/schema/enums';

/** Who is acting, for whom, in which request: passed into every core service call. */
export interface Actor {
  tenantId: string;
  userId: string | null;
  kind: ActorKind;
  roles: readonly Role[];
  /** Client id or integration name for non-human actors. */
  label?: string | null;
  requestId?: string | null;
  /** Patient the session is scoped to (SMART launch), when any. */
  patientScope?: string | null;
}

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
