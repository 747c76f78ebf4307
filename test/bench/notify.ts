/**
 * Notify receiver benchmark: notifications per second that `notify-receiver` stores durably (each
 * answered 200 only after its commit, on a PostgreSQL with fsync and synchronous_commit on),
 * beside the floor: a plain `node:http` server that reads the body and answers 200, storing
 * nothing. Both run in a child process of their own and get the same load from this process
 * (undici, 128 keep-alive connections: a flood, many senders at once; a new signed QR notification per request), for the same
 * time, alternated in rounds. Then a flood of the receiver for 60 seconds, its RSS sampled every
 * 5 seconds: memory must stay flat. Goal: at least 1,000 stored per second, at least 0.3x the floor.
 *
 *   npm run bench:notify [-- --seconds 10 --rounds 2 --flood 60]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { createKysely } from '../../src/db/connection.ts';
import { createLogger } from '../../src/log.ts';
import { notifyTarget } from '../../src/notify/notify-target.ts';
import { startReceiver } from '../../src/notify/receiver.ts';
import { qrNotify } from '../notify/helpers.ts';
import { benchDatabase, query } from './bench-database.ts';

const KEY = 'skey_test_bench_notify';
const CONNECTIONS = 128;
const SERVE = '--serve';
const flag = (name: string, fallback: number) => (process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : fallback);

/** Child: the floor or the receiver; tells the parent its URL, answers RSS questions, stops when the parent goes. */
async function serve(kind: 'floor' | 'receiver', databaseUrl: string | undefined): Promise<void> {
  let close: () => Promise<void>;
  let url: string;
  if (kind === 'floor') {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-length': '0' }).end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    close = () => new Promise((resolve) => server.close(() => resolve()));
  } else {
    // One JSON line per request, as in production (to stderr, which the bench throws away).
    const logger = createLogger({ level: 'info' });
    const db = createKysely(databaseUrl!, 4);
    const receiver = await startReceiver({ host: '127.0.0.1', port: 0, targets: { single: notifyTarget({ mid: '', secretKey: KEY, db }, logger) }, logger });
    url = receiver.url;
    close = async () => {
      await receiver.close();
      await db.destroy();
    };
  }
  process.on('message', () => {
    const cpu = process.cpuUsage();
    process.send!({ rss: process.memoryUsage().rss, maxRss: process.resourceUsage().maxRSS * 1024, cpuMs: (cpu.user + cpu.system) / 1000 });
  });
  process.on('disconnect', () => void close().then(() => process.exit(0)));
  process.send!({ url });
}

async function startChild(kind: 'floor' | 'receiver', databaseUrl = ''): Promise<{ url: string; child: ChildProcess; rss: () => Promise<Usage> }> {
  const child = fork(fileURLToPath(import.meta.url), [SERVE, kind, databaseUrl], { execArgv: ['--import', import.meta.resolve('tsx')], stdio: ['ignore', 'inherit', 'ignore', 'ipc'] });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (message) => resolve((message as { url: string }).url));
    child.once('exit', (code) => reject(new Error(`${kind} exited with ${code}`)));
  });
  const rss = () =>
    new Promise<Usage>((resolve) => {
      child.once('message', (m) => resolve(m as Usage));
      child.send('rss');
    });
  return { url, child, rss };
}

/** A child's memory now and at its peak (bytes), and the CPU time it has used (ms). */
interface Usage {
  rss: number;
  maxRss: number;
  cpuMs: number;
}

let sequence = 0;
/** A new signed QR notification (guide §6.5.3), about 500 bytes. */
function nextBody(): string {
  return JSON.stringify(qrNotify(sequence++, KEY));
}

