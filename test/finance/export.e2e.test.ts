import { access, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCharge, type SampleCharge } from '../../src/sample/charge-builder.ts';
import { humanLines, runCli } from '../helpers/cli.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { runScenario } from '../helpers/scenario.ts';

const database = await createTestDatabase();
const dir = await mkdtemp(join(tmpdir(), 'kpgw-export-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const THAI_DAY = '2026-03-02';
const EMOJI_DAY = '2026-03-03';
const MANY_DAY = '2026-03-04';
const THAI_REF = 'ใบกำกับภาษี ๑๒๓/๒๕๖๙';

/** A charge whose answer carries the v2 export fields. */
function withReferences(charge: SampleCharge, refs: [string, string, string]): SampleCharge {
  [charge.gateway.ref_1, charge.gateway.ref_2, charge.gateway.ref_3] = refs;
  return charge;
}

beforeAll(async () => {
  const thai = withReferences(buildCharge({ key: 'thai', date: THAI_DAY, amount: '1070.00' }), [THAI_REF, 'สาขา=สยาม', '']);
  thai.gateway.approval_code = '004211';
  thai.gateway.convfee = { convfee_amount: '5.0000', convfee_vat_amount: '0.3500', net_amount: '4.6500' };
  thai.ledger[0]!.convfee_amount = '5.00';
  thai.ledger[0]!.convfee_vat = '0.35';
  // Open: KBank has the refund on its way (`Refund Sent`); the ledger books it in full.
  const sent = buildCharge({ key: 'sent', date: THAI_DAY, amount: '200.00', refunds: ['200.00'] });
  sent.gateway.transaction_state = 'Refund Sent';
  // Open: captured, not settled yet.
  const captured = buildCharge({ key: 'captured', date: THAI_DAY, amount: '300.00' });
  captured.gateway.transaction_state = 'Captured';
  const thaiDay = [thai, sent, captured];
  await runScenario(database, { from: THAI_DAY, fees: null, ledger: thaiDay.flatMap((c) => c.ledger), gateway: thaiDay.map((c) => c.gateway) });

  const plain = buildCharge({ key: 'plain', date: EMOJI_DAY, amount: '10.00' });
  const emoji = withReferences(buildCharge({ key: 'emoji', date: EMOJI_DAY, amount: '20.00' }), ['ORDER-9', 'ของขวัญ 🎁', '']);
  await runScenario(database, { from: EMOJI_DAY, fees: null, ledger: [...plain.ledger, ...emoji.ledger], gateway: [plain.gateway, emoji.gateway] });

  // Enough Thai text ahead of the emoji that the file is well under way when it is met.
  const long = 'ใบกำกับภาษี ร้านกาแฟ สาขาสีลม ๑๒๓ '.repeat(3);
  const many = Array.from({ length: 500 }, (_, i) => withReferences(buildCharge({ key: `many-${String(i).padStart(3, '0')}`, date: MANY_DAY, amount: '10.00' }), [long, long, long]));
  many.push(withReferences(buildCharge({ key: 'zz-emoji', date: MANY_DAY, amount: '20.00' }), [long, long, 'ของขวัญ 🎁']));
  await runScenario(database, { from: MANY_DAY, fees: null, ledger: many.flatMap((c) => c.ledger), gateway: many.map((c) => c.gateway) });
});

const exportCli = (out: string, ...flags: string[]) => runCli(['export', '--from', THAI_DAY, '--to', THAI_DAY, '--out', out, ...flags], { env: { DATABASE_URL: database.url, LOG_LEVEL: 'warn' } });
const byCharge = (rows: Record<string, string>[]) => new Map(rows.map((r) => [r.charge_id!, r]));

describe('export, v2 columns and formats', () => {
  it('appends approval code, ref_1..3, convenience fee and VAT, and the open flag after the v1 columns', async () => {
    const out = join(dir, 'utf8.csv');
    const result = await exportCli(out);
    expect(result.code, result.stderr).toBe(0);
    const bytes = await readFile(out);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const rows = parse(bytes, { columns: true, bom: true }) as Record<string, string>[];
    // The whole header is asserted in jobs.e2e.test.ts; here: the v1 columns keep their places.
    const header = Object.keys(rows[0]!);
    expect(header.slice(0, 2)).toEqual(['transaction_date', 'reference_order']);
    // v3 appends transaction_state, mid and card_masking after v2's columns.
    expect(header.slice(12)).toEqual(['status', 'codes', 'approval_code', 'ref_1', 'ref_2', 'ref_3', 'convfee_amount', 'convfee_vat', 'open', 'transaction_state', 'mid', 'card_masking']);
    const charges = byCharge(rows);
    expect(charges.get('chrg_test_thai')).toMatchObject({
      transaction_date: THAI_DAY, amount: '1070.00', status: 'MATCHED', approval_code: '004211',
      ref_1: THAI_REF, ref_2: 'สาขา=สยาม', ref_3: '', convfee_amount: '5.0000', convfee_vat: '0.3500', open: 'false',
    });
    expect(charges.get('chrg_test_sent')).toMatchObject({ status: 'MATCHED', codes: '', open: 'true' });
    expect(charges.get('chrg_test_captured')).toMatchObject({ status: 'PENDING', codes: 'SETTLEMENT_PENDING', open: 'true', convfee_amount: '' });
  });

  it('--encoding windows-874 writes TIS-620 bytes without a BOM, and Thai references come back unchanged; --dates be writes DD/MM/BE-year', async () => {
    const out = join(dir, 'tis620.csv');
    const result = await exportCli(out, '--encoding', 'windows-874', '--dates', 'be');
    expect(result.code, result.stderr).toBe(0);
    const bytes = await readFile(out);
    expect(bytes.subarray(0, 16).toString('latin1')).toBe('transaction_date');
    // ก is 0xA1 in TIS-620 (three bytes in UTF-8): the file really is single-byte Thai.
    expect(bytes.includes(Buffer.from([0xa1]))).toBe(true);
    expect(bytes.includes(Buffer.from('ก', 'utf8'))).toBe(false);
    const rows = parse(iconv.decode(bytes, 'windows-874'), { columns: true }) as Record<string, string>[];
    const thai = byCharge(rows).get('chrg_test_thai')!;
    expect(thai).toMatchObject({ transaction_date: '02/03/2569', ref_1: THAI_REF, ref_2: 'สาขา=สยาม' });
  });

  it('a character windows-874 cannot hold is exit 2 with one line naming the row, and nothing is written', async () => {
    const out = join(dir, 'emoji', 'export.csv');
    await mkdir(join(dir, 'emoji'));
    const result = await runCli(['export', '--from', EMOJI_DAY, '--to', EMOJI_DAY, '--out', out, '--encoding', 'windows-874'], {
      env: { DATABASE_URL: database.url, LOG_LEVEL: 'warn' },
    });
    expect(result.code).toBe(2);
    expect(humanLines(result.stderr)).toEqual([
      `kpgw-recon: export row 1 (charge chrg_test_emoji, ${EMOJI_DAY}): ref_2 holds '🎁' (U+1F381), which windows-874 cannot hold; export with --encoding utf8`,
    ]);
    expect(await readdir(join(dir, 'emoji'))).toEqual([]);
    await expect(access(out)).rejects.toThrow();
  });

  it('an unknown --encoding or --dates is a usage error', async () => {
    const bad = await exportCli(join(dir, 'x.csv'), '--encoding', 'latin1');
    expect(bad.code).toBe(2);
    expect(humanLines(bad.stderr)).toEqual(["kpgw-recon: export: --encoding 'latin1' is not one of utf8, windows-874"]);
    expect((await exportCli(join(dir, 'x.csv'), '--dates', 'thai')).code).toBe(2);
  });
});

describe('export, v3 formats', () => {
  it('a character windows-874 cannot hold, met deep into a long export, is exit 2 naming the row; no .partial file is left behind', async () => {
    const folder = join(dir, 'many');
    await mkdir(folder);
    const result = await runCli(['export', '--from', MANY_DAY, '--to', MANY_DAY, '--out', join(folder, 'export.csv'), '--encoding', 'windows-874'], {
      env: { DATABASE_URL: database.url, LOG_LEVEL: 'warn' },
    });
    expect(result.code).toBe(2);
    expect(humanLines(result.stderr)).toEqual([
      `kpgw-recon: export row 501 (charge chrg_test_zz-emoji, ${MANY_DAY}): ref_3 holds '🎁' (U+1F381), which windows-874 cannot hold; export with --encoding utf8`,
    ]);
    expect(await readdir(folder)).toEqual([]);
  });

  it('--format xlsx writes a workbook of typed cells: ids and approval codes as text with their zeros, amounts as numbers shown #,##0.00, dates as date cells; the header frozen and filtered', async () => {
    const out = join(dir, 'export.xlsx');
    const result = await exportCli(out, '--format', 'xlsx');
    expect(result.code, result.stderr).toBe(0);
    const { sheet, cell } = await readWorkbook(out);
    expect(sheet.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
    expect(sheet.autoFilter).toBeTruthy();
    const thai = rowOf(sheet, 'chrg_test_thai');
    expect(cell(thai, 'approval_code')).toMatchObject({ type: ExcelJS.ValueType.String, value: '004211' });
    // The sample charges' own approval code, '000941', keeps its zeros too.
    expect(cell(rowOf(sheet, 'chrg_test_sent'), 'approval_code').value).toBe('000941');
    expect(cell(thai, 'amount')).toMatchObject({ type: ExcelJS.ValueType.Number, value: 1070, numFmt: '#,##0.00' });
    expect(cell(thai, 'mdr').value).toBe(26.75); // 1,070.00 × 2.5 %
    expect(cell(thai, 'ref_1').value).toBe(THAI_REF);
    const date = cell(thai, 'transaction_date');
    expect(date.type).toBe(ExcelJS.ValueType.Date);
    expect((date.value as Date).toISOString()).toBe(`${THAI_DAY}T00:00:00.000Z`);
    expect(date.numFmt).toBe('yyyy-mm-dd');
    // Fees not known: empty, not 0.
    expect(cell(rowOf(sheet, 'chrg_test_captured'), 'mdr').value).toBeNull();
  });

  it('--format xlsx --dates be keeps date cells, shown with Buddhist-era years', async () => {
    const out = join(dir, 'export-be.xlsx');
    expect((await exportCli(out, '--format', 'xlsx', '--dates', 'be')).code).toBe(0);
    const { sheet, cell } = await readWorkbook(out);
    const date = cell(rowOf(sheet, 'chrg_test_thai'), 'transaction_date');
    expect(date.type).toBe(ExcelJS.ValueType.Date);
    expect((date.value as Date).toISOString().slice(0, 10)).toBe(THAI_DAY);
    expect(date.numFmt).toBe('[$-1070000]dd/mm/yyyy');
  });

  it('--encoding windows-874 is for CSV only', async () => {
    const result = await exportCli(join(dir, 'x.xlsx'), '--format', 'xlsx', '--encoding', 'windows-874');
    expect(result.code).toBe(2);
    expect(humanLines(result.stderr)).toEqual(['kpgw-recon: export: --encoding windows-874 is for CSV files; a workbook (--format xlsx) holds any text']);
  });
});

async function readWorkbook(file: string): Promise<{ sheet: ExcelJS.Worksheet; cell: (row: number, column: string) => ExcelJS.Cell }> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.readFile(file);
  const sheet = workbook.worksheets[0]!;
  const header = (sheet.getRow(1).values as unknown[]).map(String);
  return { sheet, cell: (row, column) => sheet.getRow(row).getCell(header.indexOf(column)) };
}

/** The row number of a charge, by its charge id in the third column. */
function rowOf(sheet: ExcelJS.Worksheet, chargeId: string): number {
  for (let i = 2; i <= sheet.rowCount; i++) if (sheet.getRow(i).getCell(3).value === chargeId) return i;
  throw new Error(`no row for ${chargeId}`);
}
