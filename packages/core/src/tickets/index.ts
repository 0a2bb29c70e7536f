export * from './ticket-event';
export * from './ticket-number';
export * from './ticket-service';
export * from './ticket-status';
