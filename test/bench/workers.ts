/**
 * Workers benchmark (issue 15): merchants of 5,000 charges each, every merchant with a gateway
 * (simulator) of its own: 20 ms latency and a cap of 50 requests per second, its key's limit.
 *   1. one merchant, one worker: the time of one night;
 *   2. eight merchants, one worker (concurrency 8);
 *   3. eight merchants, two workers (concurrency 4 each).
 * Goal: eight merchants in under 1.3x the time of one (the caps, not the workers, are the limit).
 * Workers are the compiled CLI (`kpgw-recon worker --once`) in child processes; the simulators run
 * in a child process of their own. Uses DATABASE_URL's server (a database per scenario, dropped
 * after), else an embedded PostgreSQL in a temporary directory.
 *
 *   npm run bench:workers
 */
import { fork } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { merchantSchema } from '../../src/db/merchant.ts';
import { shiftDate } from '../../src/dates.ts';
import { startEmbedded, type EmbeddedDatabase } from '../../src/db/embedded.ts';
import { createLogger } from '../../src/log.ts';
import { startSimulator } from '../../src/simulator/index.ts';
import { runCli } from '../helpers/cli.ts';
import { query } from './bench-database.ts';
import { testMerchant, keysEnv, type TestMerchant } from '../worker/helpers.ts';

const MERCHANTS = 8;
const CHARGES = 5000;
const LATENCY_MS = 20;
const CAP = 50;
/** Each merchant's night is a date of its own: its run selects its own ledger rows only. */
const BASE_DATE = '2026-03-01';
const SERVE = '--serve-simulators';

const mids = Array.from({ length: MERCHANTS }, (_, i) => `BENCH${i + 1}`);
const dateOf = (i: number) => shiftDate(BASE_DATE, i);

if (process.argv.includes(SERVE)) {
  await serve(process.argv[process.argv.indexOf(SERVE) + 1]!);
} else {
  await bench();
}

/** Child: one simulator per merchant; tells the parent their URLs, stops when the parent goes. */
async function serve(root: string): Promise<void> {
  const merchants = await Promise.all(mids.map((mid, i) => testMerchant(root, mid, [dateOf(i)], CHARGES)));
  const simulators = await Promise.all(
    merchants.map((m, i) => startSimulator({ secretKey: m.key, charges: m.charges.map((c) => c.gateway), faults: { latencyMs: LATENCY_MS }, today: dateOf(i) })),
  );
  process.send?.({ urls: simulators.map((s) => s.url) });
  process.on('disconnect', () => void Promise.all(simulators.map((s) => s.close())).then(() => process.exit(0)));
}

interface Scenario {
  readonly merchants: number;
  readonly workers: number;
  readonly concurrency: number;
}

interface Outcome extends Scenario {
  readonly seconds: number;
  /** Per merchant: requests per second during its inquiry stage. */
  readonly rps: number[];
}

