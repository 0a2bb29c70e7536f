// Per-source request rate (req/s) and concurrency caps (EPIC-07): limits are unknown, so they are settings.

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export const realSleep: Sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

export class RequestLimiter {
  private active = 0;
  private readonly waiters: (() => void)[] = [];
  private nextStart = 0;
  constructor(
    private readonly concurrency: number,
    private readonly ratePerSecond: number | undefined,
    private readonly sleep: Sleep,
  ) {}

  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.active >= this.concurrency) await new Promise<void>((resolve) => this.waiters.push(resolve));
    this.active++;
    try {
      if (this.ratePerSecond) {
        const now = Date.now();
        const start = Math.max(now, this.nextStart);
        this.nextStart = start + 1000 / this.ratePerSecond;
        if (start > now) await this.sleep(start - now, signal);
      }
      return await task();
    } finally {
      this.active--;
      this.waiters.shift()?.();
    }
  }
}
