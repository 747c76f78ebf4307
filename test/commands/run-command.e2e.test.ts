import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCharge } from '../../src/sample/charge-builder.ts';
import { ledgerCsv } from '../../src/sample/sample-files.ts';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { humanLines, runCli, type CliOptions } from '../helpers/cli.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { until } from '../helpers/wait.ts';

const database = await createTestDatabase();
const KEY = 'skey_test_Zq8fW1vN5rT7yU3iO9pA';
let simulator: Simulator;
let dir: string;
const charges = Array.from({ length: 40 }, (_, i) => buildCharge({ key: `cli-${i}`, date: '2026-07-01', amount: `${100 + i}.00` }));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kpgw-cli-'));
  await writeFile(join(dir, 'ledger.csv'), ledgerCsv(charges.flatMap((c) => c.ledger)));
  simulator = await startSimulator({ secretKey: KEY, charges: charges.map((c) => c.gateway) });
});
afterAll(async () => {
  await simulator?.close();
  await rm(dir, { recursive: true, force: true });
});

const env = (over: Record<string, string | undefined> = {}) => ({
  DATABASE_URL: database.url,
  KPGW_BASE_URL: simulator.url,
  KPGW_SECRET_KEY: KEY,
  KPGW_RATE_LIMIT_RPS: '500',
  RECON_REPORTS_DIR: join(dir, 'reports'),
  LOG_LEVEL: 'debug',
  ...over,
});
const run = (args: string[] = [], over: Record<string, string | undefined> = {}, onSpawn?: CliOptions['onSpawn']) =>
  runCli(['run', '--from', '2026-07-01', '--ledger', join(dir, 'ledger.csv'), ...args], { env: env(over), onSpawn });

