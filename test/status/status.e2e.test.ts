import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCharge } from '../../src/sample/charge-builder.ts';
import { ledgerCsv } from '../../src/sample/sample-files.ts';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { humanLines, runCli } from '../helpers/cli.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

/** `status`: did the nightly run? Exit codes, the lines it prints, and its Prometheus file. */
const KEY = 'skey_test_status_0123456789';
const D = '2026-08-03';
let simulator: Simulator;
let dir: string;

// Three settled card charges; KBank charged the third one baht more than the ledger booked.
const charges = [1, 2, 3].map((i) => buildCharge({ key: `st${i}`, date: D, amount: `${i}00.00` }));
charges[2]!.gateway.amount = '301.0000';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kpgw-status-'));
  await writeFile(join(dir, 'ledger.csv'), ledgerCsv(charges.flatMap((c) => c.ledger)));
  simulator = await startSimulator({ secretKey: KEY, charges: charges.map((c) => c.gateway), today: D });
});
afterAll(async () => {
  await simulator?.close();
  await rm(dir, { recursive: true, force: true });
});

const env = (database: TestDatabase, extra: Record<string, string> = {}) => ({ DATABASE_URL: database.url, LOG_LEVEL: 'warn', RECON_TZ: 'Asia/Bangkok', ...extra });
const run = (database: TestDatabase, extra: Record<string, string> = {}) =>
  runCli(['run', '--from', D, '--as-of', '2026-08-04', '--ledger', join(dir, 'ledger.csv'), '--out', join(dir, `out-${Math.random()}`)], {
    env: { ...env(database, extra), KPGW_BASE_URL: simulator.url, KPGW_SECRET_KEY: KEY, KPGW_RATE_LIMIT_RPS: '1000' },
  });
const status = (database: TestDatabase, args: string[] = [], extra: Record<string, string> = {}) => runCli(['status', ...args], { env: env(database, extra) });

interface Sample {
  value: string;
  labels?: Record<string, string>;
}
/** The file as Prometheus would read it: a real parser of the text format, one sample list per metric name. */
async function scrape(file: string): Promise<Map<string, Sample[]>> {
  const families = parsePrometheusTextFormat(await readFile(file, 'utf8')) as { name: string; type: string; metrics: Sample[] }[];
  for (const family of families) expect(family.type, family.name).toBe('GAUGE');
  return new Map(families.map((f) => [f.name, f.metrics]));
}
const valueOf = (metrics: Map<string, Sample[]>, name: string, labels: Record<string, string>) =>
  metrics.get(name)?.find((m) => Object.entries(labels).every(([k, v]) => (m.labels?.[k] ?? '') === v))?.value;

describe('status of a single merchant', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });

  it('exits 1 when no run has finished yet, saying so', async () => {
    const result = await status(database);
    expect(result.code).toBe(1);
    expect(result.stdout.split('\n')).toEqual([
      'the single merchant: no finished run  LATE (more than 26 hours)',
      '1 of 1 merchant without a finished run in the last 26 hours: the single merchant',
      '',
    ]);
  });

  it('exits 0 after a run, with its dates, exit code, findings and open items, and writes the same for Prometheus', async () => {
    const ran = await run(database);
    expect(ran.code, ran.stderr).toBe(1);
    const prom = join(dir, 'single.prom');
    const result = await status(database, ['--prometheus', prom]);
    expect(result.code, result.stderr).toBe(0);
    const { rows: [last] } = await sql<{ finished_at: Date }>`SELECT finished_at FROM recon_runs WHERE status = 'finished'`.execute(database.db);
    // One error: AMOUNT_MISMATCH on st3 (301.00 charged, 300.00 booked); no warning. Open items:
    // that finding, nothing else (every charge settled with its fees).
    expect(result.stdout).toMatch(
      /^the single merchant: run 2026-08-03, as of 2026-08-04: exit 1, findings 1 \(1 error\), open items 1; finished \d{4}-\d\d-\d\d \d\d:\d\d \(Asia\/Bangkok\), \d+\.\d hours ago\n/,
    );
    expect(result.stdout.split('\n')[1]).toBe("every merchant's last run finished within 26 hours");

    const metrics = await scrape(prom);
    const single = { merchant: '' };
    expect(Number(valueOf(metrics, 'kpgw_recon_last_run_finished_timestamp_seconds', single))).toBe(last!.finished_at.getTime() / 1000);
    expect(valueOf(metrics, 'kpgw_recon_last_run_overdue', single)).toBe('0');
    expect(valueOf(metrics, 'kpgw_recon_last_run_exit_code', single)).toBe('1');
    expect(valueOf(metrics, 'kpgw_recon_last_run_findings', { merchant: '', severity: 'error' })).toBe('1');
    expect(valueOf(metrics, 'kpgw_recon_last_run_findings', { merchant: '', severity: 'warning' })).toBe('0');
    expect(valueOf(metrics, 'kpgw_recon_open_items', { merchant: '', kind: 'finding' })).toBe('1');
    expect(valueOf(metrics, 'kpgw_recon_open_items', { merchant: '', kind: 'open_charge' })).toBe('0');
    expect(metrics.get('kpgw_recon_last_run_info')).toEqual([
      { value: '1', labels: { merchant: '', run_id: expect.any(String), kind: 'run', from: D, to: D, as_of: '2026-08-04' } },
    ]);
    expect(valueOf(metrics, 'kpgw_recon_status_max_age_hours', {})).toBe('26');
    // Renamed into place: nothing but the file is left in its folder.
    expect((await readdir(dir)).filter((name) => name.startsWith('single.prom'))).toEqual(['single.prom']);
  });

  it('exits 1 once the last finished run is older than --max-age-hours (26 by default)', async () => {
    await sql`UPDATE recon_runs SET finished_at = finished_at - interval '27 hours'`.execute(database.db);
    const prom = join(dir, 'late.prom');
    const late = await status(database, ['--prometheus', prom]);
    expect(late.code).toBe(1);
    expect(late.stdout).toMatch(/, \d+\.\d hours ago {2}LATE \(more than 26 hours\)\n1 of 1 merchant without a finished run in the last 26 hours: the single merchant\n$/);
    expect(valueOf(await scrape(prom), 'kpgw_recon_last_run_overdue', { merchant: '' })).toBe('1');
    expect((await status(database, ['--max-age-hours', '28'])).code).toBe(0);
  });

  it('exits 2 on a bad --max-age-hours, with one line', async () => {
    const result = await status(database, ['--max-age-hours', '0']);
    expect(result.code).toBe(2);
    expect(humanLines(result.stderr)).toEqual(["kpgw-recon: status: --max-age-hours must be a whole number from 1 to 8784, got '0'"]);
  });
});

