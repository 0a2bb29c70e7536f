// CSAT/NPS surveys after resolution (issue #6).

export * from './survey-invitation';
export * from './survey-service';
