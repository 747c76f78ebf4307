import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { yesterdayIn } from '../../src/dates.ts';
import { buildCharge } from '../../src/sample/charge-builder.ts';
import { ledgerCsv } from '../../src/sample/sample-files.ts';
import { writeSample } from '../../src/sample/write-sample.ts';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { ROOT, runCli, runCliInProcess } from '../helpers/cli.ts';
import { createTestDatabase } from '../helpers/database.ts';

const database = await createTestDatabase();
const KEY = 'skey_test_jobs_secret_value';
let simulator: Simulator;
let inbox: string;
const DAYS = ['2026-06-01', '2026-06-02', '2026-06-03'];

beforeAll(async () => {
  inbox = await mkdtemp(join(tmpdir(), 'kpgw-inbox-'));
  const sample = await writeSample(inbox, { from: DAYS[0]!, days: 3, chargesPerDay: 150, seed: 5, badRows: false });
  // A charge whose reference is Thai and one whose reference a spreadsheet would run as a formula.
  const thai = buildCharge({ key: 'thai', date: DAYS[0]!, amount: '1500.00' });
  const formula = buildCharge({ key: 'formula', date: DAYS[0]!, amount: '20.00' });
  thai.ledger[0]!.reference_order = 'คำสั่งซื้อ-๑๒๓';
  thai.gateway.reference_order = 'คำสั่งซื้อ-๑๒๓';
  formula.ledger[0]!.reference_order = '=HYPERLINK("http://evil","x")';
  formula.gateway.reference_order = '=HYPERLINK("http://evil","x")';
  await writeFile(join(inbox, 'ledger', 'extra.csv'), ledgerCsv([...thai.ledger, ...formula.ledger]));
  simulator = await startSimulator({ secretKey: KEY, dataFile: sample.gateway, charges: [thai.gateway, formula.gateway] });
});
afterAll(async () => {
  await simulator?.close();
  await rm(inbox, { recursive: true, force: true });
});

const env = () => ({
  DATABASE_URL: database.url,
  KPGW_BASE_URL: simulator.url,
  KPGW_SECRET_KEY: KEY,
  KPGW_RATE_LIMIT_RPS: '1000',
  KPGW_CONCURRENCY: '16',
  RECON_INBOX: inbox,
  RECON_REPORTS_DIR: join(inbox, 'reports'),
  LOG_LEVEL: 'warn',
});

const finishedRuns = (date: string) =>
  database.db.selectFrom('recon_runs').select(['run_id', 'kind', 'finished_at']).where('status', '=', 'finished').where('from_date', '<=', date).where('to_date', '>=', date).orderBy('finished_at').execute();

