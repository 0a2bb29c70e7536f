import { describe, expect, it } from 'vitest';
import { InProcessScheduler, intervalOf, type SyncJob } from './scheduler';

describe('embedded schedules', () => {
  it('understands every-N-minutes cron and @every intervals, and refuses the rest', () => {
    expect(intervalOf('*/15 * * * *')).toBe(900_000);
    expect(intervalOf('@every 30s')).toBe(30_000);
    expect(intervalOf('@every 2h')).toBe(7_200_000);
    expect(() => intervalOf('0 3 * * MON')).toThrow('Embedded mode supports');
  });
});

describe('InProcessScheduler', () => {
  it('runs one job per source at a time and keeps at most one waiting', async () => {
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const scheduler = new InProcessScheduler(async (job: SyncJob) => {
      order.push(`start ${job.sourceId}`);
      if (order.length === 1) await gate;
      order.push(`end ${job.sourceId}`);
    });
    await scheduler.start();
    const job = { tenantId: 't', sourceId: 's1' };
    expect(await scheduler.enqueue(job)).not.toBeNull();
    expect(await scheduler.enqueue(job)).not.toBeNull();
    expect(await scheduler.enqueue(job)).toBeNull();
    release();
    await scheduler.idle();
    await scheduler.stop();
    expect(order).toEqual(['start s1', 'end s1', 'start s1', 'end s1']);
  });
});
