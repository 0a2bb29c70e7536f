// `fhirdesk import-835 <file> --tenant <slug>`: the API's 835 import from the shell (issue 5). Exit 0 on
// success (also when nothing changed), 1 when the file is rejected, 2 on usage, 3 for an unknown tenant/file.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { upsertResources } from '@fhirdesk/connectors';
import { type Actor, importRemittance, schema, ValidationError } from '@fhirdesk/core';
import { eq } from 'drizzle-orm';
import { type CliIo, EXIT, UsageError, withDatabase } from './context';

export async function import835Command(args: string[], io: CliIo, env: NodeJS.ProcessEnv): Promise<number> {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { tenant: { type: 'string' } } });
  if (positionals.length !== 1 || !values.tenant)
    throw new UsageError('usage: fhirdesk import-835 <file> --tenant <slug>');
  let text: string;
  try {
    text = await readFile(positionals[0]!, 'utf8');
  } catch {
    io.err('cannot read the file');
    return EXIT.notFound;
  }
  return withDatabase(env, async (database) => {
    const [tenant] = await database.db.select().from(schema.tenant).where(eq(schema.tenant.slug, values.tenant!));
    if (!tenant) {
      io.err(`no tenant with slug ${values.tenant}`);
      return EXIT.notFound;
    }
    const actor: Actor = {
      tenantId: tenant.id,
      userId: null,
      kind: 'integration',
      roles: ['integration'],
      label: 'cli:import-835',
    };
    try {
      const result = await importRemittance(database, actor, { text, write: upsertResources });
      io.out(
        JSON.stringify({
          eobs: result.eobs.length,
          matchedClaims: result.eobs.filter((e) => e.claim).length,
          inserted: result.inserted,
          updated: result.updated,
          unchanged: result.unchanged,
          disputesOpened: result.disputes.opened.length,
        }),
      );
      return EXIT.ok;
    } catch (error) {
      // Segment ids, positions and lines only (X835-07): the messages never carry values from the file.
      if (error instanceof ValidationError) {
        io.err(error.message);
        for (const e of error.errors) io.err(`  ${e.field}: ${e.message}`);
        return EXIT.failure;
      }
      throw error;
    }
  });
}
