// The server's log output: lines are buffered for throughput (issue #4) but never lost on a normal exit, a
// crash by exception, or a quiet server.
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger, logDestination } from '../../packages/server/src/http/logger';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'fhirdesk-log-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const lines = (path: string) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { msg: string; n?: number });

/** A file destination, once its file is open (SonicBoom opens it asynchronously). */
async function fileDestination(options: Parameters<typeof logDestination>[0] & { dest: string }) {
  const dest = logDestination(options);
  await once(dest as unknown as NodeJS.EventEmitter, 'ready');
  return dest;
}

describe('log destination', () => {
  it('holds lines until the buffer fills, then writes them together', async () => {
    const path = join(dir, 'fills.log');
    const dest = await fileDestination({ dest: path, bufferBytes: 1024, flushEveryMs: 60_000 });
    const logger = createLogger('info', dest);
    logger.info({ n: 0 }, 'short line');
    await new Promise((r) => setTimeout(r, 50));
    expect(lines(path)).toEqual([]);
    for (let n = 1; n <= 20; n++) logger.info({ n }, 'filler line for the buffer');
    // The full buffer goes out in one asynchronous write, long before the 60 s flush.
    await expect.poll(() => lines(path).length, { timeout: 5000, interval: 20 }).toBeGreaterThanOrEqual(8);
    expect(lines(path)[0]).toMatchObject({ msg: 'short line', n: 0 });
    (dest as unknown as { flushSync(): void }).flushSync();
    expect(lines(path)).toHaveLength(21);
  });

  it('writes a lone line within the flush interval on a quiet server', async () => {
    const path = join(dir, 'quiet.log');
    const logger = createLogger('info', await fileDestination({ dest: path, bufferBytes: 4096, flushEveryMs: 100 }));
    logger.info({ n: 1 }, 'only line');
    expect(lines(path)).toEqual([]);
    await expect.poll(() => lines(path).length, { timeout: 2000, interval: 50 }).toBe(1);
  });

  it('writes each line at once with bufferBytes 0', async () => {
    const path = join(dir, 'unbuffered.log');
    const logger = createLogger('info', await fileDestination({ dest: path, bufferBytes: 0 }));
    logger.info({ n: 1 }, 'only line');
    await expect.poll(() => lines(path).length, { timeout: 2000, interval: 20 }).toBe(1);
  });

  it.each(['exit', 'throw'])('loses no buffered line when the process leaves by %s', async (how) => {
    const script = join(import.meta.dirname, 'fixtures', 'log-then-exit.ts');
    const outcome = await run(process.execPath, ['--import', 'tsx', script, how], { timeout: 30_000 }).then(
      (r) => ({ stdout: r.stdout, code: 0 }),
      (e: { stdout: string; code: number }) => ({ stdout: e.stdout, code: e.code }),
    );
    expect(outcome.code).toBe(how === 'exit' ? 0 : 1);
    const messages = outcome.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { msg: string }).msg);
    expect(messages).toEqual(['first line', 'last line']);
  });
});
