// Claim disputes (issue 5): lifecycle, reasons, appeal deadlines and plain-language explanations.
export * from './appeal-deadline';
export * from './auto-open';
export * from './dispute-reason';
export * from './dispute-service';
export * from './dispute-stage';
export * from './dispute-ticket-status';
export * from './explain-claim';
export * from './import-remittance';
