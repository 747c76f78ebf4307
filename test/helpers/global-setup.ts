import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startEmbedded } from '../../src/db/embedded.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createLogger } from '../../src/log.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A server URL (maintenance database) on which test files create their own databases. */
    pgServerUrl: string;
    /** A migrated database that each test file's database is cloned from. */
    pgTemplate: string;
  }
}

interface TestServer {
  readonly url: string;
  readonly template: string;
  stop(): Promise<void>;
}

/**
 * The `db` and `e2e` projects both name this file, and vitest runs each project's global setup:
 * the server is started by the first and shared with the second (both run in vitest's main
 * process), and stopped when the last of them tears down.
 */
const shared = globalThis as { kpgwTestServer?: { server: Promise<TestServer>; users: number } };

/**
 * One PostgreSQL for the whole test run: `DATABASE_URL` when set, else an embedded server in a
 * temporary directory. It holds a migrated template; each test file clones its own database
 * from it (see `database.ts`), so files never share state and run in parallel.
 */
export default async function setup(project: TestProject) {
  shared.kpgwTestServer ??= { server: startServer(), users: 0 };
  const state = shared.kpgwTestServer;
  state.users += 1;
  const { url, template } = await state.server;
  project.provide('pgServerUrl', url);
  project.provide('pgTemplate', template);

  return async () => {
    state.users -= 1;
    if (state.users > 0) return;
    shared.kpgwTestServer = undefined;
    await (await state.server).stop();
  };
}

async function startServer(): Promise<TestServer> {
  const logger = createLogger({ level: 'warn' });
  let url = process.env.DATABASE_URL;
  let parent: string | undefined;
  let embedded: Awaited<ReturnType<typeof startEmbedded>> | undefined;
  if (!url) {
    parent = await mkdtemp(join(tmpdir(), 'kpgw-recon-test-'));
    await chmod(parent, 0o755); // the server runs as the postgres user when we are root
    embedded = await startEmbedded({
      dataDir: join(parent, 'postgres'),
      logger,
      ephemeral: true,
      // Durability buys nothing in a throwaway test cluster, nor does autovacuum, which would visit
      // each of the hundred-odd short-lived databases every minute (the code analyzes the tables
      // it fills when a plan depends on it). Test files run in parallel, each with its pools and
      // CLI processes: room for their connections.
      settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', autovacuum: 'off', max_connections: '300' },
    });
    url = embedded.url;
  }
  const serverUrl = url;
  const template = `kpgw_test_${process.pid}_template`;
  await admin(serverUrl, async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${template}`);
    await client.query(`CREATE DATABASE ${template}`);
  });
  await migrate(withDatabase(serverUrl, template));
  return {
    url: serverUrl,
    template,
    async stop() {
      await admin(serverUrl, async (client) => {
        const { rows } = await client.query<{ datname: string }>(
          `SELECT datname FROM pg_database WHERE datname LIKE $1`,
          [`kpgw_test_${process.pid}_%`],
        );
        for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
      });
      await embedded?.stop({ force: true });
      if (parent) await rm(parent, { recursive: true, force: true });
    },
  };
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export async function admin<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
