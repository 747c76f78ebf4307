import pg from 'pg';
import pgpass from 'pgpass';
import { pgConnectTimeoutMs } from '../config/config.ts';
import { ReconError } from '../errors.ts';

/**
 * For every pg client and pool of ours (the pool, the run lock, migrations, ingest). Connecting
 * may take `PGCONNECT_TIMEOUT` seconds (checked at start) before the database counts as
 * unreachable: a server that accepts and never answers must not hang a run.
 */
export function connectionOptions(url: string): pg.ClientConfig {
  configurePg();
  return { connectionString: url, connectionTimeoutMillis: pgConnectTimeoutMs() };
}

function configurePg(): void {
  useTextForDatesAndNumbers();
  refuseMissingPassword();
}

/**
 * A server that asks for a password when the URL (and `PGPASSWORD`) gave none: pg would hash
 * `null` and wait forever for an answer that never comes. pg asks `defaults.password` last, so
 * this only runs when no password was given at all: it looks in `~/.pgpass` (`PGPASSFILE`), as
 * pg itself would, and otherwise ends the connect with one clear line.
 */
function refuseMissingPassword(): void {
  // pg calls it with the connection's parameters, which its typings leave out.
  pg.defaults.password = (async (params?: ConnectionParameters) => {
    const fromFile = params ? await passwordFileEntry(params) : undefined;
    if (fromFile !== undefined) return fromFile;
    const where = params ? `postgres://${params.user ?? ''}@${params.host ?? ''}:${params.port ?? ''}/${params.database ?? ''}` : 'DATABASE_URL';
    throw new ReconError('DATABASE_UNREACHABLE', `database ${where} asks for a password and none was given (put it in DATABASE_URL or ~/.pgpass)`);
  }) as unknown as () => string;
}

interface ConnectionParameters {
  user?: string;
  host?: string;
  port?: number;
  database?: string;
}

function passwordFileEntry(params: ConnectionParameters): Promise<string | undefined> {
  return new Promise((resolve) => pgpass(params, resolve));
}

/**
 * Dates stay `YYYY-MM-DD` text (pg would make them local-midnight `Date`s, shifting a day in
 * some zones); numeric stays text for decimal.js; bigint counts become numbers.
 */
function useTextForDatesAndNumbers(): void {
  pg.types.setTypeParser(pg.types.builtins.DATE, (value) => value);
  pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));
}

/**
 * `client.connect()`, closing the socket when it fails: a server that asked for a password
 * it did not get keeps the connection open, and with it the process alive.
 */
export async function connectClient(client: pg.Client): Promise<void> {
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
}
