import type { Actor } from '@fhirdesk/core';
import type { Logger } from './logger';

export interface AppEnv {
  Variables: {
    requestId: string;
    actor: Actor;
    log: Logger;
  };
}
