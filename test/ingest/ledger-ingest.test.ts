import { sql } from 'kysely';
import { beforeEach, describe, expect, it } from 'vitest';
import { ingestLedgers, loadLedgerMap } from '../../src/ingest/ledger-ingest.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { capturingLogger, FIXTURES, ledgerDefaults } from './helpers.ts';

const { db, url } = await createTestDatabase();
const ledger = (name: string) => `${FIXTURES}ledger/${name}`;

async function stored(entryId: string) {
  return db.selectFrom('ledger_entries').selectAll().where('entry_id', '=', entryId).executeTakeFirstOrThrow();
}

async function count(): Promise<number> {
  const { n } = await db.selectFrom('ledger_entries').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(n);
}

beforeEach(async () => {
  await db.deleteFrom('ledger_entries').execute();
});

/** What nasty.csv must give, on whichever path (bulk load into an empty table, or upsert). */
async function expectNastyOutcome(report: Awaited<ReturnType<typeof ingestLedgers>>) {
  const file = ledger('nasty.csv');
  expect(report).toMatchObject({ files: 1, rows: 18, replaced: 0, unchanged: 1 });
  expect(report.inserted).toBe(5);
  expect(report.rejected.map((r) => [r.line, r.entryId, r.reason])).toEqual([
    [7, 'L4', "amount '12,34.5' is not a number"],
    [8, 'L5', "transaction_date '31/02/2024' is not a calendar date"],
    [9, 'L6', "amount '10.005' has more than 2 decimals"],
    [10, 'L7', "amount '-10.00' is not a positive amount"],
    [11, 'L8', "entry_type 'payment' is not charge, refund or void"],
    [12, 'L9', 'a qr row needs a charge_id or an order_id'],
    [13, 'L10', 'the row needs a charge_id or a reference_order'],
    [14, 'L11', 'the row has 4 values but the header has 16'],
    [15, 'L12', 'the row has 17 values but the header has 16 (a value with a comma but no quotes around it?)'],
    [20, 'L2', `duplicate entry_id 'L2' with different content; the first row (${file}:3) is kept`],
    [21, null, 'entry_id is missing'],
    [22, 'L14', 'a quoted value is never closed'],
  ]);
  const duplicate = report.rejected.find((r) => r.line === 20)!;
  expect(duplicate).toMatchObject({ file, raw: 'L2,charge,ORD-2,chrg_2,,2024-05-01,,card,THB,99.60,,,,,,' });
  expect(report.rejected.find((r) => r.line === 7)!.raw).toBe('L4,charge,ORD-4,chrg_4,,2024-05-01,,card,THB,"12,34.5",,,,,,');

  expect(await count()).toBe(5);
  expect(await stored('L1')).toMatchObject({ amount: '1234.50', currency: 'THB', entry_date: '2024-05-01', source_line: 2, source_file: file });
  // Buddhist-era date converted, source type lower-cased, fees kept to the satang
  expect(await stored('L2')).toMatchObject({ transaction_date: '2024-05-01', source_type: 'card', amount: '99.50', mdr: '1.50', vat: '0.11', net_amount: '97.89', source_line: 3 });
  expect(await stored('L3')).toMatchObject({ entry_type: 'refund', entry_date: '2024-05-03', refund_id: 'refd_1', reference_order: null, source_line: 5 });
  expect(await stored('L13')).toMatchObject({ source_type: 'wechat', order_id: 'ordr_13', source_line: 16 });
  expect(await stored('L15')).toMatchObject({ amount: '7.00', source_line: 23 });
}

