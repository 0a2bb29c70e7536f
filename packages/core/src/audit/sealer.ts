// Seals tenants' audit rows shortly after their requests commit; coalesces bursts into one seal.
import type { Database } from '../db/database';
import { sealAuditChain } from './hash-chain';

export interface AuditSealerOptions {
  delayMs?: number;
  onError?: (error: unknown) => void;
  /** Called after each seal (metrics, benchmarks). */
  onSeal?: (seal: SealReport) => void;
}

export interface SealReport {
  tenantId: string;
  rows: number;
  /** Epoch milliseconds. */
  startedAt: number;
  ms: number;
}

export class AuditSealer {
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private readonly running = new Map<string, Promise<number>>();
  private readonly queued = new Map<string, Promise<number>>();
  private readonly delayMs: number;

  constructor(
    private readonly database: Database,
    private readonly options: AuditSealerOptions = {},
  ) {
    // Each seal is a transaction of a few statements; at 500 audited reads/s a 25 ms window sealed ~12 rows a time
    // and its statements cost the agent view a third of its throughput. A quarter second still seals every
    // row well within a second and batches ~10x more per transaction (bench:agent-view, issue #4).
    this.delayMs = options.delayMs ?? 250;
  }

  schedule(tenantId: string): void {
    if (this.pending.has(tenantId)) return;
    const timer = setTimeout(() => {
      this.pending.delete(tenantId);
      void this.sealNow(tenantId).catch((error: unknown) => this.options.onError?.(error));
    }, this.delayMs);
    timer.unref();
    this.pending.set(tenantId, timer);
  }

  /**
   * Seals every committed row of the tenant now (before a verification, at shutdown). At most one seal runs per
   * tenant, plus at most one queued follow-up that all callers arriving during a run share: a burst of
   * requests must not pile sealers (and pool connections) up behind the chain-head lock.
   */
  sealNow(tenantId: string): Promise<number> {
    const queued = this.queued.get(tenantId);
    if (queued) return queued;
    const running = this.running.get(tenantId);
    if (running) {
      const next = running
        .catch(() => 0)
        .then(() => {
          this.queued.delete(tenantId);
          return this.start(tenantId);
        });
      this.queued.set(tenantId, next);
      return next;
    }
    return this.start(tenantId);
  }

  private start(tenantId: string): Promise<number> {
    const startedAt = performance.now();
    const run = sealAuditChain(this.database, tenantId)
      .then((rows) => {
        this.options.onSeal?.({
          tenantId,
          rows,
          startedAt: performance.timeOrigin + startedAt,
          ms: performance.now() - startedAt,
        });
        return rows;
      })
      .finally(() => {
        if (this.running.get(tenantId) === run) this.running.delete(tenantId);
      });
    this.running.set(tenantId, run);
    return run;
  }

  /** Seals everything still scheduled; call before shutdown. */
  async flush(): Promise<void> {
    const tenants = [...this.pending.keys()];
    for (const [tenantId, timer] of this.pending) {
      clearTimeout(timer);
      this.pending.delete(tenantId);
    }
    await Promise.all(tenants.map((t) => this.sealNow(t)));
    await Promise.all([...this.running.values(), ...this.queued.values()].map((p) => p.catch(() => 0)));
  }
}
