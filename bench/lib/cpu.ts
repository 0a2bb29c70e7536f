// CPU time per operation, per process: on a shared machine, "how many CPU-ms does one request cost the
// server, the client and PostgreSQL" stays comparable when wall-clock rates do not.
import { readdirSync, readFileSync } from 'node:fs';

// USER_HZ: 100 on every mainstream Linux; /proc/<pid>/stat counts CPU time in these ticks.
const TICK_MS = 10;

/** CPU time of this process (user + system) in ms. */
export function ownCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/** utime + stime (+ reaped children's, when `withChildren`) of a process from /proc, in ms; null off Linux. */
export function procCpuMs(pid: number | string, withChildren = false): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name (which may contain spaces).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = (i: number) => Number(fields[i - 3] ?? 0);
    const own = ticks(14) + ticks(15);
    return (withChildren ? own + ticks(16) + ticks(17) : own) * TICK_MS;
  } catch {
    return null;
  }
}

/**
 * CPU time of all local PostgreSQL processes in ms (the postmaster's reaped-children counters include
 * backends that already exited), or null when PostgreSQL is not visible in /proc. Approximate: it
 * includes whatever else uses the same server at the same time.
 */
export function localPostgresCpuMs(): number | null {
  let total = 0;
  let found = false;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return null;
  }
  for (const pid of entries) {
    if (!/^\d+$/.test(pid)) continue;
    let comm: string;
    try {
      comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      continue;
    }
    if (comm !== 'postgres' && !comm.startsWith('postgres:')) continue;
    const ms = procCpuMs(pid, true);
    if (ms !== null) {
      total += ms;
      found = true;
    }
  }
  return found ? total : null;
}

export type CpuSource = () => number | null | Promise<number | null>;

/** Snapshots named CPU counters at start and reports CPU-ms per operation for each at the end. */
export class CpuMeter {
  private before = new Map<string, number | null>();

  constructor(private readonly sources: Record<string, CpuSource>) {}

  async start(): Promise<void> {
    for (const [name, read] of Object.entries(this.sources)) this.before.set(name, await read());
  }

  async perOperation(operations: number): Promise<Record<string, number | null>> {
    const result: Record<string, number | null> = {};
    for (const [name, read] of Object.entries(this.sources)) {
      const start = this.before.get(name);
      const end = await read();
      result[name] = start == null || end == null || operations === 0 ? null : (end - start) / operations;
    }
    return result;
  }
}
