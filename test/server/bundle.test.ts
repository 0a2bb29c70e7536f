// `npm start` runs the esbuild bundle of the server with plain node (issue #4: no tsx at run time). The bundle
// must find what its sources find next to themselves: migrations/, the demo EHR's fixtures, the agent app.
// Embedded mode on purpose, whatever DATABASE_URL says: it is what `npm install && npm start` runs, and it
// needs all three.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleServer } from '../../packages/server/build';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
// Inside the repository: the bundle's imports of external packages resolve from node_modules above it.
mkdirSync(join(repo, 'packages/server/dist'), { recursive: true });
const outDir = mkdtempSync(join(repo, 'packages/server/dist/test-'));
const dataDir = mkdtempSync(join(tmpdir(), 'fhirdesk-bundle-'));
let child: ChildProcess | undefined;

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  rmSync(outDir, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

describe('server bundle (npm start)', () => {
  it('starts with plain node: migrations applied, demo EHR seeded from the fixtures, API answering', async () => {
    const main = join(outDir, 'main.js');
    await bundleServer(join(repo, 'packages/server/src/main.ts'), main);
    const { DATABASE_URL: _ignored, ...env } = process.env;
    child = spawn(process.execPath, [main], {
      env: { ...env, FHIRDESK_DATA_DIR: dataDir, PORT: '0', FHIRDESK_SANDBOX_PORT: '0', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const banner = await new Promise<string>((resolveBanner, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString('utf8');
        const running = /fhirdesk is running on (http:\/\/\S+)/.exec(output);
        if (output.includes('start-up step failed')) reject(new Error(`start-up failed:\n${output}`));
        else if (running && output.includes('Sandbox EHR:')) resolveBanner(running[1]!);
      };
      child!.stdout!.on('data', onData);
      child!.stderr!.on('data', onData);
      child!.once('exit', (code) => reject(new Error(`exited with ${code}:\n${output}`)));
    });
    const ready = await fetch(`${banner}/readyz`);
    expect(await ready.json()).toEqual({ status: 'ready', database: 'pglite' });
    expect((await fetch(`${banner}/api/v1/tickets`)).status).toBe(401);
  }, 120_000);
});
