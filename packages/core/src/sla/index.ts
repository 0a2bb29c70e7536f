// SLA: business calendars, business-time arithmetic, policies and due times (issue #6).
export * from './business-calendar';
export * from './business-time';
export * from './due-times';
export * from './sla-policy';
export * from './sla-service';
export * from './time-zone';
