import { ReconError } from '../errors.ts';
import { withoutFormulaGuard } from '../report/csv-cells.ts';
import { csvRecords, type CsvRecord } from '../ingest/csv-records.ts';
import { NotUtf8Error, unreadablePart, utf8Chunks, type TextEncoding } from '../ingest/decode.ts';
import { encodingOf } from '../ingest/inputs.ts';
import type { FindingSelector } from './acknowledge.ts';

/** A line of the file that cannot be used, as `FILE:LINE: problem` lists it. */
export interface LineProblem {
  line: number;
  problem: string;
}

export interface AckFile {
  selectors: FindingSelector[];
  problems: LineProblem[];
}

const COLUMNS = ['charge_id', 'reference_order', 'code', 'field', 'entry_id', 'note', 'by'] as const;
type Column = (typeof COLUMNS)[number];

/**
 * The findings an `ack --file` names (contract §9): a CSV with a header holding at least
 * `charge_id`, `code` and `note` (optionally `reference_order`, which names the charge when
 * `charge_id` is empty, `field`, `entry_id` and `by`); other columns are ignored, so a
 * `mismatches.csv` with a `note` column added in Excel loads back, with or without its BOM, in
 * UTF-8 or (Excel's plain "CSV" on Thai Windows) Windows-874. Only rows with a note count: a
 * clerk notes some rows and leaves the rest. For `--undo` the note column is optional; when it is
 * there, the same noted rows are undone, so undoing a file takes back what acknowledging it did.
 */
export async function readAckFile(file: string, options: { undo: boolean; by: string }): Promise<AckFile> {
  const encoding = await encodingOf(file);
  try {
    return await readRows(file, encoding, options);
  } catch (error) {
    if (!(error instanceof NotUtf8Error)) throw error;
    return readRows(file, 'win874', options);
  }
}

async function readRows(file: string, encoding: TextEncoding, options: { undo: boolean; by: string }): Promise<AckFile> {
  const result: AckFile = { selectors: [], problems: [] };
  let columns: Map<Column, number> | undefined;
  for await (const records of csvRecords(utf8Chunks(file, encoding))) {
    for (const record of records) {
      if (!columns) {
        columns = headerOf(file, record, options.undo);
        continue;
      }
      readRow(record, columns, options, result);
    }
  }
  if (!columns) throw new ReconError('INPUT', `${file}: empty (expected a header with charge_id, code and note)`);
  if (!result.selectors.length && !result.problems.length) {
    throw new ReconError('INPUT', `${file}: no row ${columns.has('note') ? 'has a note' : 'names a finding'}; nothing to ${options.undo ? 'undo' : 'acknowledge'}`);
  }
  return result;
}

function headerOf(file: string, record: CsvRecord, undo: boolean): Map<Column, number> {
  const columns = new Map<Column, number>();
  record.fields.forEach((name, index) => {
    const column = COLUMNS.find((c) => c === name.trim().toLowerCase());
    if (column && !columns.has(column)) columns.set(column, index);
  });
  const missing = [
    columns.has('charge_id') || columns.has('reference_order') ? undefined : 'charge_id',
    columns.has('code') ? undefined : 'code',
    columns.has('note') || undo ? undefined : 'note',
  ].filter((name) => name !== undefined);
  if (record.malformed || missing.length) {
    throw new ReconError('INPUT', `${file}: the header has no ${missing.join(', ') || 'readable columns'} column (expected at least charge_id, code and note)`);
  }
  return columns;
}

function readRow(record: CsvRecord, columns: Map<Column, number>, options: { undo: boolean; by: string }, into: AckFile): void {
  const cell = (column: Column) => {
    const index = columns.get(column);
    return index === undefined ? '' : withoutFormulaGuard(record.fields[index]?.trim() ?? '');
  };
  if (record.fields.every((field) => !field.trim())) return; // a row Excel left as commas only
  if (columns.has('note') && !cell('note')) return;
  const problem = record.malformed ?? record.fields.map(unreadablePart).find((p) => p !== undefined);
  if (problem) {
    into.problems.push({ line: record.line, problem });
    return;
  }
  const charge = cell('charge_id') || cell('reference_order');
  const code = cell('code');
  if (!charge || !code) {
    into.problems.push({ line: record.line, problem: charge ? 'no code' : 'no charge (charge_id and reference_order are empty)' });
    return;
  }
  into.selectors.push({
    charge,
    code,
    field: cell('field'),
    entryId: cell('entry_id'),
    note: cell('note'),
    by: cell('by') || options.by,
    line: record.line,
  });
}
