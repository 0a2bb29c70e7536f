// Public entry of @fhirdesk/core: the domain, the schema and the data-access layer.
export * from './db/database';
export * from './db/schema/enums';
export * as schema from './db/schema/index';
