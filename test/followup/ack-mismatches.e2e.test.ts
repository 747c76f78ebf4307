import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCharge } from '../../src/sample/charge-builder.ts';
import { ledgerCsv } from '../../src/sample/sample-files.ts';
import { CLI_TEST_TIMEOUT_MS, openBooks, type Books, type RunResult } from '../helpers/books.ts';
import { createTestDatabase } from '../helpers/database.ts';

/**
 * Acknowledging as a clerk does: in `mismatches.csv` itself, warnings too, and seeing who and the
 * note in `open-items`. The books, on 2026-07-01:
 * - vase: KBank has 790.00, the ledger 800.00: AMOUNT_MISMATCH and SETTLE_AMOUNT_MISMATCH, each
 *   790.00 − 800.00 = −10.00 (errors);
 * - rug: 500.00, captured and not settled yet: SETTLEMENT_PENDING (a warning), an open charge.
 */
const database = await createTestDatabase();
const D = '2026-07-01';
const AS_OF = '2026-07-02';

const vase = buildCharge({ key: 'vase', date: D, amount: '790.00' });
vase.ledger[0]!.amount = '800.00';
const rug = buildCharge({ key: 'rug', date: D, amount: '500.00' });
Object.assign(rug.gateway, { transaction_state: 'Captured', settlement_info: null });

let books: Books;
let ledger: string;
let second: RunResult;
beforeAll(async () => {
  books = await openBooks(database, [vase.gateway, rug.gateway]);
  ledger = await books.write('ledger.csv', ledgerCsv([...vase.ledger, ...rug.ledger]));
});
afterAll(() => books?.close());

const ack = (...args: string[]) => books.cli(['ack', ...args]);
const NOTES: Record<string, string> = {
  AMOUNT_MISMATCH: 'KBank credit note CN-0042 for 10.00',
  SETTLEMENT_PENDING: 'KBank settles it on 3 July',
};
const activeAcks = () =>
  database.db.selectFrom('finding_acknowledgements').select(['charge_key', 'code', 'note', 'acked_by']).where('undone_at', 'is', null).orderBy('charge_key').orderBy('code').execute();

describe('ack --file on mismatches.csv as written', () => {
  it('takes the notes from its own ack_note column, a warning\'s too; open-items shows who and the note on the open charge', async () => {
    const first = await books.run('run-1', ledger, { from: D, asOf: AS_OF });
    expect(first.result.code).toBe(1);
    // The clerk writes in ack_note on two rows of the file (one an error, one a warning) and saves it, BOM and CRLF.
    const [header, ...rows] = parse(await readFile(join(first.out, 'mismatches.csv'), 'utf8'), { bom: true }) as string[][];
    expect(rows.map((r) => `${r[header!.indexOf('code')]} ${r[header!.indexOf('severity')]} ${r[header!.indexOf('difference')]}`)).toEqual([
      'AMOUNT_MISMATCH error -10.00', 'SETTLE_AMOUNT_MISMATCH error -10.00', 'SETTLEMENT_PENDING warning ',
    ]);
    const noted = rows.map((r) => r.map((cell, i) => (header![i] === 'ack_note' ? (NOTES[r[header!.indexOf('code')]!] ?? '') : cell)));
    const file = await books.write('mismatches-noted.csv', `\ufeff${stringify([header!, ...noted], { record_delimiter: '\r\n' })}`);
    expect(await ack('--file', file, '--by', 'nok')).toMatchObject({ code: 0, stdout: 'acknowledged 2 findings\n' });
    expect(await activeAcks()).toEqual([
      { charge_key: 'chrg_test_rug', code: 'SETTLEMENT_PENDING', note: NOTES.SETTLEMENT_PENDING, acked_by: 'nok' },
      { charge_key: 'chrg_test_vase', code: 'AMOUNT_MISMATCH', note: NOTES.AMOUNT_MISMATCH, acked_by: 'nok' },
    ]);

    const open = await books.cli(['open-items', '--as-of', AS_OF]);
    expect(open.code).toBe(0);
    expect((parse(open.stdout, { columns: true }) as Record<string, string>[]).map((r) => [r.charge_id, r.kind, r.code, r.acknowledged_by, r.ack_note])).toEqual([
      ['chrg_test_rug', 'open_charge', 'SETTLEMENT_PENDING', 'nok', NOTES.SETTLEMENT_PENDING],
      ['chrg_test_vase', 'finding', 'SETTLE_AMOUNT_MISMATCH', '', ''],
    ]);

    second = await books.run('run-2', ledger, { from: D, asOf: AS_OF });
    expect(second.result.code).toBe(1);
    expect((await second.csv('mismatches.csv')).map((m) => [m.code, m.finding_state, m.acknowledged_by, m.ack_note])).toEqual([
      ['AMOUNT_MISMATCH', 'acknowledged', 'nok', NOTES.AMOUNT_MISMATCH],
      ['SETTLE_AMOUNT_MISMATCH', 'still_open', '', ''],
      ['SETTLEMENT_PENDING', 'acknowledged', 'nok', NOTES.SETTLEMENT_PENDING],
    ]);
  }, CLI_TEST_TIMEOUT_MS);

  it('the next run\'s mismatches.csv loaded again changes nothing: its acknowledged_by stays who acknowledged', async () => {
    expect(await ack('--file', join(second.out, 'mismatches.csv'), '--by', 'somchai')).toMatchObject({
      code: 0, stdout: 'acknowledged 0 findings (2 already acknowledged with the same note)\n',
    });
    expect((await activeAcks()).map((a) => a.acked_by)).toEqual(['nok', 'nok']);
    expect(await database.db.selectFrom('finding_acknowledgements').select('id').execute()).toHaveLength(2);
  }, CLI_TEST_TIMEOUT_MS);
});

