// Typed domain errors with stable codes and safe detail (no PHI, no secrets); the server maps each
// class to one problem+json shape in one place. Modelled on jose's error classes.

export interface FieldError {
  /** JSON pointer-ish path of the offending field, e.g. `subject` or `links.0.reference`. */
  field: string;
  message: string;
}

export abstract class DomainError extends Error {
  abstract readonly code: string;
  abstract readonly status: number;
  /** Extra, safe, machine-readable members for the problem document. */
  readonly extensions: Record<string, unknown>;
  constructor(message: string, extensions: Record<string, unknown> = {}) {
    super(message);
    this.name = new.target.name;
    this.extensions = extensions;
  }
}

export class ValidationError extends DomainError {
  readonly code = 'validation-failed';
  readonly status = 400;
  readonly errors: FieldError[];
  constructor(message: string, errors: FieldError[] = []) {
    super(message, { errors });
    this.errors = errors;
  }
}

export class NotFoundError extends DomainError {
  readonly code = 'not-found';
  readonly status = 404;
}

export class ConflictError extends DomainError {
  readonly code: string;
  readonly status = 409;
  constructor(message: string, extensions: Record<string, unknown> = {}, code = 'conflict') {
    super(message, extensions);
    this.code = code;
  }
}

/** A write based on a stale row version (If-Match mismatch). */
export class PreconditionFailedError extends DomainError {
  readonly code = 'version-mismatch';
  readonly status = 412;
}

export class PreconditionRequiredError extends DomainError {
  readonly code = 'precondition-required';
  readonly status = 428;
}

export class UnauthorizedError extends DomainError {
  readonly code = 'unauthorized';
  readonly status = 401;
}

export class ForbiddenError extends DomainError {
  readonly code = 'forbidden';
  readonly status = 403;
}

/** The EHR or another upstream system failed or answered something unusable. */
export class UpstreamError extends DomainError {
  readonly code = 'upstream-failed';
  readonly status = 502;
}

/** Well-formed input that cannot be accepted, e.g. a source whose server lacks a needed capability. */
export class UnprocessableError extends DomainError {
  readonly code: string;
  readonly status = 422;
  constructor(message: string, extensions: Record<string, unknown> = {}, code = 'unprocessable') {
    super(message, extensions);
    this.code = code;
  }
}
