import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunJson } from '../../src/report/run-json.ts';
import { query } from './bench-database.ts';
import type { TypedFloor, TypedLoad } from './typed-floor.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/kpgw-recon.js', import.meta.url));
/** A day after every transaction date the generated ledger has (May 2024): the run asks nothing. */
const NO_CHARGES_DAY = '2024-06-01';

/** What {@link measureWholeCommands} runs each try. */
export interface WholeCommandInputs {
  /** The ledger file, of `rows` data rows. */
  file: string;
  rows: number;
  /** The same file's header alone. */
  emptyFile: string;
  /** A table of text columns for `psql \copy` of the file. */
  floorTable: string;
  typedFloor: TypedFloor;
}

export interface WholeCommands {
  /** Each `psql \copy` of the file into the plain table, start-up included, in seconds. */
  copy: number[];
  /** Each `kpgw-recon run` of the file into a new, never migrated database, in seconds. */
  cli: number[];
  /** The CLI runs' own ingest stage (run.json's timings_ms.ingest), in seconds. */
  ingestStage: number[];
  /** Each `kpgw-recon run` of the header-only file into a new database: the fixed start-up cost. */
  emptyCli: number[];
  /** Each load of our COPY text into a copy of ledger_entries, keys built (typed-floor.ts). */
  typed: TypedLoad[];
}

/**
 * The ingest as a user meets it, whole commands in child processes, alternated so a busy machine
 * weighs on all alike: `psql \copy` into `floorTable` (emptied first, outside the timing), the
 * typed floor, and the compiled CLI's `run` of the file and of its header alone, each into a
 * database created for the try (so it migrates, as a first run does). The CLI has no ingest-only
 * command; `run` over a day the file has no charges of makes its inquiry, reconcile and report
 * stages empty, so what is left is start-up, migration and the ingest. `bin/` runs `dist/`:
 * build first.
 */
export async function measureWholeCommands(url: string, inputs: WholeCommandInputs, dir: string, tries: number): Promise<WholeCommands> {
  const result: WholeCommands = { copy: [], cli: [], ingestStage: [], emptyCli: [], typed: [] };
  for (let i = 0; i < tries; i++) {
    await query(url, `TRUNCATE ${inputs.floorTable}`);
    result.copy.push((await timedChild('psql', [url, '-q', '-v', 'ON_ERROR_STOP=1', '-c', `\\copy ${inputs.floorTable} FROM '${inputs.file}' WITH (FORMAT csv, HEADER)`])).seconds);
    result.typed.push(await inputs.typedFloor.load());
    const run = await runCommand(url, inputs.file, inputs.rows, dir, `${i}`);
    result.cli.push(run.seconds);
    result.ingestStage.push(run.ingestStage);
    result.emptyCli.push((await runCommand(url, inputs.emptyFile, 0, dir, `${i}_empty`)).seconds);
  }
  return result;
}

/** One `kpgw-recon run` of `file` into a database of its own, created and dropped here. */
async function runCommand(url: string, file: string, rows: number, dir: string, tag: string): Promise<{ seconds: number; ingestStage: number }> {
  const name = `kpgw_bench_cmd_${process.pid}_${tag}`;
  await query(url, `CREATE DATABASE ${name}`);
  try {
    const target = new URL(url);
    target.pathname = `/${name}`;
    const out = join(dir, `run-${tag}`);
    const env = { ...process.env, DATABASE_URL: target.toString(), KPGW_SECRET_KEY: 'skey_test_bench_ingest_command', LOG_LEVEL: 'warn' };
    const { seconds } = await timedChild(process.execPath, [BIN, 'run', '--from', NO_CHARGES_DAY, '--ledger', file, '--out', out], env);
    const run = JSON.parse(await readFile(join(out, 'run.json'), 'utf8')) as RunJson;
    if (run.counts.ledger_rows !== rows || run.counts.charges !== 0) throw new Error(`the run ingested ${run.counts.ledger_rows} rows and asked about ${run.counts.charges} charges`);
    await rm(out, { recursive: true, force: true });
    return { seconds, ingestStage: run.timings_ms.ingest / 1000 };
  } finally {
    await query(url, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

/** Wall time of `kpgw-recon --help`, each in a new process. */
export async function measureHelp(tries: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < tries; i++) times.push((await timedChild(process.execPath, [BIN, '--help'])).seconds);
  return times;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Seconds from spawn to exit, and what the command printed; a non-zero exit throws with its errors. */
export function timedChild(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ seconds: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = (performance.now() - started) / 1000;
      if (code === 0) resolve({ seconds, stdout });
      else reject(new Error(`${command} ${args.join(' ')} exited with ${code}: ${stderr.trim()}`));
    });
  });
}
