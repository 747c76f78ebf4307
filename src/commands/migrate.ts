import { openDatabase } from '../db/connection.ts';
import { EXIT } from '../errors.ts';
import type { Command } from './command.ts';
import { parseFlags } from './command.ts';

export const migrateCommand: Command = {
  name: 'migrate',
  help: `Usage: kpgw-recon migrate

Applies the numbered SQL migrations in sql/ that the database has not seen yet, in one
transaction. Every command that uses the database does this first; run it alone to prepare a
database ahead of time. Safe to run twice, or from two processes at once.

Environment:
  DATABASE_URL   PostgreSQL ≥ 14; unset: an embedded PostgreSQL under .data/postgres
  LOG_LEVEL      pino level for the JSON logs on stderr (default info)`,
  async run(args, { config, logger, stdout }) {
    parseFlags('migrate', args, {});
    const handle = await openDatabase(config, logger, 'write');
    try {
      const { count } = await handle.db
        .selectFrom('schema_migrations' as never)
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .executeTakeFirstOrThrow();
      stdout.write(`schema is current (${count} migrations applied)\n`);
      return EXIT.ok;
    } finally {
      await handle.close();
    }
  },
};
