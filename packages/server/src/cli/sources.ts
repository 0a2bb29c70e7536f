// `fhirdesk sources add|list|test`, `sync <source>`, `runs <source>`: connectors from the shell (issue 3),
// for integration engineers and scripts. Exit codes: 0 ok, 1 sync failed, 2 usage, 3 not found, 4 EHR failure.
import { parseArgs } from 'node:util';
import { runSync, SourceService, type SyncSummary } from '@fhirdesk/connectors';
import { type Actor, type Database, schema } from '@fhirdesk/core';
import { eq } from 'drizzle-orm';
import { loadSecretKey } from '../auth/signing-key';
import type { Config } from '../config/config';
import { type CliIo, EXIT, UsageError, withDatabase } from './context';

async function operator(database: Database, slug: string | undefined, io: CliIo): Promise<Actor | null> {
  if (!slug) throw new UsageError('--tenant <slug> is required');
  const [tenant] = await database.db.select().from(schema.tenant).where(eq(schema.tenant.slug, slug));
  if (!tenant) {
    io.err(`no tenant with slug ${slug}`);
    return null;
  }
  // The CLI acts as the integration operator of the tenant; audit rows say so (actor kind integration).
  return { tenantId: tenant.id, userId: null, kind: 'integration', roles: ['integration'], label: 'fhirdesk-cli' };
}

async function resolveSource(service: SourceService, actor: Actor, ref: string) {
  const all = await service.list(actor);
  return all.find((s) => s.id === ref || s.name === ref) ?? null;
}

function summaryLine(s: SyncSummary): string {
  return `${s.status}: fetched ${s.fetched}, inserted ${s.inserted}, updated ${s.updated}, unchanged ${s.unchanged}, dead-lettered ${s.deadLettered}, deleted ${s.deleted}, pages ${s.pages}, retries ${s.retries}${s.error ? ` — ${s.error}` : ''}`;
}

function services(database: Database, config: Config, io: CliIo) {
  const deps = {
    database,
    secretKey: loadSecretKey(config),
    logger: { info: () => {}, warn: (_o: object, msg?: string) => io.err(`warning: ${msg ?? ''}`) },
  };
  return { deps, sources: new SourceService(deps) };
}

export async function sourcesCommand(args: string[], io: CliIo, env: NodeJS.ProcessEnv): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      tenant: { type: 'string' },
      name: { type: 'string' },
      kind: { type: 'string' },
      url: { type: 'string' },
      types: { type: 'string' },
      'no-test': { type: 'boolean' },
      json: { type: 'boolean' },
    },
  });
  return withDatabase(env, async (database, config) => {
    const actor = await operator(database, values.tenant, io);
    if (!actor) return EXIT.notFound;
    const { sources } = services(database, config, io);
    if (sub === 'list') {
      const list = await sources.list(actor);
      if (values.json) io.out(JSON.stringify(list));
      else
        for (const s of list)
          io.out(`${s.id}  ${s.enabled ? 'enabled ' : 'disabled'}  ${s.kind.padEnd(13)} ${s.name}  ${s.baseUrl ?? ''}`);
      return EXIT.ok;
    }
    if (sub === 'add') {
      if (!values.name || !values.url)
        throw new UsageError(
          'usage: fhirdesk sources add --tenant <slug> --name <name> --url <fhir base> [--kind fhir-r4|epic|oracle-health|sandbox] [--types Patient,Coverage,…] [--no-test]',
        );
      const created = await sources.create(actor, {
        name: values.name,
        baseUrl: values.url,
        kind: (values.kind ?? 'fhir-r4') as 'fhir-r4',
        resourceTypes: values.types ? values.types.split(',').map((t) => t.trim()) : undefined,
        test: !values['no-test'],
      });
      io.out(values.json ? JSON.stringify(created) : `added source ${created.id} (${created.name})`);
      return EXIT.ok;
    }
    if (sub === 'test') {
      const ref = positionals[0];
      if (!ref) throw new UsageError('usage: fhirdesk sources test <source id or name> --tenant <slug>');
      const found = await resolveSource(sources, actor, ref);
      if (!found) {
        io.err(`no source ${ref}`);
        return EXIT.notFound;
      }
      io.out(JSON.stringify(await sources.testStored(actor, found.id)));
      return EXIT.ok;
    }
    throw new UsageError('usage: fhirdesk sources add|list|test …');
  });
}

export async function syncCommand(args: string[], io: CliIo, env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { tenant: { type: 'string' }, mode: { type: 'string' }, since: { type: 'string' } },
  });
  const ref = positionals[0];
  if (!ref)
    throw new UsageError(
      'usage: fhirdesk sync <source id or name> --tenant <slug> [--mode incremental|bulk|reconcile] [--since <instant>]',
    );
  if (values.mode && !['incremental', 'bulk', 'reconcile'].includes(values.mode))
    throw new UsageError('--mode must be incremental, bulk or reconcile');
  if (values.since && Number.isNaN(Date.parse(values.since)))
    throw new UsageError('--since must be an ISO 8601 instant');
  return withDatabase(env, async (database, config) => {
    const actor = await operator(database, values.tenant, io);
    if (!actor) return EXIT.notFound;
    const { deps, sources } = services(database, config, io);
    const found = await resolveSource(sources, actor, ref);
    if (!found) {
      io.err(`no source ${ref}`);
      return EXIT.notFound;
    }
    if (values.since) {
      // Restart from the given instant: rewind every checkpoint of the source (the overlap still applies).
      await database.db
        .update(schema.syncCheckpoint)
        .set({ since: values.since, cursor: null })
        .where(eq(schema.syncCheckpoint.sourceId, found.id));
    }
    const started = Date.now();
    const timer = setInterval(
      () => io.progress(`syncing ${found.name}… ${Math.round((Date.now() - started) / 1000)} s`),
      1000,
    );
    try {
      const summary = await runSync(
        {
          ...deps,
          hooks: {
            beforePageCommit: ({ scope, page }) => io.progress(`syncing ${found.name}: ${scope} page ${page}`),
          },
        },
        {
          tenantId: actor.tenantId,
          sourceId: found.id,
          ...(values.mode ? { mode: values.mode as 'incremental' | 'bulk' | 'reconcile' } : {}),
        },
      );
      io.progress('');
      io.out(summaryLine(summary));
      return summary.status === 'succeeded' ? EXIT.ok : EXIT.failure;
    } finally {
      clearInterval(timer);
    }
  });
}

export async function runsCommand(args: string[], io: CliIo, env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { tenant: { type: 'string' }, json: { type: 'boolean' } },
  });
  const ref = positionals[0];
  if (!ref) throw new UsageError('usage: fhirdesk runs <source id or name> --tenant <slug>');
  return withDatabase(env, async (database, config) => {
    const actor = await operator(database, values.tenant, io);
    if (!actor) return EXIT.notFound;
    const { sources } = services(database, config, io);
    const found = await resolveSource(sources, actor, ref);
    if (!found) {
      io.err(`no source ${ref}`);
      return EXIT.notFound;
    }
    const runs = await sources.runs(actor, found.id);
    if (values.json) io.out(JSON.stringify(runs));
    else
      for (const r of runs)
        io.out(
          `${r.startedAt.toISOString()}  ${r.mode.padEnd(11)} ${r.status.padEnd(9)} fetched ${r.fetched} inserted ${r.inserted} updated ${r.updated} unchanged ${r.unchanged} dead ${r.deadLettered} pages ${r.pages} retries ${r.retries}${r.error ? `  ${r.error}` : ''}`,
        );
    return EXIT.ok;
  });
}
