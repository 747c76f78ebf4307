import { ReconError } from '../errors.ts';
import { csvRecords, type CsvRecord } from '../ingest/csv-records.ts';
import { NotUtf8Error, unreadablePart, utf8Chunks, type TextEncoding } from '../ingest/decode.ts';
import { encodingOf } from '../ingest/inputs.ts';
import { controlCharacterIn } from '../ingest/values.ts';
import { withoutFormulaGuard } from '../csv-cells.ts';

/** A line of the file that cannot be used, as `FILE:LINE: problem` lists it. */
export interface LineProblem {
  line: number;
  problem: string;
}

/** A row of a CSV a person edited: the cells of the columns asked for. */
export interface EditedRow<C extends string> {
  readonly line: number;
  /** Trimmed, without the `'` our reports guard formulas with; '' where the header has no such column. */
  readonly cells: Readonly<Record<C, string>>;
  /** Why the row cannot be used as written: not CSV, unreadable text, a control character. */
  readonly problem: string | undefined;
}

export interface EditedCsv<C extends string> {
  /** The columns asked for that the header has. */
  readonly columns: ReadonlySet<C>;
  /** Every row that is not blank (Excel leaves rows of commas only), in file order. */
  readonly rows: EditedRow<C>[];
}

/**
 * A small CSV a clerk filled in, usually a report of ours edited in Excel (`ack --file`,
 * `retract --file`): header names matched without regard to case or spaces, other columns
 * ignored, with or without a BOM, in UTF-8 or (Excel's plain "CSV" on Thai Windows)
 * Windows-874. `expected` says, in an error, which columns the header should have.
 */
export async function readEditedCsv<C extends string>(file: string, columns: readonly C[], expected: string): Promise<EditedCsv<C>> {
  const encoding = await encodingOf(file);
  try {
    return await readRows(file, encoding, columns, expected);
  } catch (error) {
    if (!(error instanceof NotUtf8Error)) throw error;
    return readRows(file, 'win874', columns, expected);
  }
}

async function readRows<C extends string>(file: string, encoding: TextEncoding, names: readonly C[], expected: string): Promise<EditedCsv<C>> {
  let header: Map<C, number> | undefined;
  const rows: EditedRow<C>[] = [];
  for await (const records of csvRecords(utf8Chunks(file, encoding))) {
    for (const record of records) {
      if (!header) {
        if (record.malformed) throw new ReconError('INPUT', `${file}: the header is not readable (expected ${expected})`);
        header = headerOf(record, names);
      } else if (record.fields.some((field) => field.trim())) {
        rows.push(rowOf(record, header, names));
      }
    }
  }
  if (!header) throw new ReconError('INPUT', `${file}: empty (expected a header with ${expected})`);
  return { columns: new Set(header.keys()), rows };
}

function headerOf<C extends string>(record: CsvRecord, names: readonly C[]): Map<C, number> {
  const header = new Map<C, number>();
  record.fields.forEach((name, index) => {
    const column = names.find((c) => c === name.trim().toLowerCase());
    if (column && !header.has(column)) header.set(column, index);
  });
  return header;
}

function rowOf<C extends string>(record: CsvRecord, header: Map<C, number>, names: readonly C[]): EditedRow<C> {
  const cells = {} as Record<C, string>;
  for (const name of names) {
    const index = header.get(name);
    cells[name] = index === undefined ? '' : withoutFormulaGuard(record.fields[index]?.trim() ?? '');
  }
  const problem = record.malformed
    ?? record.fields.map(unreadablePart).find((p) => p !== undefined)
    ?? names.map((name) => controlCharacterIn(cells[name], name)).find((p) => p !== undefined);
  return { line: record.line, cells, problem };
}
