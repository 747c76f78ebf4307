import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { GatewayBody } from '../../src/sample/charge-builder.ts';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { runCli, type CliResult } from './cli.ts';
import type { TestDatabase } from './database.ts';

/** A test file's CLI runs over several CLI processes: generous, since a loaded machine is slow to start each. */
export const CLI_TEST_TIMEOUT_MS = 240_000;

export interface RunResult {
  result: CliResult;
  /** From its run.json. */
  runId: string;
  /** The run's report folder. */
  out: string;
  /** A CSV of the report folder, as records by header. */
  csv(name: string): Promise<Record<string, string>[]>;
}

/**
 * Small books a test works through the real CLI: a folder for its files, the simulator serving
 * `gateway` over HTTP, and the test file's own PostgreSQL.
 */
export interface Books {
  readonly dir: string;
  readonly simulator: Simulator;
  /** Writes a file into the folder; returns its path. */
  write(name: string, text: string | Buffer): Promise<string>;
  /** `kpgw-recon <args>` against this database and simulator (`env` added, e.g. `RECON_INBOX`). */
  cli(args: string[], env?: Record<string, string>): Promise<CliResult>;
  /** `run --from FROM --as-of AS_OF --ledger FILE --out DIR/NAME`. */
  run(name: string, ledger: string, dates: { from: string; asOf: string }): Promise<RunResult>;
  close(): Promise<void>;
}

const KEY = 'skey_test_books_0123456789';

export async function openBooks(database: TestDatabase, gateway: GatewayBody[]): Promise<Books> {
  const dir = await mkdtemp(join(tmpdir(), 'kpgw-books-'));
  const simulator = await startSimulator({ secretKey: KEY, charges: gateway });
  const env = {
    DATABASE_URL: database.url,
    KPGW_BASE_URL: simulator.url,
    KPGW_SECRET_KEY: KEY,
    KPGW_RATE_LIMIT_RPS: '1000',
    RECON_REPORTS_DIR: join(dir, 'reports'),
    LOG_LEVEL: 'warn',
  };
  const cli = (args: string[], more: Record<string, string> = {}) => runCli(args, { env: { ...env, ...more } });
  return {
    dir,
    simulator,
    async write(name, text) {
      await writeFile(join(dir, name), text);
      return join(dir, name);
    },
    cli,
    async run(name, ledger, { from, asOf }) {
      const out = join(dir, name);
      const result = await cli(['run', '--from', from, '--as-of', asOf, '--ledger', ledger, '--out', out]);
      if (result.code !== 0 && result.code !== 1) throw new Error(`run ${name} exited ${result.code}: ${result.stderr}`);
      const { run_id: runId } = JSON.parse(await readFile(join(out, 'run.json'), 'utf8')) as { run_id: string };
      return { result, runId, out, csv: async (file) => parse(await readFile(join(out, file), 'utf8'), { columns: true, bom: true }) };
    },
    async close() {
      await simulator.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
