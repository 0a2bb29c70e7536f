// Open-loop load: operations start on a fixed schedule (a steady rate), whether or not earlier ones have
// finished, as independent users do. Latency is measured from each operation's *scheduled* start, so a
// stalled server is charged for the queue it builds (no coordinated omission, unlike a closed loop,
// which slows its own arrivals down when the server slows down).
import { LatencyRecorder } from './latency';

export interface OpenLoopOptions {
  /** Operations started per second. */
  rate: number;
  /** Measured duration. */
  seconds: number;
  /** Unmeasured run at the same rate before the measured one. */
  warmupSeconds?: number;
  /** Stop early after this many failed operations. */
  maxErrors?: number;
  /** Upper bound on operations in flight; beyond it arrivals are counted as dropped (default 2,000). */
  maxInFlight?: number;
  /** Called for every completed operation of the measured run (for finding when the slow ones happened). */
  onSample?: (scheduledEpochMs: number, latencyMs: number) => void;
}

export interface OpenLoopResult {
  /** Operations that completed without error. */
  operations: number;
  errors: number;
  /** Arrivals not started because `maxInFlight` operations were already waiting (an overloaded server). */
  dropped: number;
  seconds: number;
  /** Completed operations per second over the measured window (≈ rate when the server keeps up). */
  perSecond: number;
  /** Highest number of operations in flight at once. */
  maxInFlight: number;
  latency: LatencyRecorder;
  errorSamples: string[];
}

export async function runOpenLoop(
  options: OpenLoopOptions,
  operation: (index: number) => Promise<void>,
): Promise<OpenLoopResult> {
  if (options.warmupSeconds && options.warmupSeconds > 0) {
    await runAt(options.rate, options.warmupSeconds, { ...options, onSample: undefined }, operation);
  }
  return runAt(options.rate, options.seconds, options, operation);
}

async function runAt(
  rate: number,
  seconds: number,
  options: OpenLoopOptions,
  operation: (index: number) => Promise<void>,
): Promise<OpenLoopResult> {
  const latency = new LatencyRecorder();
  const errorSamples: string[] = [];
  const limit = options.maxErrors ?? 100;
  const cap = options.maxInFlight ?? 2_000;
  const total = Math.round(rate * seconds);
  const interval = 1000 / rate;
  let errors = 0;
  let operations = 0;
  let dropped = 0;
  let inFlight = 0;
  let peakInFlight = 0;
  const pending = new Set<Promise<void>>();
  const started = performance.now();

  const start = (index: number, scheduled: number) => {
    inFlight += 1;
    if (inFlight > peakInFlight) peakInFlight = inFlight;
    const p = operation(index).then(
      () => {
        const ms = performance.now() - scheduled;
        latency.record(ms);
        options.onSample?.(performance.timeOrigin + scheduled, ms);
        operations += 1;
      },
      (error: unknown) => {
        errors += 1;
        if (errorSamples.length < 5) errorSamples.push(error instanceof Error ? error.message : String(error));
      },
    );
    const tracked = p.finally(() => {
      inFlight -= 1;
      pending.delete(tracked);
    });
    pending.add(tracked);
  };

  let next = 0;
  while (next < total && errors < limit) {
    const now = performance.now();
    // Start every arrival that is due; when the event loop was late, the late ones start now but keep
    // their scheduled time, so the delay counts as latency.
    while (next < total && started + next * interval <= now) {
      if (inFlight >= cap) dropped += 1;
      else start(next, started + next * interval);
      next += 1;
    }
    const wait = started + next * interval - performance.now();
    await new Promise<void>((resolve) => (wait > 1 ? setTimeout(resolve, Math.floor(wait)) : setImmediate(resolve)));
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - started) / 1000;
  return {
    operations,
    errors,
    dropped,
    seconds: elapsed,
    perSecond: operations / elapsed,
    maxInFlight: peakInFlight,
    latency,
    errorSamples,
  };
}