async function bench(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'kpgw-bench-workers-'));
  await chmod(dir, 0o755); // the embedded server runs as the postgres user when we are root
  let embedded: EmbeddedDatabase | undefined;
  const child = fork(fileURLToPath(import.meta.url), [SERVE, dir], { execArgv: ['--import', import.meta.resolve('tsx')], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const urls = await new Promise<string[]>((resolve, reject) => {
      child.once('message', (message) => resolve((message as { urls: string[] }).urls));
      child.once('exit', (code) => reject(new Error(`simulators exited with ${code}`)));
    });
    // The same inboxes the simulators were built from (testMerchant is deterministic).
    const merchants = await Promise.all(mids.map((mid, i) => testMerchant(dir, mid, [dateOf(i)], CHARGES)));
    let serverUrl = process.env.DATABASE_URL;
    if (!serverUrl) {
      embedded = await startEmbedded({ dataDir: join(dir, 'postgres'), logger: createLogger({ level: 'warn' }), ephemeral: true, settings: { max_connections: '200' } });
      serverUrl = embedded.url;
    }
    const outcomes: Outcome[] = [];
    for (const scenario of [
      { merchants: 1, workers: 1, concurrency: 1 },
      { merchants: MERCHANTS, workers: 1, concurrency: MERCHANTS },
      { merchants: MERCHANTS, workers: 2, concurrency: MERCHANTS / 2 },
    ]) {
      outcomes.push(await runScenario(serverUrl, dir, merchants.slice(0, scenario.merchants), urls, scenario));
      const o = outcomes.at(-1)!;
      console.log(`${o.merchants} merchant(s), ${o.workers} worker(s) x concurrency ${o.concurrency}: ${o.seconds.toFixed(1)} s; rps per merchant ${o.rps.map((r) => r.toFixed(1)).join(', ')}`);
    }
    const one = outcomes[0]!.seconds;
    console.log('\n| merchants | workers × concurrency | wall time | vs one merchant | requests/s per merchant (min–max) |');
    console.log('|---|---|---|---|---|');
    for (const o of outcomes) {
      console.log(`| ${o.merchants} | ${o.workers} × ${o.concurrency} | ${o.seconds.toFixed(1)} s | ${(o.seconds / one).toFixed(2)}× | ${Math.min(...o.rps).toFixed(1)}–${Math.max(...o.rps).toFixed(1)} |`);
    }
    const ok = outcomes.slice(1).every((o) => o.seconds < 1.3 * one);
    console.log(ok ? '\ngoal met: 8 merchants < 1.3x one' : '\nGOAL MISSED: 8 merchants take 1.3x one or more');
    process.exitCode = ok ? 0 : 1;
  } finally {
    child.disconnect();
    await embedded?.stop({ force: true });
    await rm(dir, { recursive: true, force: true });
  }
  process.exit(process.exitCode ?? 0);
}

/** A fresh database, the merchants' nights queued, then the workers until the queue is empty. */
async function runScenario(serverUrl: string, dir: string, merchants: TestMerchant[], urls: string[], scenario: Scenario): Promise<Outcome> {
  const name = `kpgw_bench_workers_${process.pid}_${scenario.merchants}_${scenario.workers}`;
  await query(serverUrl, `CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  try {
    const file = join(dir, `merchants-${name}.json`);
    const entries = merchants.map((m, i) => ({ mid: m.mid, key_env: m.keyEnv, inbox: m.inbox, reports_dir: join(dir, name, m.mid), base_url: urls[i], rate_limit_rps: CAP, concurrency: 8 }));
    await writeFile(file, JSON.stringify({ merchants: entries }));
    const env = { ...keysEnv(merchants), DATABASE_URL: url.toString(), RECON_MERCHANTS: file, LOG_LEVEL: 'warn' };
    for (const [i, m] of merchants.entries()) {
      const queued = await runCli(['enqueue', '--date', dateOf(i), '--mid', m.mid], { env });
      if (queued.code !== 0) throw new Error(`enqueue failed: ${queued.stderr}`);
    }
    const started = performance.now();
    const results = await Promise.all(Array.from({ length: scenario.workers }, () => runCli(['worker', '--once', '--concurrency', String(scenario.concurrency)], { env })));
    const seconds = (performance.now() - started) / 1000;
    for (const r of results) if (r.code !== 0) throw new Error(`a worker exited with ${r.code}: ${r.stderr.slice(-2000)}`);
    // Each merchant's runs are in its own schema.
    const runs = (
      await Promise.all(
        merchants.map((m) =>
          query<{ status: string; gateway: { requests: number }; timings_ms: { inquiry: number } }>(url.toString(), `SELECT status, gateway, timings_ms FROM ${merchantSchema(m.mid)}.recon_runs`),
        ),
      )
    ).flat();
    if (runs.length !== merchants.length || runs.some((r) => r.status !== 'finished')) throw new Error(`expected ${merchants.length} finished runs, got ${JSON.stringify(runs.map((r) => r.status))}`);
    return { ...scenario, seconds, rps: runs.map((r) => r.gateway.requests / (r.timings_ms.inquiry / 1000)) };
  } finally {
    await query(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

