import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { money } from '../../src/money.ts';
import { buildCharge, type SampleCharge } from '../../src/sample/charge-builder.ts';
import { runCli } from '../helpers/cli.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { runScenario } from '../helpers/scenario.ts';

/**
 * docs/reference.md §5.1, §5.4, §5.5: the CSVs a person opens, opened by a spreadsheet. Each is converted to
 * .xlsx by headless LibreOffice Calc and read back cell by cell: Thai text intact, amounts as
 * numbers, dates as dates, a reference that looks like a formula left as text.
 */
const database = await createTestDatabase();
const dir = await mkdtemp(join(tmpdir(), 'kpgw-libreoffice-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const DAY = '2026-03-10';
const THAI_REFERENCE = 'ร้านกาแฟ สาขาสีลม ๑๒๓';
const THAI_PENDING = 'ใบสั่งซื้อ ของขวัญ';
const FORMULA_REFERENCE = '=HYPERLINK("http://example.invalid","click")';

type Row = Record<string, string>;
interface Converted {
  rows: Row[];
  sheet: ExcelJS.Worksheet;
  /** The cell under `column` of CSV record `index` (0: the first after the header). */
  cell(index: number, column: string): ExcelJS.Cell;
}

/** A charge with its reference set on both sides, as a merchant's POS would send it. */
function withReference(charge: SampleCharge, reference: string): SampleCharge {
  for (const row of charge.ledger) row.reference_order = reference;
  charge.gateway.reference_order = reference;
  return charge;
}

/** Captured today, not settled yet: its fees are unknown (a SETTLEMENT_PENDING, a VAT schedule's last section). */
function unsettled(charge: SampleCharge): SampleCharge {
  charge.gateway.transaction_state = 'Captured';
  charge.gateway.settlement_info = null;
  return charge;
}

async function soffice(args: string[]): Promise<void> {
  try {
    // Killed only when stuck: a hang guard below the test's (vitest.config.ts), never a deadline
    // a busy machine could reach.
    await promisify(execFile)('soffice', args, { timeout: 10 * 60_000 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error("LibreOffice is not installed (no 'soffice' on PATH): install it with 'apt-get install -y --no-install-recommends libreoffice-calc-nogui' (.ci/run does)");
    }
    throw error;
  }
}

/**
 * All files in one LibreOffice start, with a profile of this test's own (two runs at once would
 * otherwise share ~/.config/libreoffice and one would fail). The import filter says what a person
 * picks in Calc's CSV dialog: comma, double quote, UTF-8 (76), from line 1.
 */
async function convertAll(files: string[]): Promise<Map<string, Converted>> {
  const out = join(dir, 'xlsx');
  const profile = join(dir, 'lo-profile');
  try {
    await soffice([`-env:UserInstallation=${pathToFileURL(profile).href}`, '--headless', '--infilter=CSV:44,34,76,1', '--convert-to', 'xlsx', '--outdir', out, ...files]);
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
  const converted = new Map<string, Converted>();
  for (const file of files) {
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.readFile(join(out, basename(file).replace(/\.csv$/, '.xlsx')));
    const sheet = workbook.worksheets[0]!;
    const header = (sheet.getRow(1).values as unknown[]).map(String);
    const rows = parse(await readFile(file), { columns: true, bom: true, relax_column_count: true }) as Row[];
    const cell = (index: number, column: string) => {
      if (!header.includes(column)) throw new Error(`${basename(file)} has no column ${column}`);
      return sheet.getRow(index + 2).getCell(header.indexOf(column));
    };
    converted.set(basename(file), { rows, sheet, cell });
  }
  return converted;
}

/** The converted files, or why there are none (no LibreOffice): each test then fails with it, none is skipped. */
let converted: Map<string, Converted> | Error;
/** The finance commands' own workbooks, as LibreOffice opened and saved them again. */
let workbooks: Map<string, ExcelJS.Worksheet> | Error;

/** Opens each .xlsx in LibreOffice Calc and saves it again: what Calc understood of each cell is what comes back. */
async function reopenWorkbooks(files: string[]): Promise<Map<string, ExcelJS.Worksheet>> {
  const out = join(dir, 'reopened');
  const profile = join(dir, 'lo-profile-xlsx');
  try {
    await soffice([`-env:UserInstallation=${pathToFileURL(profile).href}`, '--headless', '--convert-to', 'xlsx', '--outdir', out, ...files]);
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
  const sheets = new Map<string, ExcelJS.Worksheet>();
  for (const file of files) {
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.readFile(join(out, basename(file)));
    sheets.set(basename(file), workbook.worksheets[0]!);
  }
  return sheets;
}

function convertedFiles(): Map<string, Converted> {
  if (converted instanceof Error) throw converted;
  return converted;
}

beforeAll(async () => {
  converted = await convertRunFiles().catch((error: Error) => error);
});

async function convertRunFiles(): Promise<Map<string, Converted>> {
  const mismatched = withReference(buildCharge({ key: 'thai', date: DAY, amount: '1000.00', refunds: ['250.00'] }), THAI_REFERENCE);
  mismatched.ledger[0]!.amount = '999.00';
  // The whole month, so that its VAT schedule has no day without a run (which would exit 1).
  const { outcome } = await runScenario(database, {
    from: '2026-03-01',
    to: '2026-03-31',
    asOf: '2026-04-01',
    fees: null,
    ledger: [mismatched, ...others].flatMap((c) => c.ledger),
    gateway: [mismatched, ...others].map((c) => c.gateway),
  });
  const reportDir = outcome.reportDir;
  const env = { DATABASE_URL: database.url, LOG_LEVEL: 'warn' };
  const finance = join(dir, 'finance');
  await mkdir(finance);
  for (const [command, flags] of [['export', ['--from', DAY, '--to', DAY]], ['vat-report', ['--month', DAY.slice(0, 7)]]] as const) {
    for (const format of ['csv', 'xlsx']) {
      const result = await runCli([command, ...flags, '--format', format, '--out', join(finance, `${command}.${format}`)], { env });
      if (result.code !== 0) throw new Error(`${command} exited ${result.code}: ${result.stderr}`);
    }
  }
  workbooks = await reopenWorkbooks(['export', 'vat-report'].map((command) => join(finance, `${command}.xlsx`))).catch((error: Error) => error);
  const csvs = ['mismatches.csv', 'open-items.csv', 'summary.csv'].map((name) => join(reportDir, name));
  csvs.push(join(finance, 'export.csv'), join(finance, 'vat-report.csv'));
  // Converted from a folder of their own: LibreOffice names its output after the input.
  const inputs = join(dir, 'csv');
  await mkdir(inputs);
  for (const file of csvs) await copyFile(file, join(inputs, basename(file)));
  return convertAll(csvs.map((file) => join(inputs, basename(file))));
}

const others = [
  withReference(unsettled(buildCharge({ key: 'link', date: DAY, amount: '500.00' })), FORMULA_REFERENCE),
  withReference(unsettled(buildCharge({ key: 'pending', date: DAY, amount: '120.50' })), THAI_PENDING),
  buildCharge({ key: 'plain', date: DAY, amount: '2500.00', sourceType: 'qr' }),
];

/** Every non-empty cell of `columns` is a number equal to the CSV's text, to the satang. */
function expectNumbers(file: Converted, columns: string[]): number {
  let checked = 0;
  file.rows.forEach((row, i) => {
    for (const column of columns) {
      if (!row[column] || !/^-?\d+(\.\d+)?$/.test(row[column])) continue;
      const cell = file.cell(i, column);
      expect(cell.type, `${column} row ${i + 1}: ${row[column]}`).toBe(ExcelJS.ValueType.Number);
      expect(money(String(cell.value)).equals(money(row[column])), `${column} row ${i + 1}`).toBe(true);
      checked += 1;
    }
  });
  return checked;
}

/** Every cell of `column` whose CSV text is a date is a date cell of that day. */
function expectDates(file: Converted, column: string): number {
  let checked = 0;
  file.rows.forEach((row, i) => {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(row[column] ?? '')) return;
    const cell = file.cell(i, column);
    expect(cell.type, `${column} row ${i + 1}`).toBe(ExcelJS.ValueType.Date);
    expect((cell.value as Date).toISOString().slice(0, 10)).toBe(row[column]);
    checked += 1;
  });
  return checked;
}

/** The Thai text is in a text cell, character for character; the formula-like reference is text, not a formula. */
function expectText(file: Converted, column: string, texts: string[]): void {
  const cells = file.rows.map((_, i) => file.cell(i, column));
  for (const text of texts) {
    const cell = cells.find((c) => typeof c.value === 'string' && c.value.includes(text));
    expect(cell, `${text} in ${column}`).toBeDefined();
    expect(cell!.type).toBe(ExcelJS.ValueType.String);
    expect(cell!.formula).toBeUndefined();
  }
}

/** What each file must show; `dates` columns are all dates, `numbers` all numbers, where the CSV has a value. */
const EXPECTED: Record<string, { text: string[]; numbers: string[]; dates: string[] }> = {
  'mismatches.csv': { text: [THAI_REFERENCE, FORMULA_REFERENCE], numbers: ['difference'], dates: ['transaction_date'] },
  'summary.csv': {
    text: [],
    numbers: ['charges', 'gross_amount', 'settled_amount', 'mdr', 'vat', 'net_amount', 'refunded_amount', 'voided_amount', 'fees_pending'],
    dates: ['transaction_date'],
  },
  'export.csv': {
    text: [THAI_REFERENCE, THAI_PENDING, FORMULA_REFERENCE],
    numbers: ['amount', 'settled_amount', 'mdr', 'vat', 'net_amount', 'refunded_amount'],
    dates: ['transaction_date'],
  },
  // Its Thai and formula-like references are in the last section: the charges whose fees are unknown.
  'vat-report.csv': { text: [THAI_PENDING, FORMULA_REFERENCE], numbers: ['charges', 'settled_amount', 'mdr', 'vat', 'amount'], dates: ['date'] },
  'open-items.csv': { text: [THAI_PENDING, FORMULA_REFERENCE], numbers: ['amount', 'age_days'], dates: ['transaction_date', 'open_since'] },
};

describe('the CSVs a person opens, through LibreOffice Calc', () => {
  it('converts mismatches.csv, open-items.csv, summary.csv, the export and the VAT schedule keeping every row', () => {
    const files = convertedFiles();
    expect([...files.keys()].sort()).toEqual(['export.csv', 'mismatches.csv', 'open-items.csv', 'summary.csv', 'vat-report.csv']);
    for (const [name, file] of files) {
      expect(file.rows.length, name).toBeGreaterThan(0);
      expect(file.sheet.actualRowCount, name).toBe(file.rows.length + 1);
    }
  });

  it('keeps Thai text and formula-like references as text, amounts as numbers and dates as dates, in each file', () => {
    const files = convertedFiles();
    for (const [name, file] of files) {
      const expected = EXPECTED[name]!;
      if (expected.text.length) expectText(file, 'reference_order', expected.text);
      expect(expectNumbers(file, expected.numbers), `${name}: numbers`).toBeGreaterThan(0);
      for (const column of expected.dates) expect(expectDates(file, column), `${name}: ${column}`).toBeGreaterThan(0);
    }
    // Every row of these has its date: none may stay text.
    for (const name of ['mismatches.csv', 'summary.csv', 'export.csv']) {
      expect(expectDates(files.get(name)!, 'transaction_date')).toBe(files.get(name)!.rows.length);
    }
  });
});

describe('the finance workbooks (--format xlsx), opened by LibreOffice Calc', () => {
  /** Each column's cells by header, of the sheet as Calc saved it. */
  function columns(name: string): (column: string) => ExcelJS.Cell[] {
    if (workbooks instanceof Error) throw workbooks;
    const sheet = workbooks.get(name)!;
    const header = (sheet.getRow(1).values as unknown[]).map(String);
    return (column) => {
      const index = header.indexOf(column);
      if (index < 0) throw new Error(`${name} has no column ${column}`);
      const cells: ExcelJS.Cell[] = [];
      for (let i = 2; i <= sheet.actualRowCount; i++) cells.push(sheet.getRow(i).getCell(index));
      return cells;
    };
  }
  const values = (cells: ExcelJS.Cell[]) => cells.filter((c) => c.value !== null && c.value !== '');

  it("finds the export's ids and approval codes as text with their zeros, amounts as numbers, dates as date cells", () => {
    const column = columns('export.xlsx');
    const approval = values(column('approval_code'));
    expect(approval.length).toBeGreaterThan(0);
    for (const cell of approval) expect(cell).toMatchObject({ type: ExcelJS.ValueType.String, value: '000941' });
    expect(values(column('charge_id')).map((c) => c.value)).toContain('chrg_test_thai');
    expect(values(column('reference_order')).map((c) => c.value)).toEqual(expect.arrayContaining([THAI_REFERENCE, FORMULA_REFERENCE]));
    for (const cell of values(column('reference_order'))) expect(cell.formula).toBeUndefined();
    // The mismatched charge: 1,000.00 charged, booked as 999.00.
    expect(values(column('amount')).map((c) => c.value)).toEqual(expect.arrayContaining([999, 500, 120.5, 2500]));
    for (const cell of values(column('amount'))) expect(cell.type).toBe(ExcelJS.ValueType.Number);
    for (const cell of column('transaction_date')) {
      expect(cell.type).toBe(ExcelJS.ValueType.Date);
      expect((cell.value as Date).toISOString().slice(0, 10)).toBe(DAY);
    }
  });

  it("finds the VAT schedule's amounts as numbers and its dates as date cells", () => {
    const column = columns('vat-report.xlsx');
    const mdr = values(column('mdr'));
    expect(mdr.length).toBeGreaterThan(0);
    for (const cell of mdr) expect(cell.type).toBe(ExcelJS.ValueType.Number);
    const dates = values(column('date'));
    expect(dates.length).toBeGreaterThan(0);
    for (const cell of dates) expect(cell.type).toBe(ExcelJS.ValueType.Date);
    expect(values(column('reference_order')).map((c) => c.value)).toEqual(expect.arrayContaining([THAI_PENDING, FORMULA_REFERENCE]));
  });
});
