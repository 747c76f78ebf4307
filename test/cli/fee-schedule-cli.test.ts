import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCharge } from '../../src/sample/charge-builder.ts';
import { ledgerCsv } from '../../src/sample/sample-files.ts';
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
