// Starts the real fhirdesk HTTP server for a benchmark.
//
// Why a child process and not in-process: on a 2-core machine the load generator (fetch clients,
// postgres.js baseline) and the server must compete for CPU as a client and a server do in
// production. In one process they would share one event loop, so client work would show up as server
// latency and the server could never use a second core. A child also gives the server's own peak RSS.
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundleServer } from '../../packages/server/build';

export type ParentMessage = { type: 'stats' } | { type: 'shutdown' };
export type ServerMessage =
  | { type: 'listening'; port: number }
  | { type: 'stats'; maxRssBytes: number; rssBytes: number; cpuMs: number };

export interface ServerStats {
  /** Kernel high-water mark of the server process's resident set. */
  maxRssBytes: number;
  rssBytes: number;
  /** User + system CPU time the server process has used so far. */
  cpuMs: number;
}

export interface BenchServer {
  baseUrl: string;
  pid: number;
  stats(): Promise<ServerStats>;
  /** Graceful stop (flushes the audit sealer, closes the pool); kills the child if it hangs. */
  stop(): Promise<void>;
}

export interface StartServerOptions {
  databaseUrl: string;
  /** HS256 secret shared with the TokenKeys that issues the benchmark's bearer token. */
  jwtSecret: string;
  logLevel?: string;
  startTimeoutMs?: number;
  /**
   * Child entry file; defaults to server-process.ts (the server as main.ts wires it). Another entry
   * speaking the same IPC messages lets a candidate wiring be measured before it is written for real.
   */
  entry?: string | undefined;
  /** When set, the server runs with V8's --cpu-prof and writes a .cpuprofile here on stop. */
  cpuProfileDir?: string | undefined;
}

export async function startServerProcess(options: StartServerOptions): Promise<BenchServer> {
  const source = options.entry ?? fileURLToPath(new URL('./server-process.ts', import.meta.url));
  // The server runs as `npm start` runs it: bundled by the server's build and started by plain node, without
  // tsx's loader and per-module compilation (part of the peak RSS the issue limits). A candidate entry, or
  // BENCH_SERVER_FROM_SOURCE=1, runs the TypeScript through tsx as before.
  const fromSource = options.entry !== undefined || process.env.BENCH_SERVER_FROM_SOURCE === '1';
  let entry = source;
  if (!fromSource) {
    entry = fileURLToPath(new URL('../dist/server-process.js', import.meta.url));
    await bundleServer(source, entry);
  }
  // tsx's ESM loader, resolved from here so it works whatever the current directory is.
  const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const child = fork(entry, [], {
    execArgv: [
      ...(fromSource ? ['--import', tsxLoader] : []),
      ...(options.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`] : []),
    ],
    env: {
      ...process.env,
      BENCH_SERVER_DATABASE_URL: options.databaseUrl,
      BENCH_SERVER_JWT_SECRET: options.jwtSecret,
      BENCH_SERVER_LOG_LEVEL: options.logLevel ?? 'info',
      NODE_ENV: 'production',
    },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const pid = child.pid ?? -1;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('The server child did not start listening in time'));
    }, options.startTimeoutMs ?? 30_000);
    child.on('message', (message: ServerMessage) => {
      if (message.type === 'listening') {
        clearTimeout(timer);
        resolve(message.port);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`The server child exited with code ${code} before listening`));
    });
  });

  const request = <T extends ServerMessage['type']>(message: ParentMessage, reply: T) =>
    new Promise<Extract<ServerMessage, { type: T }>>((resolve, reject) => {
      const onMessage = (m: ServerMessage) => {
        if (m.type !== reply) return;
        child.off('message', onMessage);
        resolve(m as Extract<ServerMessage, { type: T }>);
      };
      child.on('message', onMessage);
      if (!child.send(message)) reject(new Error('The server child is gone'));
    });

  let stopped = false;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    pid,
    async stats() {
      const m = await request({ type: 'stats' }, 'stats');
      return { maxRssBytes: m.maxRssBytes, rssBytes: m.rssBytes, cpuMs: m.cpuMs };
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.send({ type: 'shutdown' } satisfies ParentMessage);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
