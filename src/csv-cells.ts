import type { Options } from 'csv-stringify';

/** A plain decimal number: a spreadsheet reads it as a number, never as a formula. */
const PLAIN_NUMBER = /^-?\d+(\.\d+)?$/;

/**
 * A text cell that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR) gets a
 * leading apostrophe: shown as text, never evaluated (docs/reference.md §5.1). A plain number such as a
 * difference of `-1.00` is left alone, so it stays a number.
 */
export function neutraliseFormula(value: string): string {
  if (PLAIN_NUMBER.test(value)) return value;
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

/**
 * A cell read back from one of our CSVs (edited in a spreadsheet and saved) as it was before
 * {@link neutraliseFormula}: `'=HYPERLINK(…)` is `=HYPERLINK(…)` again.
 */
export function withoutFormulaGuard(value: string): string {
  return /^'[=+\-@\t\r]/.test(value) ? value.slice(1) : value;
}

/**
 * csv-stringify options for every CSV a person opens: UTF-8 with a BOM (so Excel reads Thai)
 * and every text cell guarded.
 */
export function humanCsvOptions(columns: readonly string[]): Options {
  return { header: true, columns: [...columns], bom: true, cast: { string: neutraliseFormula } };
}
