// Closed-loop load: N workers each run one operation after another for a fixed time (no think time),
// so throughput and latency are measured at exactly N operations in flight.
import { LatencyRecorder } from './latency';

export interface RunOptions {
  /** Operations in flight at once (one worker each). */
  concurrency: number;
  /** Measured duration. */
  seconds: number;
  /** Unmeasured run before the measured one (JIT, connection pools, caches, plan caches). */
  warmupSeconds?: number;
  /** Stop early after this many failed operations (a broken setup should not run for minutes). */
  maxErrors?: number;
  /** Called between warm-up and measurement, e.g. to snapshot CPU counters. */
  beforeMeasure?: () => unknown;
}

export interface RunResult {
  operations: number;
  errors: number;
  seconds: number;
  perSecond: number;
  latency: LatencyRecorder;
  /** First few error messages, for the report. */
  errorSamples: string[];
}

/**
 * `operation(worker, iteration)` performs one unit of work; a thrown error counts as a failed
 * operation (its latency is not recorded). Returns the measured phase only.
 */
export async function runClosedLoop(
  options: RunOptions,
  operation: (worker: number, iteration: number) => Promise<void>,
): Promise<RunResult> {
  if (options.warmupSeconds && options.warmupSeconds > 0) {
    await runFor(options.concurrency, options.warmupSeconds, options.maxErrors, operation);
  }
  await options.beforeMeasure?.();
  return runFor(options.concurrency, options.seconds, options.maxErrors, operation);
}

async function runFor(
  concurrency: number,
  seconds: number,
  maxErrors: number | undefined,
  operation: (worker: number, iteration: number) => Promise<void>,
): Promise<RunResult> {
  const latency = new LatencyRecorder();
  const errorSamples: string[] = [];
  let errors = 0;
  let operations = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const limit = maxErrors ?? 100;

  const worker = async (index: number) => {
    let iteration = 0;
    while (performance.now() < deadline && errors < limit) {
      const t0 = performance.now();
      try {
        await operation(index, iteration++);
        latency.record(performance.now() - t0);
        operations += 1;
      } catch (error) {
        errors += 1;
        if (errorSamples.length < 5) errorSamples.push(error instanceof Error ? error.message : String(error));
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, i) => worker(i)));
  // Elapsed until the last in-flight operation finished, so operations/elapsed stays honest.
  const elapsed = (performance.now() - started) / 1000;
  return { operations, errors, seconds: elapsed, perSecond: operations / elapsed, latency, errorSamples };
}
