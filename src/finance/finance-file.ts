import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import iconv from 'iconv-lite';
import { neutraliseFormula } from '../csv-cells.ts';
import { checkEncodable, formatExportDate, type ExportFormat } from './finance-format.ts';
import type { FinanceSheet } from './finance-sheet.ts';
import { writeXlsxSheet } from './xlsx-sheet.ts';

/**
 * Writes the sheet as the format says (a CSV, or an .xlsx workbook) into a temporary file that
 * is renamed at the end: a failure on the way (a character the encoding cannot hold, a lost
 * database) leaves nothing behind and is reported as it is.
 */
export async function writeFinanceFile(file: string, sheet: FinanceSheet, format: ExportFormat): Promise<void> {
  const tmp = `${file}.partial`;
  const out = createWriteStream(tmp);
  try {
    if (format.file === 'xlsx') await writeXlsxSheet(out, sheet, format.dates);
    else await writeCsv(out, sheet, format);
    await rename(tmp, file);
  } catch (error) {
    out.destroy();
    // The stream opens its file asynchronously: removed before it has closed, the file could be
    // created again behind our back. Once it is closed, it stays removed. (Not `once`: it
    // rejects on the 'error' the failure itself emits on the stream, before 'close'.)
    if (!out.closed) await new Promise<void>((closed) => out.once('close', () => closed()));
    await rm(tmp, { force: true });
    throw error;
  }
}

/**
 * UTF-8 with a BOM (Excel reads Thai), or Windows-874 without one (its bytes would show as junk
 * in the first cell); dates as the format says; text cells guarded against formulas.
 */
async function writeCsv(out: Writable, sheet: FinanceSheet, format: ExportFormat): Promise<void> {
  const names = sheet.columns.map((c) => c.name);
  const utf8 = format.encoding === 'utf8';
  const csv = stringify({ header: true, columns: names, bom: utf8 });
  async function* cells() {
    let rowNumber = 0;
    for await (const record of sheet.rows) {
      rowNumber += 1;
      const row: Record<string, string> = {};
      for (const { name, kind } of sheet.columns) {
        const raw = record[name] ?? '';
        const value = kind === 'date' && raw ? formatExportDate(raw, format.dates) : raw;
        checkEncodable(value, format.encoding, () => sheet.describe(record, rowNumber), name);
        row[name] = kind === 'text' ? neutraliseFormula(value) : value;
      }
      yield row;
    }
  }
  if (utf8) return pipeline(Readable.from(cells()), csv, out);
  // The encoder takes text: csv-stringify hands out UTF-8 bytes unless told otherwise.
  csv.setEncoding('utf8');
  return pipeline(Readable.from(cells()), csv, iconv.encodeStream('windows-874'), out);
}
