import type { Actor } from '@fhirdesk/core';

export interface AppEnv {
  Variables: {
    requestId: string;
    actor: Actor;
  };
}