describe('status of the merchants of a merchants file', () => {
  let database: TestDatabase;
  let merchantsFile: string;
  beforeAll(async () => {
    database = await createTestDatabase();
    merchantsFile = join(dir, 'merchants.json');
    await writeFile(merchantsFile, JSON.stringify({ merchants: ['M1', 'M2'].map((mid) => ({ mid, key_env: 'KPGW_SECRET_KEY', inbox: join(dir, mid) })) }));
  });

  it('exits 1 naming the merchant whose nightly never ran, and shows it in Prometheus as never finished', async () => {
    expect((await run(database, { RECON_MERCHANTS: merchantsFile, RECON_MERCHANT: 'M1' })).code).toBe(1);
    const prom = join(dir, 'merchants.prom');
    const result = await status(database, ['--prometheus', prom], { RECON_MERCHANTS: merchantsFile });
    expect(result.code).toBe(1);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^M1: run 2026-08-03, as of 2026-08-04: exit 1, findings 1 \(1 error\), open items 1; finished .*hours ago$/);
    expect(lines.slice(1)).toEqual(['M2: no finished run  LATE (more than 26 hours)', '1 of 2 merchants without a finished run in the last 26 hours: M2']);

    const metrics = await scrape(prom);
    expect(valueOf(metrics, 'kpgw_recon_last_run_finished_timestamp_seconds', { merchant: 'M2' })).toBe('0');
    expect(valueOf(metrics, 'kpgw_recon_last_run_overdue', { merchant: 'M2' })).toBe('1');
    expect(valueOf(metrics, 'kpgw_recon_last_run_overdue', { merchant: 'M1' })).toBe('0');
    expect(valueOf(metrics, 'kpgw_recon_last_run_exit_code', { merchant: 'M2' })).toBeUndefined();
    // status made no schema for M2: only its first night does.
    const { rows } = await sql<{ name: string }>`SELECT nspname AS name FROM pg_namespace WHERE nspname LIKE 'kpgw%' ORDER BY 1`.execute(database.db);
    expect(rows.map((r) => r.name)).toEqual(['kpgw_m1']);
  });

  it('looks at RECON_MERCHANT alone when it is set, and refuses one the file does not list', async () => {
    expect((await status(database, [], { RECON_MERCHANTS: merchantsFile, RECON_MERCHANT: 'M1' })).code).toBe(0);
    const typo = await status(database, [], { RECON_MERCHANTS: merchantsFile, RECON_MERCHANT: 'M3' });
    expect(typo.code).toBe(2);
    expect(humanLines(typo.stderr)).toEqual([`kpgw-recon: RECON_MERCHANT M3 is not in the merchants file ${merchantsFile} (its merchants: M1, M2)`]);
  });
});
