import { readdir, readFile } from 'node:fs/promises';
import pg from 'pg';
import { ReconError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { packagePath } from '../package-root.ts';
import { SCHEMA_NOTE_PREFIX, merchantSchema } from './merchant.ts';
import { connectClient, connectionOptions } from './pg-options.ts';

export const SQL_DIR = packagePath('sql');

/** Any constant will do, as long as nothing else in the database uses it for an advisory lock. */
const MIGRATION_LOCK = 0x6b70_6777; // "kpgw"

export interface Migration {
  readonly file: string;
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** `sql/NNNN_name.sql`, in version order. */
export async function loadMigrations(dir = SQL_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => /^\d{4}_[\w-]+\.sql$/.test(f)).sort();
  return Promise.all(
    files.map(async (file) => ({
      file,
      version: Number(file.slice(0, 4)),
      name: file.slice(5, -4),
      sql: await readFile(`${dir}/${file}`, 'utf8'),
    })),
  );
}

/**
 * Applies the pending migrations in one transaction behind an advisory lock: a second process
 * starting at the same moment waits, then finds nothing left to do; a migration that fails
 * rolls back the lot, leaving the schema as it was.
 */
export async function migrate(databaseUrl: string, logger?: Logger, dir = SQL_DIR): Promise<Migration[]> {
  const migrations = await loadMigrations(dir);
  const client = new pg.Client(connectionOptions(databaseUrl));
  // A lost connection also fails the query in flight, which ends the work; unheard, the
  // 'error' event would crash the process instead.
  client.on('error', () => undefined);
  await connectClient(client);
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    // A merchant's connection (src/db/merchant.ts) names its schema first on the search_path.
    const { rows: [setting] } = await client.query<{ mid: string | null }>("SELECT current_setting('kpgw.merchant', true) AS mid");
    if (setting?.mid) await claimSchema(client, setting.mid);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((r) => r.version));
    const pending = migrations.filter((m) => !applied.has(m.version));
    for (const migration of pending) {
      try {
        await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
        await client.query(migration.sql);
      } catch (error) {
        throw new Error(`migration ${migration.file} failed: ${(error as Error).message}`, { cause: error });
      }
      logger?.debug({ version: migration.version, name: migration.name }, 'migration applied');
    }
    await client.query('COMMIT');
    // One line for the lot, none when the schema was current: a fresh database is not news.
    const latest = pending.at(-1);
    if (latest) logger?.info({ latest: latest.file }, `applied ${pending.length} migration${pending.length === 1 ? '' : 's'}`);
    return pending;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
}

/**
 * The merchant's schema, made if need be and marked with the mid that made it (its name folds case
 * and `-`, so the comment is also how messages name the merchants of a database). Two mids equal
 * but for letter case or `-`/`_` (`Shop-A`, `shop_a`) name one schema: the second is refused,
 * so that one merchant never reads, exports or acknowledges another's books.
 */
async function claimSchema(client: pg.Client, mid: string): Promise<void> {
  const schema = merchantSchema(mid);
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${pg.escapeIdentifier(schema)}`);
  const { rows: [current] } = await client.query<{ note: string | null }>("SELECT obj_description(oid, 'pg_namespace') AS note FROM pg_namespace WHERE nspname = $1", [schema]);
  const owner = current?.note?.startsWith(SCHEMA_NOTE_PREFIX) ? current.note.slice(SCHEMA_NOTE_PREFIX.length) : undefined;
  if (owner === undefined) {
    await client.query(`COMMENT ON SCHEMA ${pg.escapeIdentifier(schema)} IS ${pg.escapeLiteral(`${SCHEMA_NOTE_PREFIX}${mid}`)}`);
  } else if (owner !== mid) {
    throw new ReconError('CONFIG', `merchant ${mid}: its tables (${schema}) are merchant ${owner}'s; two mids equal once letter case, '-' and '_' are ignored are one merchant, so use ${owner}`);
  }
}
