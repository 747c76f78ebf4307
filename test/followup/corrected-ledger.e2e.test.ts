import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCharge, type LedgerRow } from '../../src/sample/charge-builder.ts';
import { ledgerCsv } from '../../src/sample/sample-files.ts';
import { CLI_TEST_TIMEOUT_MS, openBooks, type Books } from '../helpers/books.ts';
import { createTestDatabase } from '../helpers/database.ts';

/**
 * A ledger row that gains its charge id in a corrected file is reconciled under a new charge key
 * (the charge id, where it was the reference order): what was filed about it under the old key
 * is resolved by that run, and the old key is followed no more. The books, on 2026-06-02:
 * - desk: KBank has 1,200.00; the first file books 1,250.00 under its reference order only, so
 *   AMOUNT_MISMATCH and SETTLE_AMOUNT_MISMATCH, each 1,200.00 − 1,250.00 = −50.00; the corrected
 *   file adds the charge id and books 1,200.00: matched.
 * - chair: 300.00, captured and never settled (SETTLEMENT_PENDING, open); the corrected file
 *   adds its charge id: still open, under its charge id only.
 */
const database = await createTestDatabase();
const D = '2026-06-02';
const AS_OF = '2026-06-03';

const desk = buildCharge({ key: 'desk', date: D, amount: '1200.00' });
const chair = buildCharge({ key: 'chair', date: D, amount: '300.00' });
Object.assign(chair.gateway, { transaction_state: 'Captured', settlement_info: null });
const withoutChargeId = (row: LedgerRow): LedgerRow => ({ ...row, charge_id: '' });

let books: Books;
beforeAll(async () => {
  books = await openBooks(database, [desk.gateway, chair.gateway]);
});
afterAll(() => books?.close());

const findings = () =>
  database.db.selectFrom('findings').select(['charge_key', 'code', 'resolved_reason']).orderBy('charge_key').orderBy('code').execute();
const states = () => database.db.selectFrom('charge_state').select(['charge_key', 'open', 'next_ask_on']).orderBy('charge_key').execute();

describe('a ledger row corrected to carry its charge id', () => {
  it('closes the findings and the open charge filed under its reference order', async () => {
    const first = await books.write('ledger.csv', ledgerCsv([{ ...withoutChargeId(desk.ledger[0]!), amount: '1250.00' }, withoutChargeId(chair.ledger[0]!)]));
    const before = await books.run('run-1', first, { from: D, asOf: AS_OF });
    expect(before.result.code).toBe(1);
    expect((await before.csv('mismatches.csv')).map((m) => `${m.reference_order} ${m.code} ${m.difference}`)).toEqual([
      'ORD-desk AMOUNT_MISMATCH -50.00', 'ORD-desk SETTLE_AMOUNT_MISMATCH -50.00', 'ORD-chair SETTLEMENT_PENDING ',
    ]);
    expect(await states()).toEqual([
      { charge_key: 'ORD-chair', open: true, next_ask_on: '2026-06-03' },
      { charge_key: 'ORD-desk', open: false, next_ask_on: '2026-06-09' },
    ]);

    const corrected = await books.write('ledger-corrected.csv', ledgerCsv([desk.ledger[0]!, chair.ledger[0]!]));
    const after = await books.run('run-2', corrected, { from: D, asOf: AS_OF });
    expect(after.result.code).toBe(0);
    expect((await after.csv('mismatches.csv')).map((m) => `${m.charge_id} ${m.code} ${m.finding_state}`)).toEqual(['chrg_test_chair SETTLEMENT_PENDING new']);
    expect((await after.csv('resolved.csv')).map((m) => `${m.reference_order} ${m.code} ${m.entry_id}`).sort()).toEqual([
      'ORD-chair SETTLEMENT_PENDING E-chair', 'ORD-desk AMOUNT_MISMATCH E-desk', 'ORD-desk SETTLE_AMOUNT_MISMATCH E-desk',
    ]);
    expect(await findings()).toEqual([
      { charge_key: 'ORD-chair', code: 'SETTLEMENT_PENDING', resolved_reason: 'reconciled' },
      { charge_key: 'ORD-desk', code: 'AMOUNT_MISMATCH', resolved_reason: 'reconciled' },
      { charge_key: 'ORD-desk', code: 'SETTLE_AMOUNT_MISMATCH', resolved_reason: 'reconciled' },
      { charge_key: 'chrg_test_chair', code: 'SETTLEMENT_PENDING', resolved_reason: null },
    ]);
    // The chair is followed under its charge id; its old key is no longer open. The desk's old
    // key is final, due for its re-check at age 7 (2026-06-09) like its new one.
    expect(await states()).toEqual([
      { charge_key: 'ORD-chair', open: false, next_ask_on: null },
      { charge_key: 'ORD-desk', open: false, next_ask_on: '2026-06-09' },
      { charge_key: 'chrg_test_chair', open: true, next_ask_on: '2026-06-03' },
      { charge_key: 'chrg_test_desk', open: false, next_ask_on: '2026-06-09' },
    ]);
    const open = await books.cli(['open-items', '--as-of', AS_OF]);
    expect(open.stdout.trim().split('\n').slice(1).map((row) => row.split(',').slice(0, 8).join(','))).toEqual([
      'chrg_test_chair,ORD-chair,2026-06-02,card,THB,300.00,open_charge,SETTLEMENT_PENDING',
    ]);
  }, CLI_TEST_TIMEOUT_MS);

  it('the night the old key is due asks the row once, under its charge id, and closes the old key', async () => {
    const inbox = join(books.dir, 'inbox');
    await mkdir(join(inbox, 'ledger'), { recursive: true });
    await copyFile(join(books.dir, 'ledger-corrected.csv'), join(inbox, 'ledger', 'books.csv'));
    const out = join(books.dir, 'night-06-09');
    const night = await books.cli(['nightly', '--date', '2026-06-09', '--out', out], { RECON_INBOX: inbox });
    expect(night.code).toBe(0);
    const { run_id: runId } = JSON.parse(await readFile(join(out, 'run.json'), 'utf8')) as { run_id: string };
    const asked = await database.db.selectFrom('gateway_inquiries').select('charge_key').where('run_id', '=', runId).orderBy('charge_key').execute();
    expect(asked.map((a) => a.charge_key)).toEqual(['chrg_test_chair', 'chrg_test_desk']);
    // Re-checked at age 7, next at age 30 (2026-07-02); the old key never again.
    expect(await states()).toEqual([
      { charge_key: 'ORD-chair', open: false, next_ask_on: null },
      { charge_key: 'ORD-desk', open: false, next_ask_on: null },
      { charge_key: 'chrg_test_chair', open: true, next_ask_on: '2026-06-10' },
      { charge_key: 'chrg_test_desk', open: false, next_ask_on: '2026-07-02' },
    ]);
  }, CLI_TEST_TIMEOUT_MS);
});
