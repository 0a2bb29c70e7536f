// OperationOutcome responses (R4 operationoutcome.html; ERR-01): every FHIR-facing error is one of
// these with a matching HTTP status, never a stack trace or resource content.
import type { OperationOutcome } from 'fhir/r4';

export const FHIR_JSON = 'application/fhir+json; charset=utf-8';

export type IssueCode = OperationOutcome['issue'][number]['code'];

export function operationOutcome(
  code: IssueCode,
  text: string,
  severity: OperationOutcome['issue'][number]['severity'] = 'error',
): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [{ severity, code, details: { text } }] };
}

/** An error carrying the OperationOutcome and status to answer with. */
export class FhirHttpError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 405 | 409 | 410 | 412 | 422 | 429 | 500,
    readonly outcome: OperationOutcome,
  ) {
    super(outcome.issue[0]?.details?.text ?? 'FHIR error');
    this.name = 'FhirHttpError';
  }

  static badRequest(text: string): FhirHttpError {
    return new FhirHttpError(400, operationOutcome('invalid', text));
  }

  static notFound(text = 'Not found'): FhirHttpError {
    return new FhirHttpError(404, operationOutcome('not-found', text));
  }

  static unauthorized(text: string): FhirHttpError {
    return new FhirHttpError(401, operationOutcome('login', text));
  }
}

/** A JSON body with the FHIR media type (R4 http.html#mime-type). */
export function fhirResponse(body: unknown, status: number, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': FHIR_JSON, ...headers } });
}

export function outcomeResponse(error: FhirHttpError, headers: Record<string, string> = {}): Response {
  return fhirResponse(error.outcome, error.status, headers);
}
