import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { urlForMerchant } from '../../src/db/merchant.ts';
import { buildCharge } from '../../src/sample/charge-builder.ts';
import { ledgerCsv } from '../../src/sample/sample-files.ts';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { humanLines, runCli } from '../helpers/cli.ts';
import { createTestDatabase } from '../helpers/database.ts';

/** docs/reference.md §5.7: several merchants on one PostgreSQL, each in a schema of its own. */
const database = await createTestDatabase();
const KEY = 'skey_test_merchants_0123456789';
const D = '2026-08-01';
let simulator: Simulator;
let dir: string;

const charges = [1, 2, 3].map((i) => buildCharge({ key: `m${i}`, date: D, amount: `${i}00.00` }));

/** The merchants file: SHOP-C is a merchant no night has run for yet. */
const MERCHANTS = ['SHOP-A', 'shop_b', 'SHOP-C'];
let merchantsFile: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kpgw-merchants-'));
  await writeFile(join(dir, 'ledger.csv'), ledgerCsv(charges.flatMap((c) => c.ledger)));
  merchantsFile = join(dir, 'merchants.json');
  await writeFile(merchantsFile, JSON.stringify({ merchants: MERCHANTS.map((mid) => ({ mid, key_env: 'KPGW_SECRET_KEY', inbox: join(dir, mid) })) }));
  simulator = await startSimulator({ secretKey: KEY, charges: charges.map((c) => c.gateway), today: D });
});
afterAll(async () => {
  await simulator?.close();
  await rm(dir, { recursive: true, force: true });
});

const run = (merchant: string, env: Record<string, string | undefined> = { RECON_MERCHANTS: merchantsFile }) =>
  runCli(['run', '--from', D, '--ledger', join(dir, 'ledger.csv'), '--out', join(dir, `out-${merchant}`)], {
    env: { DATABASE_URL: database.url, KPGW_BASE_URL: simulator.url, KPGW_SECRET_KEY: KEY, KPGW_RATE_LIMIT_RPS: '1000', RECON_MERCHANT: merchant, LOG_LEVEL: 'warn', ...env },
  });

/** `open-items` to stdout, as a clerk runs it. */
const openItems = (env: Record<string, string | undefined>) => runCli(['open-items'], { env: { DATABASE_URL: database.url, LOG_LEVEL: 'warn', ...env } });

async function schemas(): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`SELECT nspname AS name FROM pg_namespace WHERE nspname LIKE 'kpgw%' ORDER BY 1`.execute(database.db);
  return rows.map((r) => r.name);
}

const TABLES = [
  'ledger_entries', 'recon_runs', 'gateway_inquiries', 'recon_daily_summary', 'recon_charge_results', 'charge_state', 'findings',
];

