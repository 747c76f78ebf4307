import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { ingestPlanReports } from '../../src/ingest/plan-ingest.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { capturingLogger, FIXTURES } from './helpers.ts';

const { db } = await createTestDatabase();
const dir = await mkdtemp(join(tmpdir(), 'kpgw-plans-'));
afterAll(() => rm(dir, { recursive: true, force: true }));
const SAMSUNG = `${FIXTURES}plans/Installment Plan Report_99902_010124311224.csv`;
const APPLE = `${FIXTURES}plans/Installment Plan Report_00123_010124300624.csv`;
const HEADER = 'SeqNo.,PromotionName,ValidFrom,ValidTo,IPanMode,ProductName,SupplierNo.,ProductType,ModelNo.,PlanID,ModelName,MinPrice,MaxPrice,PaymentTerm,CardType';

const plans = (supplier: string) =>
  db.selectFrom('installment_plans').selectAll().where('supplier_no', '=', supplier).orderBy('seq_no').execute();

beforeEach(async () => {
  await db.deleteFrom('installment_plan_reports').execute();
});

describe('ingestPlanReports', () => {
  it('stores a UTF-8 (BOM) report: Thai names intact, codes with leading zeros, numbers as numbers, BE dates converted', async () => {
    const report = await ingestPlanReports(db, [SAMSUNG], { logger: capturingLogger().logger });
    expect(report).toMatchObject({ files: 1, rows: 5, suppliers: ['99902'] });
    expect(await plans('99902')).toMatchObject([
      {
        seq_no: 1, promotion_name: 'โปรผ่อน 0% 10 เดือน', valid_from: '2021-09-25', valid_to: '2024-12-31', ipan_mode: '01',
        product_type: 3, model_no: '000123', plan_id: 999, model_name: 'Galaxy Z Flip3 5G', min_price: '3000.00',
        max_price: '999999999.00', payment_term: 10, card_type: 'C', source_line: 2,
      },
      { seq_no: 2, valid_from: '2024-01-01', valid_to: '2024-12-31', ipan_mode: '03', product_type: 3, max_price: '50000.50', card_type: 'K', source_line: 3 },
    ]);
    expect(report.rejected.map((r) => [r.line, r.reason])).toEqual([
      [4, "SupplierNo. '99903' is not the supplier '99902' named in the file name"],
      [5, "ValidFrom '32/01/2024' is not a calendar date"],
      [6, 'SeqNo. 2 appears twice; the first row (line 3) is kept'],
    ]);
    expect(report.rejected[0]).toMatchObject({ file: SAMSUNG, entryId: null, raw: '3,Other supplier,01/01/2024,31/12/2024,02,ALL PRODUCT,99903,3,999999,12,X,1000,2000,3,C' });
    const stored = await db.selectFrom('installment_plan_reports').selectAll().executeTakeFirstOrThrow();
    expect(stored).toMatchObject({ supplier_no: '99902', period_from: '2024-01-01', period_to: '2024-12-31', row_count: 2, file_name: SAMSUNG });
  });

  it('reads a Windows-874 report: the Thai promotion name comes out as the same Thai text', async () => {
    const report = await ingestPlanReports(db, [APPLE], { logger: capturingLogger().logger });
    expect(report).toMatchObject({ rows: 1, rejected: [], suppliers: ['00123'] });
    expect(await plans('00123')).toMatchObject([
      { promotion_name: 'ผ่อนสบาย 0% นาน 6 เดือน', supplier_no: '00123', ipan_mode: '04', product_type: 7, model_no: '0042', min_price: '10000.00', valid_to: '2024-06-30' },
    ]);
  });

  it("re-importing a supplier's report adds a version and keeps the old one; the identical file again adds nothing", async () => {
    await ingestPlanReports(db, [SAMSUNG, APPLE], { logger: capturingLogger().logger });
    const newer = join(dir, 'Installment Plan Report_99902_010125311225.csv');
    await writeFile(newer, `${HEADER}\n7,New promo,01/01/2025,31/12/2025,02,ALL PRODUCT,99902,3,999999,12,S25,1000,2000,3,C\n`);
    const second = await ingestPlanReports(db, [newer], { logger: capturingLogger().logger });
    expect(second).toMatchObject({ rows: 1, versionsAdded: 1, suppliers: ['99902'] });
    const versions = () =>
      db.selectFrom('installment_plan_reports').select(['report_id', 'period_from', 'row_count']).where('supplier_no', '=', '99902').orderBy('report_id').execute();
    const [first, latest] = await versions();
    expect([first, latest].map((v) => [v?.period_from, v?.row_count])).toEqual([['2024-01-01', 2], ['2025-01-01', 1]]);
    const seqOf = async (reportId: string) => (await plans('99902')).filter((p) => p.report_id === reportId).map((p) => p.seq_no);
    expect(await seqOf(first!.report_id)).toEqual([1, 2]);
    expect(await seqOf(latest!.report_id)).toEqual([7]);
    expect(await plans('00123')).toHaveLength(1);

    // Every night's inbox holds the same file: it is the latest version already.
    const again = await ingestPlanReports(db, [newer], { logger: capturingLogger().logger });
    expect(again).toMatchObject({ rows: 1, versionsAdded: 0 });
    expect(await versions()).toHaveLength(2);
    // The older file is not the latest version any more: importing it again makes it the newest.
    expect(await ingestPlanReports(db, [SAMSUNG], { logger: capturingLogger().logger })).toMatchObject({ versionsAdded: 1 });
    expect(await versions()).toHaveLength(3);
  });

  it('a file not named like a plan report, or missing a column, is an INPUT error naming it', async () => {
    const misnamed = join(dir, 'plans.csv');
    await copyFile(SAMSUNG, misnamed);
    await expect(ingestPlanReports(db, [misnamed], { logger: capturingLogger().logger })).rejects.toMatchObject({
      code: 'INPUT',
      message: `${misnamed}: not a name like 'Installment Plan Report_<SupplierNo>_<DDMMYY><DDMMYY>.csv'`,
    });
    const badDate = join(dir, 'Installment Plan Report_99902_310224311224.csv');
    await copyFile(SAMSUNG, badDate);
    await expect(ingestPlanReports(db, [badDate], { logger: capturingLogger().logger })).rejects.toMatchObject({ code: 'INPUT' });
    const noCardType = join(dir, 'Installment Plan Report_5_010124311224.csv');
    await writeFile(noCardType, `${HEADER.replace(',CardType', '')}\n`);
    await expect(ingestPlanReports(db, [noCardType], { logger: capturingLogger().logger })).rejects.toMatchObject({
      code: 'INPUT',
      message: `${noCardType}: missing required column(s) CardType`,
    });
    expect(await db.selectFrom('installment_plan_reports').selectAll().execute()).toEqual([]);
  });

  it('a row with a NUL, an over-long name or a byte the encoding does not define is rejected naming the column; the others go in', async () => {
    const file = join(dir, 'Installment Plan Report_777_010124311224.csv');
    const row = (seq: number, promotion: string) => Buffer.from(`${seq},${promotion},01/01/2024,31/12/2024,02,ALL PRODUCT,777,3,999999,12,X,1000,2000,3,C\n`, 'utf8');
    await writeFile(
      file,
      Buffer.concat([
        Buffer.from(`${HEADER}\n`),
        row(1, 'โปร\0ผ่อน'),
        row(2, 'p'.repeat(300)),
        row(3, 'ok'),
        Buffer.concat([row(4, 'bad').subarray(0, 3), Buffer.from([0xff]), row(4, 'bad').subarray(3)]),
        row(5, 'โปรผ่อน'),
      ]),
    );
    const report = await ingestPlanReports(db, [file], { logger: capturingLogger().logger });
    expect(report.rejected.map((r) => [r.line, r.reason])).toEqual([
      [2, 'PromotionName contains a control character (NUL)'],
      [3, 'PromotionName is 300 characters long (at most 255)'],
      [5, 'PromotionName is not valid UTF-8 text (byte 0xFF)'],
    ]);
    expect((await plans('777')).map((p) => [p.seq_no, p.promotion_name])).toEqual([[3, 'ok'], [5, 'โปรผ่อน']]);
  });
});
