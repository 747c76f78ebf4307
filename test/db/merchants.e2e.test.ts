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

/** Contract v2 §12: several merchants on one PostgreSQL, each in a schema of its own. */
const database = await createTestDatabase();
const KEY = 'skey_test_merchants_0123456789';
const D = '2026-08-01';
let simulator: Simulator;
let dir: string;

const charges = [1, 2, 3].map((i) => buildCharge({ key: `m${i}`, date: D, amount: `${i}00.00` }));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kpgw-merchants-'));
  await writeFile(join(dir, 'ledger.csv'), ledgerCsv(charges.flatMap((c) => c.ledger)));
  simulator = await startSimulator({ secretKey: KEY, charges: charges.map((c) => c.gateway), today: D });
});
afterAll(async () => {
  await simulator?.close();
  await rm(dir, { recursive: true, force: true });
});

const run = (merchant: string) =>
  runCli(['run', '--from', D, '--ledger', join(dir, 'ledger.csv'), '--out', join(dir, `out-${merchant}`)], {
    env: { DATABASE_URL: database.url, KPGW_BASE_URL: simulator.url, KPGW_SECRET_KEY: KEY, KPGW_RATE_LIMIT_RPS: '1000', RECON_MERCHANT: merchant, LOG_LEVEL: 'warn' },
  });

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

  it('refuses a mid equal to another but for case, - and _: their tables would be one', async () => {
    // SHOP-A's tables are kpgw_shop_a (the first test); shop_a would read and write them.
    const result = await run('shop_a');
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
