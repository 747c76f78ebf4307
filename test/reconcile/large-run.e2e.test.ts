import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, describe, it } from 'vitest';
import { money, sum } from '../../src/money.ts';
import { writeSample } from '../../src/sample/write-sample.ts';
import { startSimulator } from '../../src/simulator/index.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { runCli, type CliOptions } from '../helpers/cli.ts';
import { setTimeout as sleep } from 'node:timers/promises';

// The two tests run side by side (the slowest file of the suite): a database each.
const databases = { faults: await createTestDatabase(), kill: await createTestDatabase() };
const KEY = 'skey_test_large_run_secret';
const root = await mkdtemp(join(tmpdir(), 'kpgw-large-'));
afterAll(() => rm(root, { recursive: true, force: true }));

type Row = Record<string, string>;
const readCsv = async (dir: string, name: string) => parse(await readFile(join(dir, name), 'utf8'), { columns: true, bom: true }) as Row[];

/**
 * `timeoutMs`: short where the simulator hangs requests at random (a hung one must end for the
 * run to), and beyond any answer's time where it does not, so a busy machine cannot turn a slow
 * answer into an unverified charge in one run and not in another.
 */
async function cliRun(database: TestDatabase, sample: { ledger: string; plans: string; fees: string }, from: string, to: string, out: string, baseUrl: string, timeoutMs: number, onSpawn?: CliOptions['onSpawn']) {
  return runCli(['run', '--from', from, '--to', to, '--as-of', to, '--ledger', sample.ledger, '--plans', sample.plans, '--fees', sample.fees, '--out', out], {
    env: {
      DATABASE_URL: database.url,
      KPGW_BASE_URL: baseUrl,
      KPGW_SECRET_KEY: KEY,
      KPGW_RATE_LIMIT_RPS: '3000',
      KPGW_CONCURRENCY: '32',
      KPGW_MAX_RETRIES: '3',
      KPGW_TIMEOUT_MS: String(timeoutMs),
      LOG_LEVEL: 'warn',
    },
    onSpawn,
  });
}