describe('ingestLedgers', () => {
  it('reads every nasty row of nasty.csv into an empty table (bulk load), rejecting the bad ones with line and reason', async () => {
    const report = await ingestLedgers({ url }, [ledger('nasty.csv')], { logger: capturingLogger().logger });
    await expectNastyOutcome(report);
  });

  it('gives the same outcome when the table already holds other entries (upsert path)', async () => {
    await ingestLedgers({ url }, [ledger('bom-crlf.csv')], { logger: capturingLogger().logger });
    const report = await ingestLedgers({ url }, [ledger('nasty.csv')], { logger: capturingLogger().logger });
    await db.deleteFrom('ledger_entries').where('entry_id', 'in', ['B1', 'B2']).execute();
    await expectNastyOutcome(report);
  });

  it("stores the connection's merchant on every row of a bulk load, and leaves the column defaults as they were", async () => {
    const merchants = async () => (await sql<{ merchant: string; n: number }>`SELECT merchant, count(*)::int AS n FROM ledger_entries GROUP BY 1 ORDER BY 1`.execute(db)).rows;
    // kpgw.merchant as a merchant's connection sets it (src/db/merchant.ts), without its schema
    const shop = new URL(url);
    shop.searchParams.set('options', '-c kpgw.merchant=SHOP-T');
    const defaults = await ledgerDefaults(db);
    expect(defaults.merchant).toBe("COALESCE(current_setting('kpgw.merchant'::text, true), ''::text)");

    await ingestLedgers({ url }, [ledger('nasty.csv')], { logger: capturingLogger().logger });
    expect(await merchants()).toEqual([{ merchant: '', n: 5 }]);
    await db.deleteFrom('ledger_entries').execute();
    await ingestLedgers({ url: shop.toString() }, [ledger('nasty.csv')], { logger: capturingLogger().logger });
    expect(await merchants()).toEqual([{ merchant: 'SHOP-T', n: 5 }]);
    // the upsert path's INSERT takes the default again: the expression, not the bulk load's literal
    await ingestLedgers({ url }, [ledger('bom-crlf.csv')], { logger: capturingLogger().logger });
    expect(await merchants()).toEqual([{ merchant: '', n: 2 }, { merchant: 'SHOP-T', n: 5 }]);
    expect(await ledgerDefaults(db)).toEqual(defaults);
  });

  it('reads UTF-8 with a BOM and CRLF, headers in any case with spaces, Thai text intact', async () => {
    const report = await ingestLedgers({ url }, [ledger('bom-crlf.csv')], { logger: capturingLogger().logger });
    expect(report).toMatchObject({ rows: 2, inserted: 2, rejected: [] });
    expect(await stored('B1')).toMatchObject({ reference_order: 'คำสั่งซื้อ-๑', amount: '12345.67', currency: 'THB', transaction_date: '2024-06-30' });
    expect(await stored('B2')).toMatchObject({ source_type: 'unionpay', amount: '0.01', transaction_date: '2024-06-30' });
  });

  it('reads Windows-874 with Thai headers mapped by --ledger-map, Buddhist-era dates converted', async () => {
    const ledgerMap = await loadLedgerMap(ledger('thai-map.json'));
    const report = await ingestLedgers({ url }, [ledger('thai-win874.csv')], { ledgerMap, logger: capturingLogger().logger });
    expect(report).toMatchObject({ rows: 2, inserted: 2, rejected: [] });
    expect(await stored('T1')).toMatchObject({ reference_order: 'ใบสั่ง-001', transaction_date: '2024-01-15', amount: '1500.00' });
    // 2567 BE is 2024, a leap year
    expect(await stored('T2')).toMatchObject({ entry_type: 'refund', transaction_date: '2024-02-29', entry_date: '2024-02-29', amount: '250.50' });
  });

  it('without the map, the Thai file is one clear error naming the file and the missing columns', async () => {
    await expect(ingestLedgers({ url }, [ledger('thai-win874.csv')], { logger: capturingLogger().logger })).rejects.toMatchObject({
      code: 'INPUT',
      message: `${ledger('thai-win874.csv')}: missing required column(s) entry_id, entry_type, transaction_date, source_type, currency, amount, reference_order or charge_id or order_id`,
    });
  });

  it('a file missing a required column, or that does not exist, is an INPUT error naming it; nothing is stored', async () => {
    await expect(ingestLedgers({ url }, [ledger('missing-columns.csv')], { logger: capturingLogger().logger })).rejects.toMatchObject({
      code: 'INPUT',
      message: `${ledger('missing-columns.csv')}: missing required column(s) amount`,
    });
    await expect(ingestLedgers({ url }, [ledger('nope.csv')], { logger: capturingLogger().logger })).rejects.toMatchObject({
      code: 'INPUT',
      message: `${ledger('nope.csv')}: no such file or folder`,
    });
    expect(await count()).toBe(0);
  });

  it('reads a folder of .csv files; a repeated entry_id with other content in a later file of the same call is rejected', async () => {
    const report = await ingestLedgers({ url }, [ledger('folder')], { logger: capturingLogger().logger });
    expect(report).toMatchObject({ files: 2, rows: 5, inserted: 3, unchanged: 1, replaced: 0 });
    expect(report.rejected).toEqual([
      {
        file: ledger('folder/b.csv'),
        line: 3,
        entryId: 'F2',
        reason: `duplicate entry_id 'F2' with different content; the first row (${ledger('folder/a.csv')}:3) is kept`,
        raw: 'F2,charge,chrg_f2,2024-05-01,card,THB,21.00',
      },
    ]);
    expect(await stored('F2')).toMatchObject({ amount: '20.00' });
  });

  it('a later call changing a stored entry replaces it and logs so', async () => {
    await ingestLedgers({ url }, [ledger('folder/a.csv')], { logger: capturingLogger().logger });
    const { logger, lines } = capturingLogger();
    const report = await ingestLedgers({ url }, [ledger('folder/b.csv')], { logger });
    expect(report).toMatchObject({ rows: 3, inserted: 1, replaced: 1, unchanged: 1, rejected: [] });
    expect(await stored('F2')).toMatchObject({ amount: '21.00', source_file: ledger('folder/b.csv') });
    expect(lines().filter((l) => l.msg === 'ledger entry replaced').map((l) => l.entryId)).toEqual(['F2']);
  });
});
