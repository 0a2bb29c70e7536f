// Profiling aid for bench:sync (issue #3): runs ONE contender (BENCH_CONTENDER=limit|fhirdesk) against the
// static page server, BENCH_REPEAT times, and prints client / page server / PostgreSQL CPU ms per 1,000
// resources for each repeat. Run it under `node --cpu-prof --import tsx` to see where the client's time goes.
import { randomUUID } from 'node:crypto';
import { openDatabase, schema } from '@fhirdesk/core';
import postgres from 'postgres';
import { runSync } from '../packages/connectors/src/index';
import { localPostgresCpuMs, ownCpuMs } from './lib/cpu';
import { createScratchDatabase, DEFAULT_DATABASE_URL } from './lib/scratch-database';
import { copyBaseline } from './lib/sync-contenders';
import { RESOURCES_PER_PATIENT, SYNC_TYPES } from './lib/sync-data';
import { startSyncSandbox } from './lib/sync-sandbox';

const RESOURCES = Number(process.env.BENCH_SYNC_RESOURCES ?? 20_000);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 2);
const CONTENDER = process.env.BENCH_CONTENDER ?? 'limit';
const SLICES = 4;
const PAGE_SIZE = 500;

const scratch = await createScratchDatabase(
  process.env.DATABASE_URL || DEFAULT_DATABASE_URL,
  `fhirdesk_prof_${process.pid}`,
);
const database = await openDatabase({ url: scratch.url, max: 10 });
const sql = postgres(scratch.url, { max: SLICES + 2, onnotice: () => {} });
const server = await startSyncSandbox({
  patients: Math.ceil(RESOURCES / RESOURCES_PER_PATIENT),
  pageSizeMax: PAGE_SIZE,
  server: 'static',
});
try {
  const tenantId = randomUUID();
  await database.db.insert(schema.tenant).values({ id: tenantId, slug: `p-${tenantId}`, name: 'p' });
  const from = new Date(Date.parse(server.firstUpdated) - 1000).toISOString();
  for (let i = 0; i < REPEAT; i++) {
    await sql`truncate fhir_resource`;
    await sql`vacuum analyze fhir_resource`;
    const [row] = await database.db
      .insert(schema.source)
      .values({
        tenantId,
        name: `${CONTENDER} ${i}`,
        kind: 'fhir-r4',
        baseUrl: server.fhirBaseUrl,
        auth: { mode: 'none' },
        resourceTypes: [...SYNC_TYPES],
        syncMode: 'incremental',
        concurrency: SLICES,
        settings: { pageSize: PAGE_SIZE, timeSlices: { from, count: SLICES } },
      })
      .returning({ id: schema.source.id });
    const sourceId = row!.id;
    const c0 = ownCpuMs();
    const p0 = localPostgresCpuMs() ?? 0;
    const s0 = (await server.stats()).cpuMs;
    const t0 = performance.now();
    const n =
      CONTENDER === 'limit'
        ? await copyBaseline(sql, server.fhirBaseUrl, { tenantId, sourceId }, SYNC_TYPES, {
            from,
            slices: SLICES,
            pageSize: PAGE_SIZE,
          })
        : (await runSync({ database }, { tenantId, sourceId, mode: 'incremental' })).fetched;
    const s = (performance.now() - t0) / 1000;
    const k = n / 1000;
    const f = (x: number) => (x / k).toFixed(0);
    console.log(
      `${CONTENDER}: ${n} in ${s.toFixed(2)} s = ${(n / s).toFixed(0)}/s; CPU ms/1k client ${f(ownCpuMs() - c0)} server ${f((await server.stats()).cpuMs - s0)} postgres ${f((localPostgresCpuMs() ?? 0) - p0)}`,
    );
  }
} finally {
  await server.stop();
  await sql.end();
  await database.close();
  await scratch.drop();
}
