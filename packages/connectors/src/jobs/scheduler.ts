// Background jobs: pg-boss on PostgreSQL so any number of workers share the work (DESIGN "Scale-out"),
// and an in-process runner for embedded PGlite, where pg-boss cannot run. Sync jobs: a source is synced
// by one worker at a time (the pg-boss `stately` queue keys jobs by source, the `sync_run` lease backs
// it up). Recurring tasks (SLA sweep, surveys) run on whichever worker takes the tick; the tasks
// themselves must be safe to run concurrently, since ticks can overlap.
import { ValidationError } from '@fhirdesk/core';
import PgBoss from 'pg-boss';
import type { SyncMode } from '../sync/run-context';

export interface SyncJob {
  tenantId: string;
  sourceId: string;
  mode?: SyncMode | undefined;
}

export type SyncJobRunner = (job: SyncJob) => Promise<void>;

/** A recurring background task; it decides "exactly once" itself (e.g. by a unique key). */
export type RecurringTask = () => Promise<void>;

export interface SyncScheduler {
  readonly kind: 'pg-boss' | 'in-process';
  start(): Promise<void>;
  /** Waits for running jobs (in-process) or stops fetching (pg-boss). */
  stop(): Promise<void>;
  /** Queues a sync; null when one for the same source is already waiting. */
  enqueue(job: SyncJob): Promise<string | null>;
  /** Sets (cron) or removes (null) the recurring sync of a source. */
  schedule(job: SyncJob, cron: string | null): Promise<void>;
  /**
   * Registers a recurring task under a stable name and works it on this worker. Every worker of a
   * deployment registers the same tasks; each tick runs once, on one of them. Call after `start()`.
   */
  recurring(name: string, cron: string, task: RecurringTask): Promise<void>;
  /** Queues one run of a registered task now (on any worker). */
  trigger(name: string): Promise<string | null>;
}

const QUEUE = 'fhirdesk-sync';
const TASK_PREFIX = 'fhirdesk-task-';
const taskName = (name: string) => {
  if (!/^[a-z0-9-]{1,60}$/.test(name))
    throw new ValidationError('Task names are lower-case letters, digits and dashes');
  return `${TASK_PREFIX}${name}`;
};
const SCHEDULE_PREFIX = 'fhirdesk-sync-schedule-';
const sourceKey = (job: SyncJob) => `${job.tenantId}:${job.sourceId}`;

export class PgBossScheduler implements SyncScheduler {
  readonly kind = 'pg-boss' as const;
  private readonly boss: PgBoss;
  constructor(
    connectionString: string,
    private readonly runner: SyncJobRunner,
    private readonly options: { pollingIntervalSeconds?: number; onError?: (e: Error) => void } = {},
  ) {
    this.boss = new PgBoss({ connectionString, max: 4 });
    this.boss.on('error', (e) => this.options.onError?.(e));
  }

  async start(): Promise<void> {
    await this.boss.start();
    // stately: at most one queued and one active job per singleton key (the source).
    await this.boss.createQueue(QUEUE, { name: QUEUE, policy: 'stately', retryLimit: 3, retryBackoff: true });
    await this.boss.work<SyncJob>(
      QUEUE,
      { batchSize: 1, pollingIntervalSeconds: this.options.pollingIntervalSeconds ?? 2 },
      async ([job]) => {
        if (job) await this.runner(job.data);
      },
    );
    for (const s of await this.boss.getSchedules()) {
      if (s.name.startsWith(SCHEDULE_PREFIX)) await this.workSchedule(s.name);
    }
  }

  async stop(): Promise<void> {
    await this.boss.stop({ graceful: true, wait: true, timeout: 30_000 });
  }

  async enqueue(job: SyncJob): Promise<string | null> {
    return this.boss.send(QUEUE, { ...job }, { singletonKey: sourceKey(job) });
  }

  async schedule(job: SyncJob, cron: string | null): Promise<void> {
    const name = `${SCHEDULE_PREFIX}${job.sourceId}`;
    if (cron === null) {
      await this.boss.unschedule(name).catch(() => undefined);
      return;
    }
    await this.boss.createQueue(name, { name, policy: 'short' });
    await this.boss.schedule(name, cron, { ...job });
    await this.workSchedule(name);
  }

