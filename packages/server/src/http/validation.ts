import { ValidationError } from '@fhirdesk/core';
import type { ZodError } from 'zod';

/** Turns a zod failure from any request part into one ValidationError with per-field messages. */
export function validationHook(result: { success: boolean; error?: unknown; target?: string }): void {
  if (result.success) return;
  const error = result.error as ZodError;
  const target = result.target ?? 'request';
  const errors = error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') message = `unknown field(s): ${issue.keys.join(', ')}`;
    return { field: path || (issue.code === 'unrecognized_keys' ? issue.keys.join(',') : target), message };
  });
  throw new ValidationError(`The ${target === 'json' ? 'request body' : target} is invalid`, errors);
}
