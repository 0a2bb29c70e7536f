// Structured logs (pino) with PHI-bearing fields redacted wherever they appear.
import pino, { type Logger } from 'pino';

export type { Logger };

export const redactedPaths = [
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'token',
  '*.token',
  'body',
  '*.body',
  'subject',
  '*.subject',
  'description',
  '*.description',
  'patient',
  '*.patient',
  'name',
  '*.name',
  'birthDate',
  '*.birthDate',
  'telecom',
  '*.telecom',
  'address',
  '*.address',
  'secret',
  '*.secret',
  'privateKey',
  '*.privateKey',
];

/**
 * Bytes of log lines held before they are written to stdout, when nothing else is configured: one write per
 * request line (through libuv's thread pool) was about a sixth of the server's CPU per agent view
 * (bench:agent-view, issue #4); 4 KB holds ten or so request lines.
 */
export const DEFAULT_LOG_BUFFER_BYTES = 4096;
/** Lines wait at most this long in the buffer on a quiet server. */
export const LOG_FLUSH_EVERY_MS = 1000;

export interface LogOutputOptions {
  /** File descriptor or path (default 1, stdout). */
  dest?: number | string;
  /**
   * Bytes to collect before a write; 0 writes every line as it comes. Defaults to DEFAULT_LOG_BUFFER_BYTES,
   * or 0 when stdout is a terminal (someone is watching it).
   */
  bufferBytes?: number;
  flushEveryMs?: number;
}

/**
 * Where the server's log lines go. Buffered lines are written when the buffer fills, every `flushEveryMs`, and
 * synchronously when the process exits (pino registers that for asynchronous destinations), so a normal exit,
 * an uncaught exception or a signal handled by shutdown loses nothing; only a process killed outright (SIGKILL,
 * the OOM killer) loses the last buffer, at most `bufferBytes`.
 */
export function logDestination(options: LogOutputOptions = {}): pino.DestinationStream {
  const dest = options.dest ?? 1;
  const bufferBytes = options.bufferBytes ?? (dest === 1 && process.stdout.isTTY ? 0 : DEFAULT_LOG_BUFFER_BYTES);
  return pino.destination({
    dest,
    sync: false,
    minLength: bufferBytes,
    ...(bufferBytes > 0 ? { periodicFlush: options.flushEveryMs ?? LOG_FLUSH_EVERY_MS } : {}),
  });
}

export function createLogger(level: string, destination: pino.DestinationStream = logDestination()): Logger {
  return pino(
    {
      level,
      base: { service: 'fhirdesk' },
      redact: { paths: redactedPaths, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
