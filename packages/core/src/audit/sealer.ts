// Seals tenants' audit rows shortly after their requests commit; coalesces bursts into one seal.
import type { Database } from '../db/database';
import { sealAuditRows } from './hash-chain';

export interface AuditSealerOptions {
  delayMs?: number;
  /**
   * How old a seal must be before the rows it sealed become the floor of later scheduled seals: a request
   * whose audit row has a lower `seq` than that floor and is still uncommitted after this long is sealed by
   * the next full scan instead.
   */
  floorLagMs?: number;
  /** At most this long between seals that scan every unsealed row of the tenant (no floor). */
  fullScanEveryMs?: number;
  onError?: (error: unknown) => void;
  /** Called after each seal (metrics, benchmarks). */
  onSeal?: (seal: SealReport) => void;
}

export interface SealReport {
  tenantId: string;
  rows: number;
  /** Scanned every unsealed row of the tenant (no floor). */
  full: boolean;
  /** Epoch milliseconds. */
  startedAt: number;
  ms: number;
}

/** Per tenant: where scheduled seals may start scanning, and when the last full scan ran. */
interface SealFloor {
  floor: number | undefined;
  /** The highest seq each recent seal reached, oldest first, until they are old enough to be the floor. */
  marks: { at: number; seq: number }[];
  fullScanAt: number;
  /** A caller asked for a full scan that has not started yet. */
  fullRequested: boolean;
}

export class AuditSealer {
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private readonly running = new Map<string, Promise<number>>();
  private readonly queued = new Map<string, Promise<number>>();
  private readonly floors = new Map<string, SealFloor>();
  private readonly delayMs: number;
  private readonly floorLagMs: number;
  private readonly fullScanEveryMs: number;

  constructor(
    private readonly database: Database,
    private readonly options: AuditSealerOptions = {},
  ) {
    // Each seal is a transaction of a few statements; at 500 audited reads/s a 25 ms window sealed ~12 rows a time
    // and its statements cost the agent view a third of its throughput. A quarter second still seals every
    // row well within a second and batches ~10x more per transaction (bench:agent-view, issue #4).
    this.delayMs = options.delayMs ?? 250;
    this.floorLagMs = options.floorLagMs ?? 5_000;
    this.fullScanEveryMs = options.fullScanEveryMs ?? 30_000;
  }

  schedule(tenantId: string): void {
    if (this.pending.has(tenantId)) return;
    const timer = setTimeout(() => {
      this.pending.delete(tenantId);
      void this.seal(tenantId, false).catch((error: unknown) => this.options.onError?.(error));
    }, this.delayMs);
    timer.unref();
    this.pending.set(tenantId, timer);
  }

  /**
   * Seals every committed row of the tenant now (a full scan: before a verification, at shutdown). At most
   * one seal runs per tenant, plus at most one queued follow-up that all callers arriving during a run share:
   * a burst of requests must not pile sealers (and pool connections) up behind the chain-head lock.
   */
  sealNow(tenantId: string): Promise<number> {
    return this.seal(tenantId, true);
  }

  private seal(tenantId: string, full: boolean): Promise<number> {
    // Asked for while a seal runs or is queued, it makes the next seal to start a full one.
    if (full) this.floorOf(tenantId).fullRequested = true;
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

  private floorOf(tenantId: string): SealFloor {
    let state = this.floors.get(tenantId);
    if (!state) {
      state = { floor: undefined, marks: [], fullScanAt: Number.NEGATIVE_INFINITY, fullRequested: false };
      this.floors.set(tenantId, state);
    }
    return state;
  }

  private start(tenantId: string): Promise<number> {
    const state = this.floorOf(tenantId);
    const startedAt = performance.now();
    const full =
      state.fullRequested || state.floor === undefined || startedAt - state.fullScanAt >= this.fullScanEveryMs;
    if (full) state.fullRequested = false;
    const run = sealAuditRows(this.database, tenantId, full ? {} : { afterSeq: state.floor })
      .then((result) => {
        if (full) state.fullScanAt = startedAt;
        this.options.onSeal?.({
          tenantId,
          rows: result.sealed,
          full,
          startedAt: performance.timeOrigin + startedAt,
          ms: performance.now() - startedAt,
        });
        if (result.lastSeq !== null) state.marks.push({ at: startedAt, seq: result.lastSeq });
        // Every row with a lower seq than a seal's last one took its seq before that seal started; once the
        // seal is floorLagMs old, any of them still uncommitted (a transaction open that long) is left to the
        // next full scan.
        const now = performance.now();
        while (state.marks.length > 0 && now - state.marks[0]!.at >= this.floorLagMs) {
          const mark = state.marks.shift()!;
          if (state.floor === undefined || mark.seq > state.floor) state.floor = mark.seq;
        }
        return result.sealed;
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
