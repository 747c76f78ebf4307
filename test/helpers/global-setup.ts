import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startEmbedded, type EmbeddedDatabase } from '../../src/db/embedded.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createLogger } from '../../src/log.ts';
import { ROOT } from './cli.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A server URL (maintenance database) on which test files create their own databases. */
    pgServerUrl: string;
    /** A migrated database that each test file's database is cloned from. */
    pgTemplate: string;
  }
}

/**
 * The CLI's child processes run the compiled code (`bin/` runs `dist/`), so it is built from the
 * sources first: incrementally, well under a second when nothing changed. A build that fails
 * stops the run, rather than letting the CLI tests run yesterday's code.
 */
export async function buildCli(): Promise<void> {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  try {
    await promisify(execFile)(process.execPath, [tsc, '--build', 'tsconfig.build.json'], { cwd: ROOT });
  } catch (error) {
    const output = (error as { stdout?: string }).stdout?.trim();
    throw new Error(`the build of the CLI (tsc --build tsconfig.build.json) failed, so no test runs:\n${output || String(error)}`);
  }
}

/**
 * One PostgreSQL for the whole test run: `DATABASE_URL` when set, else an embedded server in a
 * temporary directory. It holds a migrated template; each test file clones its own database
 * from it (see `database.ts`), so files never share state.
 */
export default async function setup(project: TestProject) {
  await buildCli();
  const logger = createLogger({ level: 'warn' });
  let embedded: EmbeddedDatabase | undefined;
  let parent: string | undefined;
  let serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    parent = await mkdtemp(join(tmpdir(), 'kpgw-recon-test-'));
    await chmod(parent, 0o755); // the server runs as the postgres user when we are root
    const dataDir = join(parent, 'postgres');
    embedded = await startEmbedded({
      dataDir,
      logger,
      ephemeral: true,
      // Durability buys nothing in a throwaway test cluster.
      settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '300' },
    });
    serverUrl = embedded.url;
  }
  const template = `kpgw_test_${process.pid}_template`;
  await admin(serverUrl, async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${template}`);
    await client.query(`CREATE DATABASE ${template}`);
  });
  await migrate(withDatabase(serverUrl, template));
  project.provide('pgServerUrl', serverUrl);
  project.provide('pgTemplate', template);

  return async () => {
    await admin(serverUrl, async (client) => {
      const { rows } = await client.query<{ datname: string }>(
        `SELECT datname FROM pg_database WHERE datname LIKE $1`,
        [`kpgw_test_${process.pid}_%`],
      );
      for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
    });
    await embedded?.stop({ force: true });
    if (parent) await rm(parent, { recursive: true, force: true });
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
