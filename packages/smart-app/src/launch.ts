// launch.html: EHR launch (`?iss&launch`, SAL-10) or standalone launch (`?iss`, SAL-11).
// The issuer is checked against fhirdesk's registered sources before any discovery or redirect (SAL-04).
import FHIR from 'fhirclient';
import { requestedScopes, type ServerConfig } from './scopes';

interface AppConfig {
  issuers: { iss: string; clientId: string }[];
}

function show(message: string): void {
  const box = document.getElementById('status');
  if (!box) return;
  box.setAttribute('role', 'alert');
  box.textContent = message; // textContent: never HTML (SAL-82)
}

async function launch(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const iss = (params.get('iss') ?? '').replace(/\/+$/, '');
  const launchToken = params.get('launch');
  if (!iss) return show('The launch is missing the EHR address (iss). Launch the app from the EHR.');
  const config = (await (await fetch('/app/config.json', { cache: 'no-store' })).json()) as AppConfig;
  const source = config.issuers.find((i) => i.iss === iss);
  if (!source) {
    return show('This EHR is not registered with fhirdesk (unknown issuer), so the launch was refused.');
  }
  // SAL-02/05/41: read the server's capabilities to choose v1 or v2 scopes and offline access.
  let discovered: ServerConfig = {};
  try {
    const res = await fetch(`${iss}/.well-known/smart-configuration`, { headers: { accept: 'application/json' } });
    if (res.ok) discovered = (await res.json()) as ServerConfig;
  } catch {
    return show('The EHR could not be reached to start the sign-in. Try again from the EHR.');
  }
  if (!(discovered.code_challenge_methods_supported ?? []).includes('S256')) {
    return show('This EHR does not support PKCE (S256), which fhirdesk requires; the launch was stopped.');
  }
  // Fresh per launch; sessionStorage only (SAL-70).
  sessionStorage.removeItem('fhirdesk.session');
  await FHIR.oauth2.authorize({
    iss,
    ...(launchToken ? { launch: launchToken } : {}),
    clientId: source.clientId,
    scope: requestedScopes(discovered, launchToken ? 'ehr' : 'standalone'),
    redirectUri: new URL('/app/index.html', location.href).toString(),
    pkceMode: 'required', // CJS-02 / SAL-23
    stateKey: crypto.randomUUID(), // CJS-01 / SAL-21: 122 random bits from the CSPRNG
    issMatch: (candidate: string) => candidate.replace(/\/+$/, '') === iss, // SAL-04
    completeInTarget: true, // CJS-05
  });
}

launch().catch((error: unknown) => {
  show(error instanceof Error ? error.message : 'The launch failed. Launch the app again from the EHR.');
});
