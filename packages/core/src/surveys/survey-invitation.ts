// The CSAT invitation (issue #6). Its link is a bearer credential: whoever holds it can answer the survey
// in the patient's name, so it is made only when the message is handed to a transport and is never stored
// or shown to staff (HIPAA-07). The timeline keeps a notice saying that an invitation went out and until when.

/** Builds the public survey URL for a survey (the server signs the token; core never sees the key). */
export type SurveyLinkBuilder = (surveyId: string, expiresAt: Date) => Promise<string>;

/** What a survey-invitation event carries (`data.survey`): enough to build the link at send time. */
export interface SurveyInvitationRef {
  id: string;
  expiresAt: string;
}

/**
 * The patient-facing invitation: the link and nothing else about the case (no subject, diagnosis or
 * amount), in the ticket's language when it is Spanish, else English.
 */
export function surveyInvitation(link: string, language: string | null): string {
  if (language && /^es\b/i.test(language)) {
    return `Gracias por contactarnos. ¿Cómo lo hicimos? Responda en un minuto (una sola vez): ${link}`;
  }
  return `Thank you for contacting us. How did we do? Tell us in one minute (the link works once): ${link}`;
}

/** The staff-facing record of an invitation: that it was issued, on which channel, until when. */
export function surveyInvitationNotice(channel: string, expiresAt: Date): string {
  return `CSAT survey invitation sent by ${channel}; the single-use link goes to the patient only and expires ${expiresAt.toISOString()}.`;
}

/** The survey an outbound message invites to, when it is an invitation. */
export function surveyInvitationOf(data: unknown): SurveyInvitationRef | null {
  const survey = (data as { survey?: { id?: unknown; expiresAt?: unknown } } | null)?.survey;
  return survey && typeof survey.id === 'string'
    ? { id: survey.id, expiresAt: typeof survey.expiresAt === 'string' ? survey.expiresAt : '' }
    : null;
}

/**
 * A timeline event as staff may see it: an invitation's body is replaced by the notice. Invitations
 * written before links were made at send time carried the link in their body; this keeps those hidden too.
 */
export function withoutSurveyLink<
  E extends { type: string; channel: string | null; body: string | null; data: unknown },
>(event: E): E {
  const survey = event.type === 'message' ? surveyInvitationOf(event.data) : null;
  if (!survey || !event.body || !/\/survey\//.test(event.body)) return event;
  const expires = survey.expiresAt ? new Date(survey.expiresAt) : null;
  return {
    ...event,
    body:
      expires && !Number.isNaN(expires.getTime())
        ? surveyInvitationNotice(event.channel ?? 'message', expires)
        : 'CSAT survey invitation sent; the single-use link goes to the patient only.',
  };
}
