/**
 * Inquiry benchmark (issue 3): the client against the simulator with 20 ms latency.
 *   1. no rate cap, concurrency 1, 4, 16, 64: requests per second;
 *   2. a cap of 50 rps: the most requests the simulator saw in any one-second window and the
 *      achieved rate as a fraction of the cap.
 * The simulator runs in a child process so the client and the server do not share one event loop.
 *
 *   npx tsx test/bench/inquiry.ts           # 5,000 charges; c=1 and the capped run use 1,000
 *   npx tsx test/bench/inquiry.ts --full    # 5,000 charges everywhere (about 3.5 minutes more)
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { GatewayConfig } from '../../src/config.ts';
import { createInquiryClient } from '../../src/gateway/inquiry-client.ts';
import { createLogger } from '../../src/log.ts';
import { startSimulator, syntheticCharges, type SimulatorStats } from '../../src/simulator/index.ts';

const CHARGES = 5000;
const LATENCY_MS = 20;
const CAP = 50;
const KEY = 'skey_test_bench';
const SERVE = '--serve-simulator';

if (process.argv.includes(SERVE)) {
  await serve();
} else {
  await bench(process.argv.includes('--full'));
}

/** Child: a simulator with the synthetic charges; tells the parent its URL, stops when the parent goes. */
async function serve(): Promise<void> {
  const simulator = await startSimulator({ secretKey: KEY, charges: syntheticCharges(CHARGES), faults: { latencyMs: LATENCY_MS } });
  process.send?.({ url: simulator.url });
  process.on('disconnect', () => void simulator.close().then(() => process.exit(0)));
}

interface Row {
  readonly run: string;
  readonly charges: number;
  readonly concurrency: number;
  readonly cap: number | null;
  readonly seconds: number;
  readonly rps: number;
  readonly maxWindow: number;
  readonly failed: number;
}

async function bench(full: boolean): Promise<void> {
  const child = fork(fileURLToPath(import.meta.url), [SERVE], {
    execArgv: ['--import', import.meta.resolve('tsx')],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (message) => resolve((message as { url: string }).url));
    child.once('exit', (code) => reject(new Error(`simulator exited with ${code}`)));
  });
  const logger = createLogger({ level: 'warn' });
  const ids = syntheticCharges(CHARGES).map((c) => String(c.id));
  const smaller = full ? CHARGES : 1000;
  const rows: Row[] = [];
  try {
    process.stdout.write(`simulator ${url} (child process), ${LATENCY_MS} ms latency, node ${process.version}\n`);
    await run('warm-up', 64, Infinity, 200); // opens connections, loads undici; not reported
    rows.push(await run('no cap', 1, Infinity, smaller));
    for (const concurrency of [4, 16, 64]) rows.push(await run('no cap', concurrency, Infinity, CHARGES));
    rows.push(await run(`cap ${CAP}`, 16, CAP, smaller));
  } finally {
    child.disconnect();
  }
  print(rows);

  async function run(name: string, concurrency: number, cap: number, count: number): Promise<Row> {
    const config: GatewayConfig = { baseUrl: url, secretKey: KEY, rateLimitRps: cap, concurrency, timeoutMs: 20_000, maxRetries: 5 };
    const client = createInquiryClient(config, logger);
    await fetch(`${url}/__stats`, { method: 'DELETE' });
    const started = performance.now();
    const outcomes = await Promise.all(ids.slice(0, count).map((id) => client.inquire({ family: 'card', id })));
    const seconds = (performance.now() - started) / 1000;
    const stats = (await (await fetch(`${url}/__stats`)).json()) as SimulatorStats;
    const span = ((stats.lastAt ?? 0) - (stats.firstAt ?? 0)) / 1000;
    const row: Row = {
      run: name,
      charges: count,
      concurrency,
      cap: Number.isFinite(cap) ? cap : null,
      seconds,
      // Capped: the rate between the first and the last arrival, as the simulator saw them.
      rps: Number.isFinite(cap) && span > 0 ? (stats.total - 1) / span : stats.total / seconds,
      maxWindow: stats.maxInAnyWindow,
      failed: outcomes.filter((o) => o.kind !== 'found').length,
    };
    return row;
  }
}

function print(rows: readonly Row[]): void {
  const header = ['run', 'charges', 'concurrency', 'seconds', 'requests/s', 'max in any 1 s', 'of cap', 'not found/failed'];
  const lines = rows.map((r) => [
    r.run,
    String(r.charges),
    String(r.concurrency),
    r.seconds.toFixed(2),
    r.rps.toFixed(1),
    String(r.maxWindow),
    r.cap === null ? '-' : `${((100 * r.rps) / r.cap).toFixed(1)} %`,
    String(r.failed),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const format = (cells: string[]) => `| ${cells.map((c, i) => c.padStart(widths[i]!)).join(' | ')} |`;
  process.stdout.write(`${format(header)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n`);
  for (const line of lines) process.stdout.write(`${format(line)}\n`);
  const capped = rows.find((r) => r.cap !== null);
  if (capped && capped.charges < CHARGES) {
    process.stdout.write(`(concurrency 1 and the capped run use ${capped.charges} of the ${CHARGES} charges to keep the run short; --full runs all)\n`);
  }
}
