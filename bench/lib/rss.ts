// Peak resident set size of a process: the kernel's high-water mark where available (Linux
// /proc/<pid>/status VmHWM), otherwise the highest of periodic samples.
import { readFileSync } from 'node:fs';

/** Current and peak RSS of a process in bytes from /proc (Linux), or null elsewhere. */
export function readProcRss(pid: number): { rss: number; peak: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
    const rss = kb('VmRSS');
    const peak = kb('VmHWM');
    if (Number.isNaN(rss) || Number.isNaN(peak)) return null;
    return { rss: rss * 1024, peak: peak * 1024 };
  } catch {
    return null;
  }
}

/** Samples a process's RSS every `intervalMs` and keeps the maximum seen (and the kernel's peak, if known). */
export class PeakRssSampler {
  private peakBytes = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pid: number = process.pid,
    private readonly intervalMs = 250,
  ) {}

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
    return this;
  }

  stop(): number {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.sample();
    return this.peakBytes;
  }

  get peak(): number {
    return this.peakBytes;
  }

  private sample(): void {
    const proc = readProcRss(this.pid);
    const current = proc ? Math.max(proc.rss, proc.peak) : this.pid === process.pid ? process.memoryUsage.rss() : 0;
    if (current > this.peakBytes) this.peakBytes = current;
  }
}

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes <= 0) return 'n/a';
  return `${(bytes / (1024 * 1024)).toFixed(0)} MiB`;
}
