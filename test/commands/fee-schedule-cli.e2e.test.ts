import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCharge } from '../../src/sample/charge-builder.ts';
import { samplePlanReport } from '../../src/sample/generate-sample.ts';
import { ledgerCsv, planReportFileName } from '../../src/sample/sample-files.ts';
import { humanLines, runCli } from '../helpers/cli.ts';
import { createTestDatabase } from '../helpers/database.ts';

const database = await createTestDatabase();
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kpgw-fees-cli-'));
  await writeFile(join(dir, 'ledger.csv'), ledgerCsv(buildCharge({ key: 'fees-cli', date: '2026-08-01', amount: '100.00' }).ledger));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('run --fees with a schedule that is wrong', () => {
  it('exits 2 with one line naming the file and the rule, before the ledger is ingested', async () => {
    const fees = join(dir, 'fees.json');
    await writeFile(fees, JSON.stringify({ vat_rate: '0.07', rules: [{ source_type: 'card', rate: '0.02' }, { rat: '0.025' }] }));
    const result = await runCli(['run', '--from', '2026-08-01', '--ledger', join(dir, 'ledger.csv'), '--fees', fees, '--out', join(dir, 'out')], {
      env: { DATABASE_URL: database.url, KPGW_BASE_URL: 'http://127.0.0.1:9', KPGW_SECRET_KEY: 'skey_test_fees_cli', LOG_LEVEL: 'silent' },
    });
    expect(result.code).toBe(2);
    expect(humanLines(result.stderr)).toEqual([`kpgw-recon: ${fees}: rules[1]: unknown field 'rat' (did you mean 'rate'?)`]);
    expect(await database.db.selectFrom('ledger_entries').select('entry_id').execute()).toEqual([]);
  });
});

describe('run --plans with a plan report that cannot be used', () => {
  it('exits 2 with one line naming the file, before the ledger or any report is ingested', async () => {
    const plans = join(dir, 'plans');
    await mkdir(plans, { recursive: true });
    // The first report is fine; the second lacks a column: neither is stored, nor the ledger.
    const good = samplePlanReport();
    await writeFile(join(plans, good.fileName), good.csv);
    const bad = join(plans, planReportFileName('00002', '2026-01-01', '2026-12-31'));
    await writeFile(bad, 'SeqNo.,PromotionName\n1,x\n');
    const result = await runCli(['run', '--from', '2026-08-01', '--ledger', join(dir, 'ledger.csv'), '--plans', plans, '--out', join(dir, 'out-plans')], {
      env: { DATABASE_URL: database.url, KPGW_BASE_URL: 'http://127.0.0.1:9', KPGW_SECRET_KEY: 'skey_test_fees_cli', LOG_LEVEL: 'silent' },
    });
    expect(result.code).toBe(2);
    const lines = humanLines(result.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^kpgw-recon: ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*missing`));
    expect(await database.db.selectFrom('ledger_entries').select('entry_id').execute()).toEqual([]);
    expect(await database.db.selectFrom('installment_plan_reports').select('supplier_no').execute()).toEqual([]);
  });
});
