// The agent view (issue #4): pure projections of cached FHIR JSON and the service that reads them.
export * from './adjudication-summary';
export * from './claim-row';
export * from './coverage-card';
export * from './local-reference';
export * from './patient-banner';
export * from './patient-context';
export * from './patient-context-service';
export * from './patient-view-projection';
export * from './role-shaping';
