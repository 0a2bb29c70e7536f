// `fhirdesk <command>`: operate a deployment from the shell. Talks to the database directly with the
// same services as the API, so it works before the server is up.
import { parseArgs } from 'node:util';
import { DomainError, schema, sealAuditChain, verifyAuditChain } from '@fhirdesk/core';
import { eq } from 'drizzle-orm';
import { loadTokenKeys } from '../auth/signing-key';
import { ConfigError } from '../config/config';
import { type CliIo, EXIT, processIo, UsageError, withDatabase } from './context';
import { import835Command } from './import-835';
import { runsCommand, sourcesCommand, syncCommand } from './sources';

const usage = `fhirdesk — patient-support desk operations

Usage:
  fhirdesk migrate                       apply database migrations
  fhirdesk token --tenant <slug> [--user <id>] [--ttl <s>]
                                         print an API token for a user of the tenant
  fhirdesk audit verify --tenant <slug>  seal and verify the tenant's audit hash chain
  fhirdesk sources list|add|test --tenant <slug> [...]
                                         configure EHR/payer connectors (add tests the connection first)
  fhirdesk sync <source> --tenant <slug> [--mode incremental|bulk|reconcile] [--since <instant>]
                                         run a sync now, with a progress line; exit 1 if it fails
  fhirdesk runs <source> --tenant <slug> list sync runs with their counts
  fhirdesk import-835 <file> --tenant <slug>
                                         import an X12 835 remittance (idempotent)

Environment: DATABASE_URL (else embedded PGlite in FHIRDESK_DATA_DIR), FHIRDESK_JWT_SECRET.
Exit codes: 0 ok, 1 failure, 2 usage or configuration error, 3 not found, 4 upstream (EHR) failure.`;

export type Command = (args: string[], io: CliIo, env: NodeJS.ProcessEnv) => Promise<number>;

const commands: Record<string, Command> = {
  'import-835': import835Command,
  sources: sourcesCommand,
  sync: syncCommand,
  runs: runsCommand,
  migrate: async (_args, io, env) =>
    withDatabase(env, async (database) => {
      io.out(`migrations applied (${database.kind})`);
      return EXIT.ok;
    }),

  token: async (args, io, env) => {
    const { values } = parseArgs({
      args,
      options: { tenant: { type: 'string' }, user: { type: 'string' }, ttl: { type: 'string', default: '3600' } },
    });
    if (!values.tenant) throw new UsageError('--tenant is required');
    const ttl = Number(values.ttl);
    if (!Number.isInteger(ttl) || ttl < 60 || ttl > 86_400)
      throw new UsageError('--ttl must be whole seconds between 60 and 86400');
    return withDatabase(env, async (database, config) => {
      const [tenant] = await database.db.select().from(schema.tenant).where(eq(schema.tenant.slug, values.tenant!));
      if (!tenant) {
        io.err(`no tenant with slug ${values.tenant}`);
        return EXIT.notFound;
      }
      const users = await database.db.select().from(schema.appUser).where(eq(schema.appUser.tenantId, tenant.id));
      const user = values.user ? users.find((u) => u.id === values.user) : users.find((u) => u.roles.includes('admin'));
      if (!user) {
        io.err(
          values.user
            ? `no user ${values.user} in tenant ${values.tenant}`
            : `tenant ${values.tenant} has no admin user; pass --user`,
        );
        return EXIT.notFound;
      }
      const keys = loadTokenKeys(config);
      io.out(
        await keys.issue(
          {
            tenantId: tenant.id,
            userId: user.id,
            roles: user.roles,
            kind: user.roles.includes('integration') && user.roles.length === 1 ? 'integration' : 'user',
          },
          ttl,
        ),
      );
      return EXIT.ok;
    });
  },

  audit: async (args, io, env) => {
    const { positionals, values } = parseArgs({
      args,
      allowPositionals: true,
      options: { tenant: { type: 'string' } },
    });
    if (positionals[0] !== 'verify' || !values.tenant)
      throw new UsageError('usage: fhirdesk audit verify --tenant <slug>');
    return withDatabase(env, async (database) => {
      const [tenant] = await database.db.select().from(schema.tenant).where(eq(schema.tenant.slug, values.tenant!));
      if (!tenant) {
        io.err(`no tenant with slug ${values.tenant}`);
        return EXIT.notFound;
      }
      await sealAuditChain(database, tenant.id);
      const result = await verifyAuditChain(database.db, tenant.id);
      io.out(JSON.stringify(result));
      return result.ok ? EXIT.ok : EXIT.failure;
    });
  },
};

/** Registers a command (connectors and imports add theirs). */
export function registerCommand(name: string, command: Command): void {
  commands[name] = command;
}

export async function main(
  argv: string[],
  io: CliIo = processIo,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    io.out(usage);
    return name ? EXIT.ok : EXIT.usage;
  }
  const command = commands[name];
  if (!command) {
    io.err(`unknown command "${name}"\n\n${usage}`);
    return EXIT.usage;
  }
  try {
    return await command(rest, io, env);
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`${(error as Error).message}\n\n${usage}`);
      return EXIT.usage;
    }
    if (error instanceof ConfigError) {
      io.err(error.message);
      return EXIT.usage;
    }
    if (error instanceof DomainError) {
      io.err(`${error.message}`);
      return error.status === 404 ? EXIT.notFound : error.status === 502 ? EXIT.upstream : EXIT.failure;
    }
    io.err(`failed: ${(error as Error).name}`);
    return EXIT.failure;
  }
}