describe('kpgw-recon run', () => {
  it('exits 0 on a clean ledger and never lets the secret key out: not in logs, reports or the database', async () => {
    const out = join(dir, 'clean');
    const result = await run(['--out', out]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/charges\s+40\s+matched 40/);
    // The page to open is the last line.
    expect(result.stdout.trimEnd().split('\n').at(-1)).toBe(`report: ${join(out, 'report.html')}`);
    const logs = result.stderr.split('\n').filter(Boolean);
    expect(logs.length).toBeGreaterThan(10);
    for (const line of logs) expect(JSON.parse(line).runId, line).toMatch(/^[0-9a-f-]{36}$/);
    const everything = [result.stdout, result.stderr];
    for (const file of await readdir(out)) everything.push(await readFile(join(out, file), 'utf8'));
    const { rows } = await sql<{ dump: string }>`
      SELECT concat_ws(' ', (SELECT string_agg(t::text, ' ') FROM gateway_inquiries t), (SELECT string_agg(r::text, ' ') FROM recon_runs r),
                       (SELECT string_agg(m::text, ' ') FROM recon_mismatches m)) AS dump`.execute(database.db);
    everything.push(rows[0]!.dump);
    expect(everything.join('\n')).toContain('chrg_test_cli-0'); // the dump is real…
    for (const text of everything) expect(text).not.toContain(KEY); // …and holds no key
  });

  it('exits 2 with one line when the secret key is missing', async () => {
    const result = await run([], { KPGW_SECRET_KEY: undefined });
    expect(result.code).toBe(2);
    expect(humanLines(result.stderr)).toEqual(['kpgw-recon: KPGW_SECRET_KEY is not set (the merchant secret key, skey_…)']);
  });

  it('exits 2 with one line naming the file and the missing columns', async () => {
    const bad = join(dir, 'bad.csv');
    await writeFile(bad, 'entry_id,amount\nE1,10.00\n');
    const result = await runCli(['run', '--from', '2026-07-01', '--ledger', bad], { env: env() });
    expect(result.code).toBe(2);
    const lines = humanLines(result.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/bad\.csv/);
    expect(lines[0]).toMatch(/entry_type/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 2 on a bad date flag', async () => {
    const result = await runCli(['run', '--from', '2026-02-30', '--ledger', 'x'], { env: env() });
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe("kpgw-recon: run: --from '2026-02-30' is not a date (YYYY-MM-DD)");
  });

  it('aborts with exit 3 on authentication_failure after the first answer, without the key in the message', async () => {
    const before = simulator.stats().total;
    const result = await run([], { KPGW_SECRET_KEY: 'skey_test_wrong_key_abcdef', KPGW_CONCURRENCY: '1' });
    expect(result.code).toBe(3);
    expect(humanLines(result.stderr)).toEqual(['kpgw-recon: K-Payment Gateway refused the secret key (authentication_failure); check KPGW_SECRET_KEY']);
    expect(result.stderr).not.toContain('skey_test_wrong_key_abcdef');
    expect(simulator.stats().total - before).toBe(1);
    const last = await database.db.selectFrom('recon_runs').select(['status', 'abort_reason']).orderBy('started_at', 'desc').executeTakeFirstOrThrow();
    expect(last).toMatchObject({ status: 'aborted' });
  });

  it('interrupted with SIGINT: exit 3, recorded aborted, no partial results; the same command then completes', async () => {
    // Every answer hangs, so the run is certainly still in its inquiry stage when the signal comes.
    simulator.setFaults({ random: { hang: 1 } });
    simulator.resetStats();
    try {
      const interrupted = await run([], { KPGW_TIMEOUT_MS: '120000' }, (child) => {
        // Once asked (or, should it fail before, once it has ended: nothing to interrupt then).
        void until(() => simulator.stats().total > 0 || child.exitCode !== null).then(() => child.kill('SIGINT'));
      });
      expect(interrupted.code).toBe(3);
      expect(humanLines(interrupted.stderr)).toEqual(['kpgw-recon: interrupted by SIGINT']);
      const aborted = await database.db.selectFrom('recon_runs').select(['run_id', 'status']).orderBy('started_at', 'desc').executeTakeFirstOrThrow();
      expect(aborted.status).toBe('aborted');
      const partial = await database.db.selectFrom('recon_daily_summary').select('run_id').where('run_id', '=', aborted.run_id).execute();
      expect(partial).toEqual([]);
    } finally {
      simulator.setFaults({});
    }
    const again = await run();
    expect(again.code, again.stderr.slice(-500)).toBe(0);
  });

  it('refuses a second run while one is in progress, naming it (exit 3)', async () => {
    simulator.setFaults({ random: { hang: 1 } });
    simulator.resetStats();
    try {
      let second: Awaited<ReturnType<typeof runCli>> | undefined;
      let runningId = '';
      const first = await run([], { KPGW_TIMEOUT_MS: '120000' }, (child) => {
        void (async () => {
          // The first run is inquiring (and cannot finish: every answer hangs) when the second starts.
          await until(() => simulator.stats().total > 0 || child.exitCode !== null);
          const running = await database.db.selectFrom('recon_runs').select('run_id').where('status', '=', 'running').executeTakeFirstOrThrow();
          runningId = running.run_id;
          second = await run();
          child.kill('SIGTERM');
        })();
      });
      expect(second?.code).toBe(3);
      expect(humanLines(second!.stderr)[0]).toMatch(new RegExp(`^kpgw-recon: run ${runningId} \\(run 2026-07-01\\.\\.2026-07-01, pid \\d+ on .*\\) is in progress`));
      expect(first.code).toBe(3);
      expect(humanLines(first.stderr)).toEqual(['kpgw-recon: interrupted by SIGTERM']);
    } finally {
      simulator.setFaults({});
    }
  });

  it('exits 1 when rows were rejected, even if every charge matched', async () => {
    const withBad = join(dir, 'with-bad.csv');
    await writeFile(withBad, `${ledgerCsv(charges.slice(0, 3).flatMap((c) => c.ledger))}E-bad,charge,ORD-x,,,2026-07-01,,card,THB,"12,34.5",,,,,,,,,,,\n`);
    const result = await runCli(['run', '--from', '2026-07-01', '--ledger', withBad, '--out', join(dir, 'rejected')], { env: env() });
    expect(result.code).toBe(1);
    const rejected = await readFile(join(dir, 'rejected', 'rejected.csv'), 'utf8');
    expect(rejected).toMatch(/with-bad\.csv,5,E-bad,/);
  });
});
