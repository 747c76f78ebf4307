import { join } from 'node:path';
import pg from 'pg';
import { startEmbedded } from '../../src/db/embedded.ts';
import { migrate } from '../../src/db/migrate.ts';
import type { Logger } from '../../src/log.ts';

export interface BenchDatabase {
  /** A migrated, empty database of the bench's own. */
  readonly url: string;
  /** Drops the database, or stops the embedded server. */
  close(): Promise<void>;
}

/**
 * A database for one bench: on DATABASE_URL's server when set (created afresh, dropped after),
 * else on an embedded PostgreSQL in `dir` (which must be readable by the postgres user when we
 * are root).
 */
export async function benchDatabase(dir: string, logger: Logger): Promise<BenchDatabase> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    const embedded = await startEmbedded({ dataDir: join(dir, 'postgres'), logger, ephemeral: true });
    await migrate(embedded.url).catch(async (error: unknown) => {
      await embedded.stop({ force: true });
      throw error;
    });
    return { url: embedded.url, close: () => embedded.stop({ force: true }) };
  }
  const name = `kpgw_bench_${process.pid}`;
  await query(serverUrl, `CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const close = () => query(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).then(() => undefined);
  await migrate(url.toString()).catch(async (error: unknown) => {
    await close();
    throw error;
  });
  return { url: url.toString(), close };
}

export async function query<T = Record<string, unknown>>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as T[];
  } finally {
    await client.end();
  }
}