describe('nightly', () => {
  it('takes "yesterday" in RECON_TZ, not in the machine’s zone', () => {
    // 00:30 on 29 November in Bangkok is still the 28th in UTC.
    expect(yesterdayIn('Asia/Bangkok', new Date('2026-11-28T17:30:00Z'))).toBe('2026-11-28');
    expect(yesterdayIn('UTC', new Date('2026-11-28T17:30:00Z'))).toBe('2026-11-27');
  });

  it('run twice for the same night leaves one newer finished run and no duplicate rows', async () => {
    const first = await runCli(['nightly', '--date', DAYS[0]!], { env: env() });
    // The sample plants error-severity findings on every day.
    expect(first.code, first.stderr).toBe(1);
    const rowsAfterFirst = await database.db.selectFrom('ledger_entries').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const second = await runCli(['nightly', '--date', DAYS[0]!], { env: env() });
    expect(second.code).toBe(first.code);
    const rowsAfterSecond = await database.db.selectFrom('ledger_entries').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(rowsAfterSecond.n).toBe(rowsAfterFirst.n);

    const runs = await finishedRuns(DAYS[0]!);
    expect(runs.map((r) => r.kind)).toEqual(['nightly', 'nightly']);
    const [older, newer] = runs;
    expect(newer!.finished_at!.getTime()).toBeGreaterThan(older!.finished_at!.getTime());
    const perRun = await database.db
      .selectFrom('recon_charge_results')
      .select(['run_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('transaction_date', '=', DAYS[0]!)
      .groupBy('run_id')
      .execute();
    expect(perRun.map((r) => r.n)).toEqual([152, 152]);
    expect(second.stdout).toMatch(/charges\s+152/);
  });

  it('exits 2 with one line when the inbox has no ledger', async () => {
    const result = await runCli(['nightly'], { env: { ...env(), RECON_INBOX: join(inbox, 'nowhere') } });
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toMatch(/^kpgw-recon: nightly: no ledger files in .*nowhere/);
  });
});

describe('rerun and export', () => {
  it('rerun over three days gives each day a newer finished run, and export reads those back', async () => {
    const run = await runCli(['run', '--from', DAYS[0]!, '--to', DAYS[2]!, '--ledger', join(inbox, 'ledger'), '--fees', join(inbox, 'fees.json')], { env: env() });
    expect(run.code, run.stderr).toBe(1);
    const before = await Promise.all(DAYS.map(finishedRuns));

    const rerun = await runCli(['rerun', '--from', DAYS[0]!, '--to', DAYS[2]!], { env: env() });
    expect(rerun.code, rerun.stderr).toBe(1);
    const after = await Promise.all(DAYS.map(finishedRuns));
    const newest = after.map((runs) => runs.at(-1)!);
    expect(newest.map((r) => r.kind)).toEqual(['rerun', 'rerun', 'rerun']);
    expect(new Set(newest.map((r) => r.run_id)).size).toBe(3);
    newest.forEach((r, i) => expect(r.finished_at!.getTime()).toBeGreaterThan(before[i]!.at(-1)!.finished_at!.getTime()));

    const out = join(inbox, 'export.csv');
    const exported = await runCli(['export', '--from', DAYS[0]!, '--to', DAYS[2]!, '--out', out], { env: env() });
    expect(exported.code, exported.stderr).toBe(0);
    const bytes = await readFile(out);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const rows = parse(bytes, { columns: true, bom: true }) as Record<string, string>[];
    expect(Object.keys(rows[0]!)).toEqual([
      'transaction_date', 'reference_order', 'charge_id', 'source_type', 'brand', 'currency', 'amount',
      'settled_amount', 'mdr', 'vat', 'net_amount', 'refunded_amount', 'status', 'codes',
      'approval_code', 'ref_1', 'ref_2', 'ref_3', 'convfee_amount', 'convfee_vat', 'open',
      'transaction_state', 'mid', 'card_masking',
    ]);
    // v3: one row per ledger charge; the sample's orphan refund (its charge row removed) books no
    // charge, so of the runs' 452 cases 451 are charges of the ledger.
    expect(rows).toHaveLength(451);
    expect(rows.find((r) => r.reference_order === 'คำสั่งซื้อ-๑๒๓')).toMatchObject({ amount: '1500.00', status: 'MATCHED' });
    expect(rows.find((r) => r.charge_id === 'chrg_test_formula')!.reference_order).toBe(`'=HYPERLINK("http://evil","x")`);
    for (const row of rows) {
      expect(row.amount).toMatch(/^\d+\.\d{2}$/);
      for (const column of ['settled_amount', 'mdr', 'vat', 'net_amount']) expect(row[column]).toMatch(/^(\d+\.\d+)?$/);
      expect(['MATCHED', 'MISMATCH', 'UNVERIFIED', 'PENDING']).toContain(row.status);
    }
    expect(rows.some((r) => r.status === 'MISMATCH' && r.codes!.length > 0)).toBe(true);
    // Every exported row comes from the newest run of its date.
    const newestRun = new Map(DAYS.map((d, i) => [d, newest[i]!.run_id]));
    const stored = await database.db.selectFrom('recon_charge_results').select(['run_id', 'transaction_date']).where('run_id', 'in', [...newestRun.values()]).execute();
    expect(stored).toHaveLength(452);
  });

  it('rerun skips the days with no ledger rows, saying so, and refuses a range with none at all', async () => {
    const runs = async () => (await database.db.selectFrom('recon_runs').select('run_id').execute()).length;
    const before = await runs();
    const nothing = await runCli(['rerun', '--from', '2024-01-01', '--to', '2025-12-31'], { env: env() });
    expect(nothing.code, nothing.stderr).toBe(2);
    expect(nothing.stderr.trim().split('\n').filter((l) => !l.startsWith('{'))).toEqual([
      "kpgw-recon: rerun: no ledger rows are stored for 2024-01-01..2025-12-31; nothing to reconcile again (ingest the ledger with 'run' first)",
    ]);
    expect(await runs()).toBe(before);

    const partly = await runCli(['rerun', '--from', '2026-05-30', '--to', DAYS[0]!], { env: env() });
    expect(partly.code, partly.stderr).toBe(1);
    expect(partly.stdout).toContain('rerun: 2 days without ledger rows skipped: 2026-05-30 to 2026-05-31\n');
    expect(await runs()).toBe(before + 1);
  });
});

describe('every job documents its flags and environment', () => {
  for (const job of ['run', 'nightly', 'rerun', 'export', 'demo', 'generate', 'simulator']) {
    it(`${job} --help`, async () => {
      const help = await runCliInProcess([job, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/Flags:/);
      expect(help.stdout).toMatch(/Environment:|KPGW_SECRET_KEY|DATABASE_URL/);
    });
  }
});

describe('jobs/ are the commands as scripts of their own', () => {
  it.each(['nightly', 'rerun', 'export', 'demo'])('jobs/%s.ts runs the command of its name, with its flags', async (job) => {
    // The compiled entry point, as cron would run it once built.
    const script = await promisify(execFile)(process.execPath, [join(ROOT, 'dist', 'jobs', `${job}.js`), '--help']);
    expect(script.stdout).toBe((await runCliInProcess([job, '--help'])).stdout);
    expect(script.stdout).toMatch(new RegExp(`^Usage: kpgw-recon ${job} `));
  });
});
