// Human messages for launch failures (SAL-35). Messages never echo tokens, codes or patient data.
export function launchMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  if (/state/i.test(text) && /(no|not found|missing|invalid|match)/i.test(text)) {
    return 'This sign-in could not be matched to a launch (the state check failed). Launch the app again from the EHR.';
  }
  return text || 'The launch failed. Launch the app again from the EHR.';
}

/** Problem+json from the session exchange → a message per reason code. */
export function sessionMessage(problem: { detail?: string; title?: string; code?: string; reason?: string }): string {
  // The server's detail is written for people (SAL-35); the reason code only fills gaps.
  if (problem.detail) return problem.detail;
  const reason = problem.reason ?? problem.code ?? '';
  if (/unknown-issuer/.test(reason)) return 'This EHR is not registered with fhirdesk, so the launch was refused.';
  if (/patient-mismatch/.test(reason))
    return 'Patient mismatch: the EHR did not confirm this patient. The launch was refused.';
  if (/expired/.test(reason))
    return 'Your EHR sign-in has expired (id_token expired). Launch the app again from the EHR.';
  if (/signature/.test(reason))
    return 'The EHR sign-in could not be verified (invalid id_token signature). The launch was refused.';
  return problem.title ?? 'The launch was refused by fhirdesk.';
}
