// index.html: the SMART redirect target and the agent app. Completes the launch with fhirclient,
// exchanges it for a fhirdesk session, then renders the agent view (issue #4).
import FHIR from 'fhirclient';
import type Client from 'fhirclient/lib/Client';
import { render } from 'preact';
import { AgentApp } from './agent-app';
import { launchMessage } from './launch-errors';
import { exchange, LaunchError, loadSession, type Session, saveSession } from './session';

function Message(props: { title: string; message: string }) {
  return (
    <main class="message">
      <h1>{props.title}</h1>
      <p role="alert">{props.message}</p>
    </main>
  );
}

// SAL-31: a public client identifies itself with client_id on refresh too.
FHIR.oauth2.settings.refreshTokenWithClientId = true;

async function start(root: HTMLElement): Promise<void> {
  const url = new URL(location.href);
  const code = url.searchParams.get('code');
  const state = url.searchParams.get('state');
  const hadCode = Boolean(code || state || url.searchParams.has('error'));
  const oauthError = url.searchParams.get('error_description') ?? url.searchParams.get('error');
  // SAL-84: code and state leave the address bar (and Referer) straight away.
  if (hadCode) history.replaceState(null, '', `${url.pathname}${url.hash}`);
  if (oauthError) {
    saveSession(null);
    render(<Message title="Sign-in refused" message={`The EHR refused the sign-in: ${oauthError}`} />, root);
    return;
  }
  let client: Client | null = null;
  let session = hadCode ? null : loadSession();
  try {
    if (hadCode) {
      client = await FHIR.oauth2.ready({ ...(state ? { stateKey: state } : {}), ...(code ? { code } : {}) });
      session = await exchange(client);
      saveSession(session);
    } else if (session) {
      client = await FHIR.oauth2.ready().catch(() => null);
    }
  } catch (error) {
    saveSession(null);
    const message = error instanceof LaunchError ? error.message : launchMessage(error);
    render(<Message title="Launch refused" message={message} />, root);
    return;
  }
  if (!session) {
    render(<Message title="Not launched" message="Session ended — launch the app again from the EHR." />, root);
    return;
  }
  const renew = async (): Promise<Session | null> => {
    // SAL-74/76: renew only with a granted refresh token; otherwise the session simply ends.
    if (!client || !session?.canRefresh) return null;
    try {
      await client.refresh();
      const next = await exchange(client);
      saveSession(next);
      return next;
    } catch {
      return null;
    }
  };
  // The static "Loading…" placeholder is not Preact's: clear it, or a first screen that does not start with
  // a <p> (billing queue after a reload) leaves it on the page.
  root.replaceChildren();
  render(<AgentApp initial={session} renew={renew} onEnd={() => saveSession(null)} />, root);
}

const root = document.getElementById('root');
if (root) {
  start(root).catch((error: unknown) => render(<Message title="Launch failed" message={launchMessage(error)} />, root));
}
