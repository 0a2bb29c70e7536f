// /api/v1/users: the tenant's users (assignees); admins create users and change roles.

import { type AppUser, type Database, roles, type UserService } from '@fhirdesk/core';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { requireRoles } from '../auth/middleware';
import type { AppEnv } from '../http/env';
import { validationHook } from '../http/validation';
import { IdParam, ProblemSchema } from './ticket-schemas';

const UserSchema = z
  .object({
    id: z.string(),
    displayName: z.string(),
    roles: z.array(z.enum(roles)),
    languages: z.array(z.string()),
    fhirUser: z.string().nullable(),
    active: z.boolean(),
  })
  .openapi('User');
const language = z.string().regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$/, 'must be a BCP 47 language tag');
const displayName = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .refine((s) => !s.includes('\u0000'), 'must not contain NUL characters');
const CreateUserSchema = z
  .object({
    displayName,
    roles: z.array(z.enum(roles)).min(1).max(5),
    languages: z.array(language).max(10).optional(),
    fhirUser: z
      .string()
      .regex(/^(Practitioner|PractitionerRole|Person|RelatedPerson)\/[A-Za-z0-9\-.]{1,64}$/)
      .nullable()
      .optional(),
  })
  .strict()
  .openapi('CreateUser');
const UpdateUserSchema = z
  .object({
    displayName: displayName.optional(),
    roles: z.array(z.enum(roles)).min(1).max(5).optional(),
    languages: z.array(language).max(10).optional(),
    active: z.boolean().optional(),
  })
  .strict()
  .openapi('UpdateUser');

const userJson = (u: AppUser): z.infer<typeof UserSchema> => ({
  id: u.id,
  displayName: u.displayName,
  roles: u.roles,
  languages: u.languages,
  fhirUser: u.fhirUser,
  active: u.active,
});
const problems = {
  400: { content: { 'application/problem+json': { schema: ProblemSchema } }, description: 'Problem' },
  403: { content: { 'application/problem+json': { schema: ProblemSchema } }, description: 'Problem' },
};

export function userRoutes(deps: { database: Database; users: UserService }) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  const security = [{ bearerAuth: [] }];
  const admin = requireRoles(deps.database, 'admin');

  app.openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags: ['Users'],
      summary: "List the tenant's users",
      security,
      middleware: [requireRoles(deps.database, 'agent', 'billing', 'supervisor', 'admin')] as const,
      responses: {
        200: {
          content: { 'application/json': { schema: z.object({ items: z.array(UserSchema) }) } },
          description: 'Users',
        },
      },
    }),
    async (c) => c.json({ items: (await deps.users.list(c.get('actor'))).map(userJson) }, 200),
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/',
      tags: ['Users'],
      summary: 'Create a user (admin)',
      security,
      middleware: [admin] as const,
      request: { body: { content: { 'application/json': { schema: CreateUserSchema } }, required: true } },
      responses: {
        201: { content: { 'application/json': { schema: UserSchema } }, description: 'Created' },
        ...problems,
      },
    }),
    async (c) => c.json(userJson(await deps.users.create(c.get('actor'), c.req.valid('json'))), 201),
  );
  app.openapi(
    createRoute({
      method: 'patch',
      path: '/{id}',
      tags: ['Users'],
      summary: 'Change a user, including roles and deactivation (admin; audited as a privilege change)',
      security,
      middleware: [admin] as const,
      request: {
        params: IdParam,
        body: { content: { 'application/json': { schema: UpdateUserSchema } }, required: true },
      },
      responses: {
        200: { content: { 'application/json': { schema: UserSchema } }, description: 'Updated' },
        ...problems,
      },
    }),
    async (c) =>
      c.json(userJson(await deps.users.update(c.get('actor'), c.req.valid('param').id, c.req.valid('json'))), 200),
  );
  return app;
}
