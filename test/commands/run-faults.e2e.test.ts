import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCharge } from '../../src/sample/charge-builder.ts';
import { ledgerCsv } from '../../src/sample/sample-files.ts';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { humanLines, runCli, type CliOptions } from '../helpers/cli.ts';
import { createTestDatabase } from '../helpers/database.ts';

const database = await createTestDatabase();
/** Each test starts the real CLI once or twice; on a loaded machine that takes its time. */
const CLI_TIMEOUT_MS = 240_000;
const KEY = 'skey_test_faults_0123456789abc';
let simulator: Simulator;
let dir: string;
const charges = Array.from({ length: 30 }, (_, i) => buildCharge({ key: `fault-${i}`, date: '2026-08-01', amount: `${200 + i}.00` }));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kpgw-faults-'));
  await writeFile(join(dir, 'ledger.csv'), ledgerCsv(charges.flatMap((c) => c.ledger)));
  simulator = await startSimulator({ secretKey: KEY, charges: charges.map((c) => c.gateway) });
});
afterAll(async () => {
  await simulator?.close();
  await rm(dir, { recursive: true, force: true });
});

const run = (args: string[], onSpawn?: CliOptions['onSpawn'], extraEnv: Record<string, string> = {}) =>
  runCli(['run', '--from', '2026-08-01', '--ledger', join(dir, 'ledger.csv'), ...args], {
    env: {
      ...extraEnv,
      DATABASE_URL: database.url,
      KPGW_BASE_URL: simulator.url,
      KPGW_SECRET_KEY: KEY,
      KPGW_RATE_LIMIT_RPS: '10',
      KPGW_CONCURRENCY: '2',
      RECON_REPORTS_DIR: join(dir, 'reports'),
    },
    onSpawn,
  });

const latestRun = () =>
  database.db.selectFrom('recon_runs').select(['run_id', 'status', 'abort_reason', 'exit_code']).orderBy('started_at', 'desc').executeTakeFirstOrThrow();

async function until(what: string, ready: () => Promise<boolean> | boolean): Promise<void> {
  for (let i = 0; i < 3600; i += 1) {
    if (await ready()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting until ${what}`);
}

describe('faults during a run', () => {
  it('a lost lock connection aborts the run: exit 3, one line, recorded aborted', async () => {
    simulator.setFaults({ latencyMs: 400 });
    const before = simulator.stats().total;
    let terminated = 0;
    try {
      const result = await run([], (child) => {
        void (async () => {
          await until('the inquiry stage has begun', () => simulator.stats().total > before);
          const { rows } = await sql<{ killed: boolean }>`
            SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
            WHERE application_name = 'kpgw-recon run lock' AND datname = current_database()`.execute(database.db);
          terminated = rows.filter((r) => r.killed).length;
          if (!terminated) child.kill('SIGKILL');
        })();
      });
      expect(terminated).toBe(1);
      expect(result.code, result.stderr.slice(-2000)).toBe(3);
      expect(humanLines(result.stderr)).toEqual([expect.stringMatching(/^kpgw-recon: the run lost its lock \(.*\) and stopped/)]);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(await latestRun()).toMatchObject({ status: 'aborted', exit_code: 3, abort_reason: expect.stringMatching(/lost its lock/) });
    } finally {
      simulator.setFaults({});
    }
  }, CLI_TIMEOUT_MS);

  it('an uncaught exception during a run: exit 3, one line, the run recorded aborted', async () => {
    // A bug escaping every await, planted with Node's own --import: SIGUSR2 throws from a handler.
    const bug = join(dir, 'bug.mjs');
    await writeFile(bug, "process.on('SIGUSR2', () => { throw new Error('boom from an event handler'); });\n");
    simulator.setFaults({ latencyMs: 400 });
    const before = simulator.stats().total;
    try {
      const result = await run(
        [],
        (child) => {
          void until('the inquiry stage has begun', () => simulator.stats().total > before).then(() => child.kill('SIGUSR2'));
        },
        { NODE_OPTIONS: `--import ${bug}` },
      );
      expect(result.code, result.stderr.slice(-2000)).toBe(3);
      expect(humanLines(result.stderr)).toEqual(['kpgw-recon: internal error: boom from an event handler']);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(await latestRun()).toMatchObject({ status: 'aborted', exit_code: 3, abort_reason: 'boom from an event handler' });
    } finally {
      simulator.setFaults({});
    }
  }, CLI_TIMEOUT_MS);

  it('SIGTERM ends a run stuck on the database within seconds, exit 3 with one line', async () => {
    const blocker = new pg.Client({ connectionString: database.url });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE recon_runs IN ACCESS EXCLUSIVE MODE');
      const result = await run([], (child) => {
        void (async () => {
          await until('the run waits for recon_runs', async () => {
            const { rows } = await sql<{ waiting: number }>`
              SELECT count(*)::int AS waiting FROM pg_locks l JOIN pg_database d ON d.oid = l.database
              WHERE NOT l.granted AND d.datname = current_database() AND l.relation = 'recon_runs'::regclass`.execute(database.db);
            return rows[0]!.waiting > 0;
          });
          child.kill('SIGTERM');
        })();
      });
      expect(result.code).toBe(3);
      expect(humanLines(result.stderr)).toEqual(['kpgw-recon: interrupted by SIGTERM']);
    } finally {
      await blocker.query('ROLLBACK');
      await blocker.end();
    }
  }, CLI_TIMEOUT_MS);

  it('a run whose results cannot be stored leaves no report files; the next one publishes all of them', async () => {
    const out = join(dir, 'existing-out');
    await mkdir(out);
    await writeFile(join(out, 'notes.txt'), 'kept\n');
    await sql`CREATE FUNCTION refuse_summary() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$`.execute(database.db);
    await sql`CREATE TRIGGER refuse_summary BEFORE INSERT ON recon_daily_summary FOR EACH ROW EXECUTE FUNCTION refuse_summary()`.execute(database.db);
    let failed;
    try {
      failed = await run(['--out', out]);
    } finally {
      await sql`DROP TRIGGER refuse_summary ON recon_daily_summary`.execute(database.db);
      await sql`DROP FUNCTION refuse_summary()`.execute(database.db);
    }
    expect(failed.code).toBe(3);
    expect(humanLines(failed.stderr)).toEqual([expect.stringMatching(/^kpgw-recon: internal error: disk full/)]);
    expect(await readdir(out)).toEqual(['notes.txt']);
    expect((await readdir(dir)).filter((name) => name.includes('staging'))).toEqual([]);
    expect(await latestRun()).toMatchObject({ status: 'aborted' });

    const again = await run(['--out', out]);
    expect(again.code, again.stderr.slice(-2000)).toBe(0);
    expect((await readdir(out)).sort()).toEqual(['mismatches.csv', 'notes.txt', 'open-items.csv', 'rejected.csv', 'report.html', 'resolved.csv', 'run.json', 'summary.csv']);
    expect((await readdir(dir)).filter((name) => name.includes('staging'))).toEqual([]);
  }, CLI_TIMEOUT_MS);
});