describe('merchants on one database', () => {
  it('keep their rows apart, each row carrying its merchant, with the same ledger ids', async () => {
    for (const merchant of ['SHOP-A', 'shop_b']) expect((await run(merchant)).code).toBe(0);
    for (const [schema, merchant] of [['kpgw_shop_a', 'SHOP-A'], ['kpgw_shop_b', 'shop_b']] as const) {
      for (const table of TABLES) {
        const { rows } = await sql<{ merchant: string; n: number }>`SELECT merchant, count(*)::int AS n FROM ${sql.table(`${schema}.${table}`)} GROUP BY 1`.execute(database.db);
        if (table === 'findings') expect(rows).toEqual([]);
        else expect(rows.map((r) => r.merchant)).toEqual([merchant]);
      }
      const { rows: entries } = await sql<{ entry_id: string }>`SELECT entry_id FROM ${sql.table(`${schema}.ledger_entries`)} ORDER BY 1`.execute(database.db);
      expect(entries.map((e) => e.entry_id)).toEqual(charges.map((c) => c.ledger[0]!.entry_id!).sort());
    }
    // The single merchant's tables (public) saw none of it.
    expect(await database.db.selectFrom('recon_runs').select('run_id').execute()).toEqual([]);
  });

  it('run side by side: the one-run-at-a-time lock is per merchant', async () => {
    const holder = new pg.Client({ connectionString: urlForMerchant(database.url, 'SHOP-A') });
    await holder.connect();
    try {
      await holder.query("SELECT pg_advisory_lock($1, hashtext('kpgw_shop_a'))", [0x6b70_7275]);
      expect((await run('shop_b')).code).toBe(0);
      const blocked = await run('SHOP-A');
      expect(blocked.code).toBe(3);
      expect(humanLines(blocked.stderr).join('\n')).toMatch(/is in progress; try again when it has finished/);
    } finally {
      await holder.end();
    }
  });

  it('refuse a mid that is not in the merchants file, naming the merchants, and create nothing', async () => {
    // A typo of SHOP-A: a letter O for a zero would do the same.
    for (const result of [await openItems({ RECON_MERCHANTS: merchantsFile, RECON_MERCHANT: 'SHOP-AA' }), await run('SHOP-AA')]) {
      expect(result.code).toBe(2);
      expect(humanLines(result.stderr)).toEqual([`kpgw-recon: RECON_MERCHANT SHOP-AA is not in the merchants file ${merchantsFile} (its merchants: SHOP-A, shop_b, SHOP-C)`]);
      expect(result.stdout).toBe('');
    }
    expect(await schemas()).toEqual(['kpgw_shop_a', 'kpgw_shop_b']);
  });

  it('without a merchants file, refuse a mid the database does not hold, naming those it does', async () => {
    for (const result of [await openItems({ RECON_MERCHANT: 'SHOP-AA' }), await run('SHOP-AA', { RECON_MERCHANTS: undefined })]) {
      expect(result.code).toBe(2);
      expect(humanLines(result.stderr)).toEqual([
        'kpgw-recon: RECON_MERCHANT SHOP-AA is not a merchant of this database (its merchants: SHOP-A, shop_b); merchants are added in the merchants file (RECON_MERCHANTS)',
      ]);
    }
    // A merchant the database holds needs no file to be read.
    const known = await openItems({ RECON_MERCHANT: 'SHOP-A' });
    expect(known.code).toBe(0);
    expect(known.stdout.split('\n')[0]).toMatch(/^charge_id,reference_order,/);
    expect(await schemas()).toEqual(['kpgw_shop_a', 'kpgw_shop_b']);
  });

  it('refuse to guess the merchant when RECON_MERCHANT is not set and the database holds only merchants', async () => {
    const withoutFile = await openItems({});
    expect(withoutFile.code).toBe(2);
    expect(humanLines(withoutFile.stderr)).toEqual(['kpgw-recon: RECON_MERCHANT is not set, and this database holds the merchants SHOP-A, shop_b: set RECON_MERCHANT to the one to work on']);
    const withFile = await openItems({ RECON_MERCHANTS: merchantsFile });
    expect(withFile.code).toBe(2);
    expect(humanLines(withFile.stderr)).toEqual([`kpgw-recon: RECON_MERCHANT is not set, and the merchants file ${merchantsFile} lists SHOP-A, shop_b, SHOP-C: set RECON_MERCHANT to the one to work on`]);
  });

  it('answer from no empty schema for a merchant of the file whose first night has not run', async () => {
    const result = await openItems({ RECON_MERCHANTS: merchantsFile, RECON_MERCHANT: 'SHOP-C' });
    expect(result.code).toBe(2);
    expect(humanLines(result.stderr)).toEqual(["kpgw-recon: merchant SHOP-C has no tables in this database yet: its first night creates them (or 'kpgw-recon migrate' with RECON_MERCHANT=SHOP-C)"]);
    expect(await schemas()).toEqual(['kpgw_shop_a', 'kpgw_shop_b']);
  });

  it('refuses a mid equal to another but for case, - and _: their tables would be one', async () => {
    // SHOP-A's tables are kpgw_shop_a (the first test). A merchants file that now names the
    // merchant shop_a would have it read and write them: its first run is refused.
    const renamed = join(dir, 'merchants-renamed.json');
    await writeFile(renamed, JSON.stringify({ merchants: [{ mid: 'shop_a', key_env: 'KPGW_SECRET_KEY', inbox: join(dir, 'shop_a') }] }));
    const result = await run('shop_a', { RECON_MERCHANTS: renamed });
    expect(result.code, result.stderr).toBe(2);
    expect(humanLines(result.stderr)).toEqual([
      "kpgw-recon: merchant shop_a: its tables (kpgw_shop_a) are merchant SHOP-A's; two mids equal once letter case, '-' and '_' are ignored are one merchant, so use SHOP-A",
    ]);
    const { rows } = await sql<{ merchant: string }>`SELECT DISTINCT merchant FROM kpgw_shop_a.recon_runs`.execute(database.db);
    expect(rows).toEqual([{ merchant: 'SHOP-A' }]);
  });

  it('refuses a merchant id that cannot name a schema, on one line', async () => {
    const result = await run('shop a');
    expect(result.code).toBe(2);
    expect(humanLines(result.stderr)).toEqual(["kpgw-recon: RECON_MERCHANT: merchant id 'shop a' must be 1 to 40 letters, digits, '_' or '-'"]);
  });
});
