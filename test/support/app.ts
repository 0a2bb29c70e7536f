// A real app over the test database, with helpers to make tenants, users and tokens.
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { AuditSealer, type Database, type Role, schema } from '@fhirdesk/core';
import { createApp } from '../../packages/server/src/app';
import { TokenKeys } from '../../packages/server/src/auth/tokens';
import { createLogger } from '../../packages/server/src/http/logger';
import { createTestTenant } from './db';

export const TEST_SECRET = 'test-secret-test-secret-test-secret-0123456789';
/** Secret-box key (FHIRDESK_SECRET_KEY) of test apps: integration and transport secrets are sealed with it. */
export const TEST_SECRET_KEY = '5f'.repeat(32);

export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  }
  text(): string {
    return this.lines.join('\n');
  }
}

export interface TestApp {
  app: ReturnType<typeof createApp>;
  keys: TokenKeys;
  sealer: AuditSealer;
  logs: LogCapture;
}

export function buildTestApp(database: Database, options: { bodyLimitBytes?: number } = {}): TestApp {
  const keys = new TokenKeys(TEST_SECRET);
  const logs = new LogCapture();
  const logger = createLogger('info', logs);
  const sealer = new AuditSealer(database, { delayMs: 5 });
  const app = createApp({ database, keys, logger, sealer, secretKey: TEST_SECRET_KEY, ...options });
  return { app, keys, sealer, logs };
}

export interface TestUser {
  id: string;
  tenantId: string;
  token: string;
  roles: Role[];
}

export async function createTestUser(
  database: Database,
  keys: TokenKeys,
  tenantId: string,
  roles: Role[],
  displayName = 'Agent',
): Promise<TestUser> {
  const id = randomUUID();
  await database.db.insert(schema.appUser).values({ id, tenantId, displayName, roles });
  const token = await keys.issue({ tenantId, userId: id, roles, kind: 'user' }, 600);
  return { id, tenantId, token, roles };
}

/** A tenant with an agent, ready to call the API. */
export async function createTenantWithAgent(
  database: Database,
  keys: TokenKeys,
  roles: Role[] = ['agent'],
): Promise<TestUser> {
  const tenantId = await createTestTenant(database);
  return createTestUser(database, keys, tenantId, roles);
}

export function jsonRequest(
  token: string | null,
  method: string,
  body?: unknown,
  headers: Record<string, string> = {},
): RequestInit {
  const h: Record<string, string> = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  if (body !== undefined) h['content-type'] = 'application/json';
  return {
    method,
    headers: h,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  };
}

export const newTicket = (overrides: Record<string, unknown> = {}) => ({
  subject: 'Question about my March bill',
  category: 'billing',
  channel: 'phone',
  patient: 'Patient/example',
  ...overrides,
});
