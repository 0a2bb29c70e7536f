// The SLA sweep as a recurring job (issue #6): two workers — two pg-boss schedulers on the same
// PostgreSQL database, or two in-process schedulers on PGlite where pg-boss cannot run — sweeping at
// the same time raise each at-risk / breached notice exactly once and post it to the webhook once
// (a real local HTTP server verifies the signature, HIPAA-09/HIPAA-07: ids only, no PHI).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InProcessScheduler, PgBossScheduler, type SyncScheduler } from '@fhirdesk/connectors';
import {
  type Database,
  InboundService,
  type SlaSweepResult,
  schema,
  signWebhookPayload,
  verifyWebhookSignature,
  webhookSlaNotifier,
} from '@fhirdesk/core';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { registerDeskJobs, SLA_SWEEP_TASK } from '../../packages/server/src/jobs/desk-jobs';
import { createTestTenant, openTestDatabase, usingPostgres } from '../support/db';

const SECRET = 'sla-webhook-secret-0123456789';

let database: Database;
let hook: Server;
let hookUrl: string;
const received: { body: Record<string, unknown>; verified: boolean }[] = [];

beforeAll(async () => {
  database = await openTestDatabase();
  hook = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => {
      raw += chunk.toString('utf8');
    });
    req.on('end', () => {
      const header = req.headers['x-fhirdesk-signature'];
      const verified = verifyWebhookSignature({
        rawBody: raw,
        header: typeof header === 'string' ? header : null,
        secrets: [SECRET],
      }).ok;
      received.push({ body: JSON.parse(raw) as Record<string, unknown>, verified });
      // A slow receiver keeps the first worker busy, so the other worker takes the next tick meanwhile.
      setTimeout(() => res.writeHead(204).end(), 150);
    });
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/sla`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => hook.close(() => resolve()));
  await database.close();
});

// Monday 09:00 UTC: first response due 13:00 (240 business minutes), at risk from 12:00.
const created = new Date('2026-11-23T09:00:00Z');

async function waitFor(check: () => boolean, timeoutMs = 30_000) {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting for the jobs');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('SLA sweep job with two workers', () => {
  it(`raises each notice once and calls the webhook once per notice (${usingPostgres() ? 'pg-boss' : 'in-process'})`, async () => {
    const tenantId = await createTestTenant(database);
    const inbound = new InboundService({ database, clock: { now: () => created } });
    const ticket = await inbound.receive(
      { keyId: 'k', tenantId, name: 'gw', channels: ['email'] },
      {
        channel: 'email',
        providerMessageId: 'sla-job-1',
        from: { email: 'someone@example.org' },
        subject: 'Portal login',
        body: 'I cannot log in to the portal',
      },
    );

    let now = new Date('2026-11-23T12:30:00Z');
    const sweeps: { worker: number; result: SlaSweepResult }[] = [];
    const notifier = webhookSlaNotifier({ url: hookUrl, sign: (raw, ts) => signWebhookPayload(raw, SECRET, ts) });
    const workers: SyncScheduler[] = usingPostgres()
      ? [0, 1].map(
          () => new PgBossScheduler(inject('testDatabaseUrl'), async () => {}, { pollingIntervalSeconds: 0.5 }),
        )
      : [0, 1].map(() => new InProcessScheduler(async () => {}));
    for (const [i, w] of workers.entries()) {
      await w.start();
      await registerDeskJobs(w, {
        database,
        clock: { now: () => now },
        notifier,
        // Other test files share the database: sweep only this test's tenant at its made-up time.
        tenantId,
        onSlaSweep: (result) => sweeps.push({ worker: i, result }),
      });
    }
    try {
      // Several ticks at once, queued from both workers, so sweeps overlap.
      const tick = async () => {
        const before = sweeps.length;
        const ids = await Promise.all(workers.flatMap((w) => [w.trigger(SLA_SWEEP_TASK), w.trigger(SLA_SWEEP_TASK)]));
        const queued = ids.filter((id) => id !== null).length;
        await waitFor(() => sweeps.length >= before + queued);
      };
      await tick();
      // Keep ticking (at-risk time) until both workers have swept: the job really is shared.
      for (let i = 0; i < 20 && new Set(sweeps.map((s) => s.worker)).size < 2; i++) await tick();
      now = new Date('2026-11-23T13:30:00Z');
      await tick();
      await tick();
    } finally {
      for (const w of workers) await w.stop();
    }

    expect(new Set(sweeps.map((s) => s.worker))).toEqual(new Set([0, 1]));
    const notices = await database.db
      .select({ clock: schema.slaNotice.clock, kind: schema.slaNotice.kind })
      .from(schema.slaNotice)
      .where(eq(schema.slaNotice.ticketId, ticket.ticketId));
    expect(notices.map((n) => `${n.clock}/${n.kind}`).sort()).toEqual([
      'first-response/at-risk',
      'first-response/breached',
    ]);
    const events = await database.db
      .select({ type: schema.ticketEvent.type })
      .from(schema.ticketEvent)
      .where(eq(schema.ticketEvent.ticketId, ticket.ticketId));
    expect(events.filter((e) => e.type === 'sla-at-risk')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'sla-breached')).toHaveLength(1);

    const mine = received.filter((r) => r.body.ticketId === ticket.ticketId);
    expect(mine.map((r) => r.body.type).sort()).toEqual(['sla.at-risk', 'sla.breached']);
    expect(mine.every((r) => r.verified)).toBe(true);
    expect(Object.keys(mine[0]!.body).sort()).toEqual(
      ['clock', 'dueAt', 'kind', 'raisedAt', 'tenantId', 'ticketId', 'ticketNumber', 'type'].sort(),
    );
    // Every raised notice was reported by exactly one sweep, with no failed webhook call.
    expect(sweeps.flatMap((s) => s.result.raised)).toHaveLength(2);
    expect(sweeps.reduce((n, s) => n + s.result.notifyFailures, 0)).toBe(0);
  }, 90_000);
});
