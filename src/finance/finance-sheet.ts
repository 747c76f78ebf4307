/**
 * What a column holds, which decides its cell in a workbook: text (ids, codes and approval codes
 * stay text, `000941` keeps its zeros), an amount (a number shown `#,##0.00`), a date, a count.
 */
export type CellKind = 'text' | 'amount' | 'date' | 'count';

export interface FinanceColumn {
  readonly name: string;
  readonly kind: CellKind;
}

/** One row, each column's value as plain text: ISO dates, plain decimal amounts, '' when empty. */
export type FinanceRecord = Readonly<Record<string, string>>;

/** A finance file's one table: its columns, its rows (read as they are written) and how an error names a row. */
export interface FinanceSheet {
  /** The workbook's sheet name. */
  readonly name: string;
  readonly columns: readonly FinanceColumn[];
  readonly rows: AsyncIterable<FinanceRecord>;
  /** For an error: `export row 3 (charge chrg_1, 2026-01-05)`; `rowNumber` 1 is the first after the header. */
  describe(record: FinanceRecord, rowNumber: number): string;
}
