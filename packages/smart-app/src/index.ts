// Pure helpers of the agent app, importable by tests (the browser entries are launch.ts and main.tsx).
export { canRead, READ_TYPES, requestedScopes } from './scopes';
