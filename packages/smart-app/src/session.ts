// The fhirdesk session after a SMART launch: kept in memory and sessionStorage only (SAL-70, no
// localStorage), renewed by a SMART refresh + re-exchange when a refresh token was granted (SAL-74).
import type Client from 'fhirclient/lib/Client';
import { sessionMessage } from './launch-errors';

export interface Session {
  token: string;
  expiresAt: number;
  patient: string;
  iss: string;
  scope: string;
  needPatientBanner: boolean;
  canRefresh: boolean;
  /** Idle limit (HIPAA-04): the server's session token lifetime, renewed on input. */
  idleMs?: number;
  user: { id: string; displayName: string; roles: string[] };
}

const KEY = 'fhirdesk.session';

export function loadSession(): Session | null {
  const raw = sessionStorage.getItem(KEY);
  if (!raw) return null;
  try {
    return JSON.parse(raw) as Session;
  } catch {
    return null;
  }
}

export function saveSession(session: Session | null): void {
  if (session) sessionStorage.setItem(KEY, JSON.stringify(session));
  else sessionStorage.removeItem(KEY);
}

export class LaunchError extends Error {}

interface Problem {
  detail?: string;
  title?: string;
  code?: string;
  reason?: string;
}

/** POST /auth/session with what the token response gave us; the server verifies all of it (SAL-60/61). */
export async function exchange(client: Client): Promise<Session> {
  const tr = client.state.tokenResponse ?? {};
  const idToken = tr.id_token;
  const accessToken = tr.access_token;
  const patient = typeof tr.patient === 'string' ? tr.patient : '';
  if (!idToken) throw new LaunchError('The EHR did not return an identity token (openid fhirUser was not granted).');
  if (!patient) throw new LaunchError('The EHR did not say which patient this launch is for (no patient context).');
  const iss = client.state.serverUrl.replace(/\/+$/, '');
  const res = await fetch('/auth/session', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ idToken, accessToken, iss, patient }),
  });
  const body = (await res.json().catch(() => ({}))) as Problem & {
    token?: string;
    expiresIn?: number;
    user?: Session['user'];
  };
  if (!res.ok || !body.token) throw new LaunchError(sessionMessage(body));
  return {
    token: body.token,
    expiresAt: Date.now() + (body.expiresIn ?? 300) * 1000,
    patient,
    iss,
    scope: typeof tr.scope === 'string' ? tr.scope : '',
    // SAL-53: hide our banner only on an explicit false.
    needPatientBanner: tr.need_patient_banner !== false,
    canRefresh: Boolean(tr.refresh_token),
    idleMs: (body.expiresIn ?? 300) * 1000,
    user: body.user ?? { id: '', displayName: '', roles: [] },
  };
}
