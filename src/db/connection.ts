import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Config } from '../config.ts';
import { ReconError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Database } from './database.ts';
import { startEmbedded, type EmbeddedDatabase } from './embedded.ts';
import { migrate } from './migrate.ts';

/** An open, migrated database for one command. */
export interface DatabaseHandle {
  readonly url: string;
  readonly db: Kysely<Database>;
  /** Closes the pool and stops the embedded server if this command started it. */
  close(options?: { force?: boolean }): Promise<void>;
}

/**
 * `DATABASE_URL` when set, else the embedded PostgreSQL; migrations applied either way, since
 * every command that needs the database needs the current schema.
 */
export async function openDatabase(config: Pick<Config, 'databaseUrl' | 'embeddedDataDir'>, logger: Logger): Promise<DatabaseHandle> {
  useTextForDatesAndNumbers();
  let embedded: EmbeddedDatabase | undefined;
  let url = config.databaseUrl;
  if (!url) {
    embedded = await startEmbedded({ dataDir: config.embeddedDataDir, logger });
    url = embedded.url;
  }
  try {
    await migrate(url, logger);
  } catch (error) {
    await embedded?.stop({ force: true });
    throw asUnreachable(error, url);
  }
  const db = createKysely(url, 8, (error) => logger.debug({ err: error }, 'idle database connection closed'));
  return {
    url,
    db,
    async close(options) {
      await db.destroy();
      await embedded?.stop(options);
    },
  };
}

export function createKysely(url: string, max = 8, onIdleError: (error: Error) => void = () => undefined): Kysely<Database> {
  useTextForDatesAndNumbers();
  const pool = new pg.Pool({ connectionString: url, max });
  // An idle connection that the server closes (a restart, a stop racing the pool's shutdown) is
  // dropped by the pool and replaced on demand; unhandled, its 'error' would crash the process.
  pool.on('error', onIdleError);
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/**
 * Dates stay `YYYY-MM-DD` text (pg would make them local-midnight `Date`s, shifting a day in
 * some zones); numeric stays text for decimal.js; bigint counts become numbers.
 */
function useTextForDatesAndNumbers(): void {
  pg.types.setTypeParser(pg.types.builtins.DATE, (value) => value);
  pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));
}

const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH', '28P01', '3D000', '28000']);

function asUnreachable(error: unknown, url: string): unknown {
  const code = (error as { code?: string }).code;
  if (code && CONNECTION_ERRORS.has(code)) {
    const where = safeUrl(url);
    return new ReconError('DATABASE_UNREACHABLE', `database ${where} is unreachable: ${(error as Error).message}`, { cause: error });
  }
  return error;
}

/** The URL without its password, for messages. */
export function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = '';
    return parsed.toString().replace(/:@/, '@');
  } catch {
    return '(invalid DATABASE_URL)';
  }
}
