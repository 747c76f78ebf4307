/**
 * Inquiry benchmark (issue 3): the client against the simulator with 20 ms latency.
 *   1. no rate cap, concurrency 1, 4, 16, 64: requests per second;
 *   2. a cap of 50 rps: the most requests the simulator saw in any one-second window and the
 *      achieved rate as a fraction of the cap.
 * The simulator runs in a child process so the client and the server do not share one event loop.
 *
 *   npx tsx test/bench/inquiry.ts           # 5,000 charges; c=1 and the capped run use 1,000
 *   npx tsx test/bench/inquiry.ts --full    # 5,000 charges everywhere (about 3.5 minutes more)
 *
 * `--versus-loop` (issue 13) measures the client's own per-request cost instead: no latency, no
 * cap, concurrency 16, 20,000 charges asked through `inquire()` by a pool of workers pulling from
 * one iterator (as the inquiry stage does), beside a plain keep-alive `fetch` loop of the same
 * paths and headers at the same concurrency, alternated in rounds in this one process. Goal:
 * the client <= 1.3x the loop.
 *
 *   npx tsx test/bench/inquiry.ts --versus-loop [--rounds 3]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { GatewayConfig } from '../../src/config/config.ts';
import { createInquiryClient, inquiryPath } from '../../src/gateway/inquiry-client.ts';
import { createLogger } from '../../src/log.ts';
import { startSimulator, syntheticCharges, type SimulatorStats } from '../../src/simulator/index.ts';

const CHARGES = 5000;
const LATENCY_MS = 20;
const CAP = 50;
const KEY = 'skey_test_bench';
const SERVE = '--serve-simulator';
/** `--versus-loop`: charges per timed pass, the client's concurrency, and the workers feeding it. */
const LOOP_CHARGES = 20_000;
const LOOP_CONCURRENCY = 16;
/** The inquiry stage's own pool (its `IN_FLIGHT`), and one worker per slot. */
const WORKER_POOLS = [512, LOOP_CONCURRENCY];

if (process.argv.includes(SERVE)) {
  const [charges, latencyMs] = process.argv.slice(process.argv.indexOf(SERVE) + 1).map(Number);
  await serve(charges!, latencyMs!);
} else if (process.argv.includes('--versus-loop')) {
  const rounds = process.argv.includes('--rounds') ? Number(process.argv[process.argv.indexOf('--rounds') + 1]) : 3;
  await versusLoop(rounds);
} else {
  await bench(process.argv.includes('--full'));
}

/** Child: a simulator with the synthetic charges; tells the parent its URL, stops when the parent goes. */
async function serve(charges: number, latencyMs: number): Promise<void> {
  const simulator = await startSimulator({ secretKey: KEY, charges: syntheticCharges(charges), faults: { latencyMs } });
  process.send?.({ url: simulator.url });
  process.on('disconnect', () => void simulator.close().then(() => process.exit(0)));
}

/** Forks the simulator child and waits for its URL. */
async function startChild(charges: number, latencyMs: number): Promise<{ url: string; child: ChildProcess }> {
  const child = fork(fileURLToPath(import.meta.url), [SERVE, String(charges), String(latencyMs)], {
    execArgv: ['--import', import.meta.resolve('tsx')],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (message) => resolve((message as { url: string }).url));
    child.once('exit', (code) => reject(new Error(`simulator exited with ${code}`)));
  });
  return { url, child };
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
  const { url, child } = await startChild(CHARGES, LATENCY_MS);
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

