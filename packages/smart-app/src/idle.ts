// HIPAA-04 automatic logoff in the app: no user input for the idle limit ends the session (token and PHI
// dropped); input renews the server's short-lived session token, which is what lets the server refuse an
// idle session on its own (POST /auth/session/renew, docs/architecture.md).

/** What counts as activity: the user's input, not timers, focus changes or mouse drift over the page. */
export const INPUT_EVENTS = ['pointerdown', 'keydown', 'wheel', 'touchstart'] as const;

export interface IdleTimer {
  /** User input: restart the idle countdown. */
  activity(): void;
  stop(): void;
}

/** Calls `onIdle` once, `idleMs` after the last `activity()` (or creation). */
export function createIdleTimer(options: { idleMs: number; onIdle: () => void }): IdleTimer {
  let handle: ReturnType<typeof setTimeout> | undefined;
  let done = false;
  const arm = () => {
    if (done) return;
    if (handle !== undefined) clearTimeout(handle);
    handle = setTimeout(() => {
      done = true;
      options.onIdle();
    }, options.idleMs);
  };
  arm();
  return {
    activity: arm,
    stop() {
      done = true;
      if (handle !== undefined) clearTimeout(handle);
    },
  };
}

/**
 * Renew on input once a tenth of the token's lifetime has passed: the server-side expiry then stays within
 * 10 % of "idle limit after the last input", and typing does not send a request per key.
 */
export function shouldRenew(expiresAt: number, idleMs: number, now: number): boolean {
  return expiresAt - now < idleMs * 0.9;
}

/** POST /auth/session/renew with the current session token; null when the server refuses it. */
export async function renewSessionToken(token: string): Promise<{ token: string; expiresIn: number } | null> {
  try {
    const res = await fetch('/auth/session/renew', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' },
      body: '{}',
    });
    if (!res.ok) return null;
    return (await res.json()) as { token: string; expiresIn: number };
  } catch {
    return null;
  }
}
