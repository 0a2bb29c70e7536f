// Bearer authentication and deny-by-default role checks (HIPAA-01).
import { type Database, ForbiddenError, type Role, recordAudit, UnauthorizedError } from '@fhirdesk/core';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../http/env';
import type { TokenKeys } from './tokens';

export function authenticate(keys: TokenKeys) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.header('authorization');
    const match = header ? /^Bearer\s+([A-Za-z0-9\-_.~+/]+=*)\s*$/i.exec(header) : null;
    if (!match)
      throw new UnauthorizedError('Send an access token as "Authorization: Bearer <token>"', { reason: 'missing' });
    const claims = await keys.verify(match[1]!);
    c.set('actor', {
      tenantId: claims.tenantId,
      userId: claims.userId,
      kind: claims.kind,
      roles: claims.roles,
      requestId: c.get('requestId'),
      patientScope: claims.patient ?? null,
    });
    await next();
  });
}

/** Allows the request only for the listed roles; a denial is itself audited (AUD-06). */
export function requireRoles(database: Database, ...allowed: Role[]) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const actor = c.get('actor');
    if (!actor.roles.some((r) => allowed.includes(r))) {
      await recordAudit(database.db, actor, {
        action: 'access.denied',
        fhirAction: 'E',
        entityType: 'Route',
        outcome: 'denied',
        detail: { route: c.req.routePath, method: c.req.method },
      }).catch(() => {});
      throw new ForbiddenError(`This action needs one of the roles: ${allowed.join(', ')}`, { requiredRoles: allowed });
    }
    await next();
  });
}