/** Keeps CONNECTIONS requests in flight for `seconds`; counts the answers by status. */
async function load(url: string, seconds: number, onTick?: (elapsed: number) => Promise<void>): Promise<{ seconds: number; ok: number; other: number }> {
  const pool = new Pool(url, { connections: CONNECTIONS, pipelining: 1 });
  const started = performance.now();
  const deadline = started + seconds * 1000;
  let ok = 0;
  let other = 0;
  const worker = async () => {
    while (performance.now() < deadline) {
      const { statusCode, body } = await pool.request({ path: '/notify', method: 'POST', body: nextBody(), headers: { 'content-type': 'application/json' } });
      await body.dump();
      if (statusCode === 200) ok += 1;
      else other += 1;
    }
  };
  let ticking = true;
  const ticks = (async () => {
    if (!onTick) return;
    for (let tick = 5; ticking && performance.now() + 5000 <= deadline + 1; tick += 5) {
      await new Promise((resolve) => setTimeout(resolve, started + tick * 1000 - performance.now()));
      await onTick(tick);
    }
  })();
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  ticking = false;
  await ticks;
  const elapsed = (performance.now() - started) / 1000;
  await pool.close();
  return { seconds: elapsed, ok, other };
}

async function bench(seconds: number, rounds: number, floodSeconds: number): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'kpgw-bench-notify-'));
  await chmod(dir, 0o755); // the embedded server runs as the postgres user when we are root
  const database = await benchDatabase(dir, createLogger({ level: 'warn' }));
  const count = async () => Number((await query<{ n: string }>(database.url, 'SELECT count(*) AS n FROM notifications'))[0]!.n);
  const floor = await startChild('floor');
  const receiver = await startChild('receiver', database.url);
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
  try {
    const out = (line: string) => process.stdout.write(`${line}\n`);
    out(`node ${process.version}, ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} at start; ${CONNECTIONS} connections, ${seconds} s per pass`);
    await load(floor.url, 1);
    await load(receiver.url, 1);
    for (let round = 1; round <= rounds; round++) {
      const floorCpu = (await floor.rss()).cpuMs;
      const f = await load(floor.url, seconds);
      const floorUs = (((await floor.rss()).cpuMs - floorCpu) * 1000) / f.ok;
      const before = await count();
      const receiverCpu = (await receiver.rss()).cpuMs;
      const r = await load(receiver.url, seconds);
      const stored = (await count()) - before;
      const receiverUs = (((await receiver.rss()).cpuMs - receiverCpu) * 1000) / stored;
      const floorRate = f.ok / f.seconds;
      const storedRate = stored / r.seconds;
      out(
        `round ${round}: floor ${floorRate.toFixed(0)} answered/s (${floorUs.toFixed(0)} µs CPU each) | receiver ${storedRate.toFixed(0)} stored/s (${receiverUs.toFixed(0)} µs CPU each; ${stored} stored, ${r.ok} answered 200, ${r.other} other) = ${(storedRate / floorRate).toFixed(2)}x the floor`,
      );
    }
    out(`peak RSS so far: floor ${mb((await floor.rss()).maxRss)}, receiver ${mb((await receiver.rss()).maxRss)}`);
    if (floodSeconds > 0) {
      const samples: string[] = [];
      const before = await count();
      const flood = await load(receiver.url, floodSeconds, async (t) => void samples.push(`${t}s ${mb((await receiver.rss()).rss)}`));
      const stored = (await count()) - before;
      out(`flood ${floodSeconds} s: ${(stored / flood.seconds).toFixed(0)} stored/s, ${stored} stored, ${flood.ok} answered 200, ${flood.other} other`);
      out(`receiver RSS every 5 s: ${samples.join(', ')}; peak ${mb((await receiver.rss()).maxRss)}`);
    }
    out(`load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} at the end`);
  } finally {
    floor.child.disconnect();
    receiver.child.disconnect();
    await new Promise((resolve) => receiver.child.once('exit', resolve));
    await database.close();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv.includes(SERVE)) {
  await serve(process.argv[process.argv.indexOf(SERVE) + 1] as 'floor' | 'receiver', process.argv[process.argv.indexOf(SERVE) + 2]);
} else {
  await bench(flag('--seconds', 10), flag('--rounds', 2), flag('--flood', 60));
}
