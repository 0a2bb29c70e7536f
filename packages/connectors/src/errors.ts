// Connector failures as typed values: integration engineers switch on `reason`; messages carry status codes,
// issue codes and resource types only — never PHI, tokens or client assertions (BS-08, ERR-04).
import { UpstreamError } from '@fhirdesk/core';

export type ConnectorFailure =
  | 'unreachable'
  | 'timeout'
  | 'http'
  | 'throttled'
  | 'invalid-body'
  | 'not-fhir'
  | 'missing-capability'
  | 'token'
  | 'unauthorized'
  | 'forbidden'
  | 'not-found'
  | 'paging-loop'
  | 'bulk-failed'
  | 'aborted'
  | 'busy'
  | 'config';

export class ConnectorError extends UpstreamError {
  readonly reason: ConnectorFailure;
  readonly httpStatus: number | undefined;
  /** Whether a retry of the same request could succeed (ERR-02/03). */
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  constructor(
    reason: ConnectorFailure,
    message: string,
    options: {
      httpStatus?: number;
      retryable?: boolean;
      retryAfterMs?: number;
      extensions?: Record<string, unknown>;
    } = {},
  ) {
    super(message, { reason, httpStatus: options.httpStatus, ...(options.extensions ?? {}) });
    this.reason = reason;
    this.httpStatus = options.httpStatus;
    this.retryable = options.retryable ?? false;
    this.retryAfterMs = options.retryAfterMs;
  }
}
