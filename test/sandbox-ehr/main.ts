// Runs the sandbox EHR on its own: `npx tsx test/sandbox-ehr/main.ts` (SANDBOX_EHR_PORT, default 8090).
import { startSandboxEhr } from './index';

const port = Number(process.env.SANDBOX_EHR_PORT ?? 8090);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  throw new Error('SANDBOX_EHR_PORT must be a port number');
}
const ehr = await startSandboxEhr({ port, requireAuth: process.env.SANDBOX_EHR_REQUIRE_AUTH === 'true' });
console.info(`sandbox EHR FHIR base: ${ehr.fhirBaseUrl}\ntoken endpoint: ${ehr.tokenUrl}`);
const stop = () => void ehr.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