describe.concurrent('a 10,000-charge run against the simulator', () => {
  it('ends every charge matched, mismatched with the right codes, or unverified, under random faults', async ({ expect }) => {
    const dir = join(root, 'faults');
    const database = databases.faults;
    const sample = await writeSample(dir, { from: '2026-03-01', days: 4, chargesPerDay: 2500, seed: 7 });
    const simulator = await startSimulator({
      secretKey: KEY,
      dataFile: sample.gateway,
      seed: 11,
      faults: { random: { http500: 0.03, http429: 0.02, malformed: 0.01, pending_state: 0.01, reset: 0.01, hang: 0.002 }, retryAfterSeconds: 0 },
    });
    try {
      const out = join(dir, 'out');
      const result = await cliRun(database, sample, '2026-03-01', '2026-03-04', out, simulator.url, 400);
      expect(result.code, result.stderr.slice(-2000)).toBe(1);
      const run = JSON.parse(await readFile(join(out, 'run.json'), 'utf8'));
      expect(run.counts.charges).toBe(10_000);
      expect(run.counts.matched + run.counts.mismatched + run.counts.unverified).toBe(10_000);
      expect(run.counts.rejected).toBe(3);
      expect(run.gateway.retries).toBeGreaterThan(0);

      const mismatches = await readCsv(out, 'mismatches.csv');
      const byEntry = new Map<string, string[]>();
      for (const m of mismatches) {
        const id = m.entry_id!.replace(/-(R\d+|V|DUP)$/, '');
        byEntry.set(id, [...(byEntry.get(id) ?? []), m.code!]);
      }
      let unverified = 0;
      for (const [entryId, expected] of sample.data.expected) {
        const got = (byEntry.get(entryId) ?? []).sort();
        if (got.includes('INQUIRY_FAILED')) {
          unverified += 1;
          // Unverified: no gateway-based finding, only what the ledger and plan report say.
          expect(got.filter((c) => c !== 'INQUIRY_FAILED').every((c) => c.startsWith('INSTALLMENT') || c === 'IPAN_MODE_MISMATCH' || c === 'DUPLICATE_IN_LEDGER'), entryId).toBe(true);
          continue;
        }
        expect(got, entryId).toEqual(expected);
      }
      expect(unverified).toBe(run.counts.unverified);

      // The summary tables hold exactly what the CSVs hold.
      const summary = await readCsv(out, 'summary.csv');
      const stored = await database.db.selectFrom('recon_daily_summary').selectAll().where('run_id', '=', run.run_id).execute();
      const total = (rows: Record<string, unknown>[], column: string) => sum(rows.map((r) => money(String(r[column])))).toFixed(2);
      for (const column of ['charges', 'matched', 'mismatched', 'unverified', 'gross_amount', 'settled_amount', 'mdr', 'vat', 'net_amount', 'refunded_amount']) {
        expect(total(stored, column), column).toBe(total(summary, column));
      }
      expect(Number(total(summary, 'charges'))).toBe(10_000);
      const storedMismatches = await database.db.selectFrom('recon_mismatches').select((eb) => eb.fn.countAll<number>().as('n')).where('run_id', '=', run.run_id).executeTakeFirstOrThrow();
      expect(storedMismatches.n).toBe(mismatches.length);
      const storedDifference = await database.db.selectFrom('recon_mismatches').select((eb) => eb.fn.sum<string>('difference').as('d')).where('run_id', '=', run.run_id).executeTakeFirstOrThrow();
      expect(money(storedDifference.d).toFixed(2)).toBe(total(mismatches.filter((m) => m.difference), 'difference'));
    } finally {
      await simulator.close();
    }
  });

  it('killed halfway and started again, gives the same outputs as an uninterrupted run, with fewer requests', async ({ expect }) => {
    const dir = join(root, 'kill');
    const database = databases.kill;
    const sample = await writeSample(dir, { from: '2026-04-01', days: 2, chargesPerDay: 5000, seed: 8 });
    const simulator = await startSimulator({ secretKey: KEY, dataFile: sample.gateway, faults: { latencyMs: 2 } });
    try {
      const killed = await cliRun(database, sample, '2026-04-01', '2026-04-02', join(dir, 'killed'), simulator.url, 60_000, (child) => {
        void (async () => {
          // Until the kill, or until the run ended without one (the test then fails on its signal).
          while (child.exitCode === null && child.signalCode === null) {
            const { n } = await database.db
              .selectFrom('gateway_inquiries')
              .innerJoin('recon_runs', 'recon_runs.run_id', 'gateway_inquiries.run_id')
              .select((eb) => eb.fn.countAll<number>().as('n'))
              .where('recon_runs.status', '=', 'running')
              .where('recon_runs.from_date', '=', '2026-04-01')
              .executeTakeFirstOrThrow();
            if (n >= 5000) return child.kill('SIGKILL');
            await sleep(20);
          }
        })();
      });
      expect(killed.signal).toBe('SIGKILL');
      const resumed = await cliRun(database, sample, '2026-04-01', '2026-04-02', join(dir, 'resumed'), simulator.url, 60_000);
      expect(resumed.code, resumed.stderr.slice(-2000)).toBe(1);
      const fresh = await cliRun(database, sample, '2026-04-01', '2026-04-02', join(dir, 'fresh'), simulator.url, 60_000);
      expect(fresh.code).toBe(1);

      // Counted by charge in the audit trail, not by HTTP request (retries under load vary): the
      // resumed run reused every answer stored before the kill and asked only for the rest.
      const runs = await database.db.selectFrom('recon_runs').select(['run_id', 'status']).where('from_date', '=', '2026-04-01').orderBy('started_at').execute();
      expect(runs.map((r) => r.status)).toEqual(['aborted', 'finished', 'finished']);
      const [killedRun, resumedRun, freshRun] = runs.map((r) => r.run_id);
      // One audit row per charge and run, whatever its outcome.
      const answers = (runId: string, outcomes = ['found', 'not_found', 'failed']) =>
        database.db
          .selectFrom('gateway_inquiries')
          .select(['fetched_by_run', (eb) => eb.fn.countAll<number>().as('n')])
          .where('run_id', '=', runId)
          .where('outcome', 'in', outcomes as ('found' | 'not_found' | 'failed')[])
          .groupBy('fetched_by_run')
          .execute();
      // Only definite answers are reused.
      const storedBeforeKill = (await answers(killedRun!, ['found', 'not_found'])).reduce((n, r) => n + r.n, 0);
      expect(storedBeforeKill).toBeGreaterThanOrEqual(5_000);
      const resumedAnswers = new Map((await answers(resumedRun!)).map((r) => [r.fetched_by_run, r.n]));
      expect(resumedAnswers.get(killedRun!)).toBe(storedBeforeKill);
      expect(resumedAnswers.get(resumedRun!)).toBe(10_000 - storedBeforeKill);
      expect(await answers(freshRun!)).toEqual([{ fetched_by_run: freshRun, n: 10_000 }]);

      // The same findings; the resumed run was the first to finish, so its are new, the fresh run's still open.
      const resumedFindings = await readCsv(join(dir, 'resumed'), 'mismatches.csv');
      const freshFindings = await readCsv(join(dir, 'fresh'), 'mismatches.csv');
      const withoutRun = (rows: Row[]) => rows.map(({ run_id: _, finding_state: __, ...rest }) => JSON.stringify(rest)).sort();
      expect(withoutRun(resumedFindings)).toEqual(withoutRun(freshFindings));
      expect(new Set(resumedFindings.map((r) => r.finding_state))).toEqual(new Set(['new']));
      expect(new Set(freshFindings.map((r) => r.finding_state))).toEqual(new Set(['still_open']));
      expect(await readFile(join(dir, 'resumed', 'summary.csv'), 'utf8')).toBe(await readFile(join(dir, 'fresh', 'summary.csv'), 'utf8'));

      // Results belong to the two finished runs only; the killed one left none.
      const summaryRuns = await database.db.selectFrom('recon_daily_summary').select('run_id').distinct().where('run_id', 'in', [killedRun!, resumedRun!, freshRun!]).execute();
      expect(summaryRuns.map((r) => r.run_id).sort()).toEqual([resumedRun, freshRun].sort());
    } finally {
      await simulator.close();
    }
  });
});