  async recurring(name: string, cron: string, task: RecurringTask): Promise<void> {
    const queue = taskName(name);
    // `standard`: a tick that overlaps a slow run still runs (the tasks are idempotent).
    await this.boss.createQueue(queue, { name: queue, policy: 'standard', retryLimit: 0 });
    await this.boss.schedule(queue, cron);
    await this.boss.work(
      queue,
      { batchSize: 1, pollingIntervalSeconds: this.options.pollingIntervalSeconds ?? 2 },
      async () => {
        await task();
      },
    );
  }

  async trigger(name: string): Promise<string | null> {
    return this.boss.send(taskName(name), {});
  }

  private readonly scheduled = new Set<string>();
  private async workSchedule(name: string): Promise<void> {
    if (this.scheduled.has(name)) return;
    this.scheduled.add(name);
    await this.boss.work<SyncJob>(name, async ([tick]) => {
      if (tick) await this.enqueue(tick.data);
    });
  }
}

/** `*\/N * * * *` (every N minutes) or `@every 30s|5m|1h`: what an embedded single-process install needs. */
export function intervalOf(cron: string): number {
  const every = /^@every\s+(\d+)(s|m|h)$/.exec(cron.trim());
  if (every) return Number(every[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[every[2] as 's' | 'm' | 'h'];
  const minutes = /^\*\/(\d+) \* \* \* \*$/.exec(cron.trim());
  if (minutes) return Number(minutes[1]) * 60_000;
  throw new ValidationError('Embedded mode supports schedules "*/N * * * *" or "@every <n>s|m|h"', [
    { field: 'schedule', message: 'unsupported schedule expression' },
  ]);
}

export class InProcessScheduler implements SyncScheduler {
  readonly kind = 'in-process' as const;
  private readonly running = new Map<string, Promise<void>>();
  private readonly queued = new Map<string, SyncJob>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private stopped = true;
  private seq = 0;
  constructor(
    private readonly runner: SyncJobRunner,
    private readonly options: {
      onError?: (e: unknown, job: SyncJob) => void;
      onTaskError?: (e: unknown, task: string) => void;
    } = {},
  ) {}

  async start(): Promise<void> {
    this.stopped = false;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearInterval(t);
    this.timers.clear();
    this.queued.clear();
    await Promise.allSettled([...this.running.values()]);
  }

  /** Resolves when every queued and running job has finished (tests, graceful shutdown). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running.values()]);
  }

  async enqueue(job: SyncJob): Promise<string | null> {
    if (this.stopped) throw new ValidationError('Scheduler is not started');
    const key = sourceKey(job);
    if (this.running.has(key)) {
      if (this.queued.has(key)) return null;
      this.queued.set(key, job);
      return `in-process-${++this.seq}`;
    }
    this.launch(key, job);
    return `in-process-${++this.seq}`;
  }

  private launch(key: string, job: SyncJob): void {
    const run = (async () => {
      try {
        await this.runner(job);
      } catch (e) {
        this.options.onError?.(e, job);
      }
    })().finally(() => {
      this.running.delete(key);
      const next = this.queued.get(key);
      this.queued.delete(key);
      if (next && !this.stopped) this.launch(key, next);
    });
    this.running.set(key, run);
  }

  private readonly tasks = new Map<string, { task: RecurringTask; running: Promise<void> | null }>();

  async recurring(name: string, cron: string, task: RecurringTask): Promise<void> {
    const key = taskName(name);
    this.tasks.set(key, { task, running: null });
    const old = this.timers.get(key);
    if (old) clearInterval(old);
    const timer = setInterval(() => void this.trigger(name).catch(() => undefined), intervalOf(cron));
    timer.unref();
    this.timers.set(key, timer);
  }

  /** One process: a tick while the task still runs is dropped (null) rather than stacked. */
  async trigger(name: string): Promise<string | null> {
    const key = taskName(name);
    const entry = this.tasks.get(key);
    if (!entry) throw new ValidationError(`No recurring task named ${name}`);
    if (this.stopped || entry.running) return null;
    entry.running = entry
      .task()
      .catch((e: unknown) => this.options.onTaskError?.(e, name))
      .finally(() => {
        entry.running = null;
      });
    this.running.set(key, entry.running);
    void entry.running.finally(() => this.running.delete(key));
    return `in-process-${++this.seq}`;
  }

  async schedule(job: SyncJob, cron: string | null): Promise<void> {
    const key = sourceKey(job);
    const old = this.timers.get(key);
    if (old) clearInterval(old);
    this.timers.delete(key);
    if (cron === null) return;
    const timer = setInterval(() => void this.enqueue(job).catch(() => undefined), intervalOf(cron));
    timer.unref();
    this.timers.set(key, timer);
  }
}
