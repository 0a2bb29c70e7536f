// fhir-kit-client logs full request headers (the bearer token) and bodies (PHI) through `debug` when
// DEBUG=fhir-kit-client:* is set. It must stay off everywhere (ERR-05), whatever the environment says.
import { createRequire } from 'node:module';

interface DebugModule {
  enable(namespaces: string): void;
  disable(): string;
  enabled(name: string): boolean;
}

const require = createRequire(import.meta.url);
// The same `debug` instance fhir-kit-client imports (it has no nested copy).
const debug = require('debug') as DebugModule;

const SKIP = '-fhir-kit-client:*';

/** Re-enables whatever was enabled, plus a skip rule for fhir-kit-client's namespaces. */
export function silenceFhirKitClientDebug(): void {
  if (!fhirKitClientDebugEnabled()) return;
  const current = debug.disable();
  const kept = current.split(/[\s,]+/).filter((ns) => ns && !ns.startsWith('fhir-kit-client') && ns !== SKIP);
  debug.enable([...kept, SKIP].join(','));
}

export function fhirKitClientDebugEnabled(): boolean {
  return debug.enabled('fhir-kit-client:info') || debug.enabled('fhir-kit-client:error');
}
