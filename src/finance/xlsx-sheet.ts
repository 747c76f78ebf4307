import type { Writable } from 'node:stream';
import { parseMoney } from '../money.ts';
import type { CellKind, FinanceSheet } from './finance-sheet.ts';
import type { DateStyle } from './finance-format.ts';

/**
 * How each kind of cell is shown. A Buddhist-era date stays a date cell: its format shows the
 * Thai calendar's year (calendar 07 of the `[$-…]` locale code, as Thai Excel writes it).
 */
const NUMBER_FORMATS: Record<DateStyle, Partial<Record<CellKind, string>>> = {
  iso: { amount: '#,##0.00', count: '0', date: 'yyyy-mm-dd' },
  be: { amount: '#,##0.00', count: '0', date: '[$-1070000]dd/mm/yyyy' },
};

/**
 * Writes `sheet` as an .xlsx workbook to `out` through exceljs's streaming writer: each row is
 * committed as it comes, strings are written inline (no shared-string table held in memory), so
 * memory stays flat however many rows there are. The header row is frozen and carries a filter.
 */
export async function writeXlsxSheet(out: Writable, sheet: FinanceSheet, dates: DateStyle): Promise<void> {
  // Loaded only here: the library is large, and most commands never write a workbook.
  const { default: ExcelJS } = await import('exceljs');
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true, useSharedStrings: false });
  const worksheet = workbook.addWorksheet(sheet.name, { views: [{ state: 'frozen', ySplit: 1 }] });
  const { columns } = sheet;
  worksheet.autoFilter = { from: { row: 1, column: 1 }, to: { row: 1, column: columns.length } };
  worksheet.columns = columns.map((c) => ({ key: c.name, width: Math.max(12, c.name.length + 2) }));
  worksheet.addRow(columns.map((c) => c.name)).commit();
  const formats = NUMBER_FORMATS[dates];
  for await (const record of sheet.rows) {
    const row = worksheet.addRow(columns.map(({ name, kind }) => cellValue(kind, record[name] ?? '')));
    columns.forEach(({ kind }, i) => {
      const cell = row.getCell(i + 1);
      if (formats[kind] && typeof cell.value !== 'string' && cell.value !== null) cell.numFmt = formats[kind];
    });
    row.commit();
  }
  worksheet.commit();
  await workbook.commit();
}

/**
 * A typed cell from the record's text. A spreadsheet keeps a number as a double, exact to 15
 * significant digits, which every amount of ours fits; one that would not come back the same is
 * written as text rather than changed.
 */
function cellValue(kind: CellKind, text: string): string | number | Date | null {
  if (text === '') return null;
  switch (kind) {
    case 'text':
      return text;
    case 'date':
      return new Date(`${text}T00:00:00Z`);
    case 'amount':
    case 'count': {
      const number = Number(text);
      const exact = parseMoney(text);
      return exact && parseMoney(String(number))?.equals(exact) ? number : text;
    }
  }
}