/** The client's per-request cost: `inquire()` beside a plain fetch loop, alternated in rounds. */
async function versusLoop(rounds: number): Promise<void> {
  const { url, child } = await startChild(LOOP_CHARGES, 0);
  const logger = createLogger({ level: 'warn' });
  const ids = syntheticCharges(LOOP_CHARGES).map((c) => String(c.id));
  const config: GatewayConfig = { baseUrl: url, secretKey: KEY, rateLimitRps: Infinity, concurrency: LOOP_CONCURRENCY, timeoutMs: 20_000, maxRetries: 5 };
  const headers = { 'x-api-key': KEY, accept: 'application/json' };

  /** The floor: the same requests with nothing around them. */
  const loop = async (count: number): Promise<Pass> => {
    const paths = ids.slice(0, count).map((id) => inquiryPath({ family: 'card', id }));
    let next = 0;
    const pass = startPass();
    await Promise.all(
      Array.from({ length: LOOP_CONCURRENCY }, async () => {
        while (next < paths.length) {
          const response = await fetch(`${url}${paths[next++]}`, { headers });
          await response.text();
        }
      }),
    );
    return pass.end();
  };

  /** A fresh client per pass, fed by `workers` workers pulling from one iterator. */
  const client = async (count: number, workers: number): Promise<Pass> => {
    const inquiries = createInquiryClient(config, logger);
    const signal = new AbortController().signal;
    const queue = ids.slice(0, count)[Symbol.iterator]();
    let found = 0;
    const pass = startPass();
    await Promise.all(
      Array.from({ length: workers }, async () => {
        for (let next = queue.next(); !next.done; next = queue.next()) {
          const id = next.value;
          const answer = await inquiries.inquire({ family: 'card', id, known: { chargeId: id } }, signal);
          if (answer.kind === 'found') found += 1;
        }
      }),
    );
    const result = pass.end();
    if (found !== count) throw new Error(`only ${found} of ${count} charges found`);
    return result;
  };

  const pools = WORKER_POOLS.map((workers) => ({ workers, passes: [] as Pass[] }));
  const loops: Pass[] = [];
  try {
    process.stdout.write(`simulator ${url} (child process), no latency, no cap, concurrency ${LOOP_CONCURRENCY}, ${LOOP_CHARGES.toLocaleString('en')} charges per pass, node ${process.version}\n`);
    // Warm-up (connections, undici, JIT); not reported.
    await loop(2000);
    for (const pool of pools) await client(2000, pool.workers);
    for (let round = 1; round <= rounds; round += 1) {
      loops.push(await loop(LOOP_CHARGES));
      const line = [`round ${round}: plain loop ${describePass(loops.at(-1)!)}`];
      for (const pool of pools) {
        pool.passes.push(await client(LOOP_CHARGES, pool.workers));
        line.push(`client (${pool.workers} workers) ${describePass(pool.passes.at(-1)!)}`);
      }
      process.stdout.write(`${line.join(', ')}\n`);
    }
  } finally {
    child.disconnect();
  }
  const loopSeconds = median(loops.map((p) => p.seconds));
  const loopCpu = median(loops.map((p) => p.cpuSeconds));
  const perRequest = (cpu: number) => `${((cpu * 1e6) / LOOP_CHARGES).toFixed(0)} µs CPU per request`;
  process.stdout.write(`plain loop: median ${loopSeconds.toFixed(2)} s, ${(LOOP_CHARGES / loopSeconds).toFixed(0)} requests/s, ${perRequest(loopCpu)}\n`);
  for (const pool of pools) {
    const seconds = median(pool.passes.map((p) => p.seconds));
    const cpu = median(pool.passes.map((p) => p.cpuSeconds));
    // Each pass against the loop of its own round (run just before it), so a machine that gets
    // busier or quieter during the benchmark moves both sides of a ratio alike.
    const timeRatio = median(pool.passes.map((p, i) => p.seconds / loops[i]!.seconds));
    const cpuRatio = median(pool.passes.map((p, i) => p.cpuSeconds / loops[i]!.cpuSeconds));
    process.stdout.write(
      `client, ${pool.workers} workers: median ${seconds.toFixed(2)} s, ${(LOOP_CHARGES / seconds).toFixed(0)} requests/s, ${perRequest(cpu)}; ` +
        `${timeRatio.toFixed(2)}x the loop's time (goal <= 1.3x), ${cpuRatio.toFixed(2)}x its CPU (medians of each round's ratio)\n`,
    );
  }
}

/**
 * One timed pass: wall-clock seconds, and this process's CPU seconds (user + system). The CPU
 * figure is the client's own cost, which the other processes of a shared machine move less.
 */
interface Pass {
  readonly seconds: number;
  readonly cpuSeconds: number;
}

function startPass(): { end(): Pass } {
  const started = performance.now();
  const cpu = process.cpuUsage();
  return {
    end() {
      const used = process.cpuUsage(cpu);
      return { seconds: (performance.now() - started) / 1000, cpuSeconds: (used.user + used.system) / 1e6 };
    },
  };
}

function describePass(pass: Pass): string {
  return `${pass.seconds.toFixed(2)} s (${pass.cpuSeconds.toFixed(2)} s CPU)`;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
