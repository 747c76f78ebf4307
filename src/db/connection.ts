import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Config } from '../config/config.ts';
import { ReconError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Database } from './database.ts';
import { startEmbedded, type EmbeddedDatabase } from './embedded.ts';
import { urlForMerchant } from './merchant.ts';
import { chooseMerchant, type TableUse } from './merchant-choice.ts';
import { migrate } from './migrate.ts';
import { connectionOptions } from './pg-options.ts';

/** An open, migrated database for one command. */
export interface DatabaseHandle {
  readonly url: string;
  readonly db: Kysely<Database>;
  /** Closes the pool and stops the embedded server if this command started it. */
  close(options?: { force?: boolean }): Promise<void>;
}

/**
 * `DATABASE_URL` when set, else the embedded PostgreSQL; migrations applied either way, since
 * every command that needs the database needs the current schema. The merchant's tables are
 * those of `RECON_MERCHANT`, checked against the merchants the set-up knows; only a command that
 * writes a run (`use` 'write') creates a merchant's schema (see merchant-choice.ts).
 */
export async function openDatabase(config: Config, logger: Logger, use: TableUse = 'read'): Promise<DatabaseHandle> {
  const server = await openServer(config, logger);
  let url = server.url;
  try {
    url = urlForMerchant(server.url, await chooseMerchant(server.url, config, use));
    await migrate(url, logger);
  } catch (error) {
    await server.stop({ force: true });
    throw asUnreachable(error, url);
  }
  const db = createKysely(url, 8, (error) => logger.debug({ err: error }, 'database connection closed'));
  return {
    url,
    db,
    async close(options) {
      await db.destroy();
      await server.stop(options);
    },
  };
}

/** The PostgreSQL server a command uses: `DATABASE_URL`, else the embedded one, started for the command. */
export interface DatabaseServer {
  readonly url: string;
  /** Stops the embedded server if this command started it; `force` skips waiting for other commands. */
  stop(options?: { force?: boolean }): Promise<void>;
}

export async function openServer(config: Pick<Config, 'databaseUrl' | 'embeddedDataDir'>, logger: Logger): Promise<DatabaseServer> {
  if (config.databaseUrl) return { url: config.databaseUrl, stop: async () => undefined };
  const embedded: EmbeddedDatabase = await startEmbedded({ dataDir: config.embeddedDataDir, logger });
  return { url: embedded.url, stop: (options) => embedded.stop(options) };
}

export function createKysely(url: string, max = 8, onConnectionError: (error: Error) => void = () => undefined): Kysely<Database> {
  const pool = new pg.Pool({ ...connectionOptions(url), max });
  // A connection that the server closes (a restart, a dropped database, a stop racing the pool's
  // shutdown) must not crash the process through an unhandled 'error'. Idle, the pool drops it;
  // checked out between two queries (a stream paused while the gateway answers), the pool has
  // no listener on it, so each connection gets one: the next query on it then fails, and that
  // failure is what the command reports.
  pool.on('error', onConnectionError);
  pool.on('connect', (client) => client.on('error', onConnectionError));
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/**
 * Refused, unknown host, bad credentials, no such database, starting up or shutting down, and
 * no connection slot left (`too_many_connections`).
 */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', '28P01', '3D000', '28000', '57P03', '53300']);
/** A connection that was there and went: reset, killed backend, server shut down. */
const LOST_CODES = new Set(['ECONNRESET', 'EPIPE', '57P01', '57P02', '08000', '08003', '08006']);
/** pg's own errors carry no code, only these messages (the last: `sslmode=require` against a server without SSL). */
const LOST_MESSAGES = /^(Connection terminated|timeout expired|Client has encountered a connection error|Client was closed|The server does not support SSL connections)/;
/** `invalid_catalog_name`: the database is not there (never was, or was dropped). */
const NO_SUCH_DATABASE = '3D000';

export function isConnectionFailure(error: unknown): boolean {
  const code = codeOf(error);
  if (code !== undefined && (UNREACHABLE_CODES.has(code) || LOST_CODES.has(code))) return true;
  return error instanceof Error && LOST_MESSAGES.test(error.message);
}

/** The database named in the URL does not exist (any more). */
export function isDatabaseGone(error: unknown): boolean {
  return codeOf(error) === NO_SUCH_DATABASE;
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Why connecting failed, in the words an operator acts on. */
function failureOf(error: unknown): string {
  const message = (error as Error).message;
  if (codeOf(error) === '53300') return `${message} (the server's max_connections are all in use; try again when fewer clients are connected)`;
  if (message.startsWith('The server does not support SSL')) return 'the server does not support SSL, which DATABASE_URL asks for (sslmode)';
  return message;
}

/** A connection that could not be made, as the one line that says so (exit 3); anything else unchanged. */
export function asUnreachable(error: unknown, url: string): unknown {
  if (!isConnectionFailure(error)) return error;
  return new ReconError('DATABASE_UNREACHABLE', `database ${safeUrl(url)} is unreachable: ${failureOf(error)}`, { cause: error });
}

/**
 * A connection failure during a run (the server restarted, the network dropped, a backend was
 * killed, the database was dropped) is the environment's doing: an aborted run (exit 3), not a bug.
 */
export function asDatabaseLost(error: unknown, url: string): unknown {
  if (error instanceof ReconError || !isConnectionFailure(error)) return error;
  if (isDatabaseGone(error)) return databaseGone(url, error);
  return new ReconError('DATABASE_LOST', `lost the connection to database ${safeUrl(url)}: ${failureOf(error)}`, { cause: error });
}

/** The database went away under a command: dropped (or renamed) while it worked. */
export function databaseGone(url: string, cause: unknown): ReconError {
  return new ReconError('DATABASE_LOST', `database ${safeUrl(url)} no longer exists (dropped while the command ran?); nothing more could be recorded in it`, { cause });
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
