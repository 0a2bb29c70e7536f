// The fhirdesk CLI: exit codes scripts can rely on, tokens the API accepts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '@fhirdesk/core';
import type { Patient } from 'fhir/r4';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTokenKeys } from '../../packages/server/src/auth/signing-key';
import type { CliIo } from '../../packages/server/src/cli/context';
import { main } from '../../packages/server/src/cli/main';
import { loadConfig } from '../../packages/server/src/config/config';
import { ensureDevTenant } from '../../packages/server/src/dev-seed';
import { startSandboxEhr } from '../sandbox-ehr/index';

const dataDir = mkdtempSync(join(tmpdir(), 'fhirdesk-cli-'));
const env = { FHIRDESK_DATA_DIR: dataDir, LOG_LEVEL: 'silent' } as NodeJS.ProcessEnv;
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function io() {
  const out: string[] = [];
  const err: string[] = [];
  const capture: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), progress: () => {} };
  return { capture, out, err };
}

describe('fhirdesk CLI', () => {
  it('applies migrations and prints a token the server accepts for the tenant admin', async () => {
    const m = io();
    expect(await main(['migrate'], m.capture, env)).toBe(0);
    const database = await openDatabase({ dataDir });
    const dev = await ensureDevTenant(database);
    await database.close();
    const t = io();
    expect(await main(['token', '--tenant', 'demo', '--ttl', '120'], t.capture, env)).toBe(0);
    const claims = await loadTokenKeys(loadConfig(env)).verify(t.out[0]!);
    expect(claims).toMatchObject({ tenantId: dev.tenantId, userId: dev.users[0]!.id, kind: 'user' });
    expect(claims.roles).toContain('admin');
  });

  it('verifies the audit chain of a tenant', async () => {
    const v = io();
    expect(await main(['audit', 'verify', '--tenant', 'demo'], v.capture, env)).toBe(0);
    expect(JSON.parse(v.out[0]!)).toMatchObject({ ok: true });
  });

  it('exits 2 on usage errors and 3 when the tenant does not exist', async () => {
    expect(await main([], io().capture, env)).toBe(2);
    const unknown = io();
    expect(await main(['frobnicate'], unknown.capture, env)).toBe(2);
    expect(unknown.err[0]).toMatch(/unknown command "frobnicate"/);
    expect(await main(['token'], io().capture, env)).toBe(2);
    expect(await main(['token', '--tenant', 'demo', '--ttl', 'forever'], io().capture, env)).toBe(2);
    expect(await main(['token', '--tenant', 'nope'], io().capture, env)).toBe(3);
  });

  it('runs a reconcile with --mode reconcile and marks what the source deleted (issue #3)', async () => {
    const ehr = await startSandboxEhr({ typeHistory: false });
    try {
      const extra = await ehr.createResource<Patient>({ resourceType: 'Patient', gender: 'unknown' });
      const add = io();
      const args = ['--tenant', 'demo', '--name', 'no-history', '--kind', 'fhir-r4', '--url', ehr.fhirBaseUrl];
      expect(await main(['sources', 'add', ...args, '--types', 'Patient'], add.capture, env)).toBe(0);
      const first = io();
      expect(await main(['sync', 'no-history', '--tenant', 'demo'], first.capture, env)).toBe(0);
      expect(first.err.join('\n')).toContain('deletions of Patient cannot be detected incrementally; run a reconcile');
      await ehr.deleteResource('Patient', extra.id!);
      const reconcile = io();
      expect(
        await main(['sync', 'no-history', '--tenant', 'demo', '--mode', 'reconcile'], reconcile.capture, env),
      ).toBe(0);
      expect(reconcile.out[0]).toMatch(/^succeeded: .*deleted 1,/);
      expect(await main(['sync', 'no-history', '--tenant', 'demo', '--mode', 'sideways'], io().capture, env)).toBe(2);
    } finally {
      await ehr.close();
    }
  });

  it('stops with exit 2 and names the variable when configuration is wrong', async () => {
    const bad = io();
    expect(await main(['migrate'], bad.capture, { ...env, DATABASE_URL: 'mysql://x' })).toBe(2);
    expect(bad.err.join('\n')).toMatch(/DATABASE_URL: must be a postgres:\/\//);
  });
});