describe('acknowledgements that are one clear thing', () => {
  it('--undo naming nothing acknowledged is one line, exit 2, and undoes nothing', async () => {
    expect(await ack('--undo', '--charge', 'chrg_test_vase', '--code', 'SETTLE_AMOUNT_MISMATCH')).toMatchObject({
      code: 2, stdout: '', stderr: 'kpgw-recon: ack: no acknowledged finding for charge chrg_test_vase code SETTLE_AMOUNT_MISMATCH\n',
    });
    expect(await activeAcks()).toHaveLength(2);
  }, CLI_TEST_TIMEOUT_MS);

  it('a second acknowledgement replaces the first: one active row, the earlier one recorded undone; the schema allows no second', async () => {
    expect(await ack('--charge', 'chrg_test_vase', '--code', 'AMOUNT_MISMATCH', '--note', 'CN-0042 received', '--by', 'somchai')).toMatchObject({
      code: 0, stdout: 'acknowledged 1 finding (1 replacing an earlier acknowledgement)\n',
    });
    const trail = await database.db.selectFrom('finding_acknowledgements').select(['note', 'acked_by', 'undone_by'])
      .where('charge_key', '=', 'chrg_test_vase').where('code', '=', 'AMOUNT_MISMATCH').orderBy('id').execute();
    expect(trail).toEqual([
      { note: NOTES.AMOUNT_MISMATCH, acked_by: 'nok', undone_by: 'somchai' },
      { note: 'CN-0042 received', acked_by: 'somchai', undone_by: null },
    ]);
    await expect(database.db.insertInto('finding_acknowledgements').values({
      charge_key: 'chrg_test_vase', code: 'AMOUNT_MISMATCH', field: 'amount', entry_id: 'E-vase', ledger_value: '800.00', gateway_value: '790.00', note: 'twice', acked_by: 'mallory',
    }).execute()).rejects.toThrow(/finding_acknowledgements_active/);
  }, CLI_TEST_TIMEOUT_MS);

  it('a NUL in a note is a bad line of the file: listed, nothing applied, exit 2', async () => {
    const file = await books.write('nul.csv', 'charge_id,code,note\nchrg_test_vase,SETTLE_AMOUNT_MISMATCH,fee \u0000 dispute\n');
    expect(await ack('--file', file)).toMatchObject({
      code: 2,
      stdout: '',
      stderr: `${file}:2: note contains a control character (NUL)\nkpgw-recon: ack: ${file}: nothing was applied: 1 line cannot be used (listed above)\n`,
    });
    expect(await activeAcks()).toHaveLength(2);
  }, CLI_TEST_TIMEOUT_MS);
});
