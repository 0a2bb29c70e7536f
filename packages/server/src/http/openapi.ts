// Shared pieces of route definitions (@hono/zod-openapi): request bodies, responses, problem documents.
import type { z } from '@hono/zod-openapi';
import { ProblemSchema } from '../routes/ticket-schemas';

export const bearerSecurity = [{ bearerAuth: [] }];

/** A JSON response of `schema`. */
export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { 'application/json': { schema } },
  description,
});

/** A required JSON request body of `schema`. */
export const body = <T extends z.ZodType>(schema: T) => ({
  body: { content: { 'application/json': { schema } }, required: true },
});

/** problem+json responses (RFC 9457) for the listed statuses. */
export const problems = (...codes: number[]) =>
  Object.fromEntries(
    codes.map((code) => [
      code,
      { content: { 'application/problem+json': { schema: ProblemSchema } }, description: 'Problem' },
    ]),
  );
