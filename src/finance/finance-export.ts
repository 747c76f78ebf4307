import { once } from 'node:events';
import { sql, type Kysely, type Selectable } from 'kysely';
import type { Stringifier } from 'csv-stringify';
import type { Database } from '../db/database.ts';
import { neutraliseFormula } from '../report/csv-cells.ts';
import { checkEncodable, DEFAULT_EXPORT_FORMAT, formatExportDate, writeFinanceCsv, type ExportFormat } from './finance-format.ts';
import type { ReconChargeResultTable } from '../report/run.table.ts';

/** Contract §6, in this order; v2 columns appended, so v1 readers keep their positions. */
export const EXPORT_COLUMNS = [
  'transaction_date', 'reference_order', 'charge_id', 'source_type', 'brand', 'currency', 'amount',
  'settled_amount', 'mdr', 'vat', 'net_amount', 'refunded_amount', 'status', 'codes',
  'approval_code', 'ref_1', 'ref_2', 'ref_3', 'convfee_amount', 'convfee_vat', 'open',
] as const;
type ExportColumn = (typeof EXPORT_COLUMNS)[number];

const TEXT_COLUMNS = new Set<ExportColumn>([
  'reference_order', 'charge_id', 'source_type', 'brand', 'currency', 'status', 'codes', 'approval_code', 'ref_1', 'ref_2', 'ref_3',
]);
const PAGE = 5000;

/**
 * One row per charge of [from, to], each date taken from the latest finished run that covers
 * it, each charge from a later run that asked about it again. Read and written page by page, so the range can be as long as the books; written to a
 * temporary file renamed at the end, so a failure (a character the encoding cannot hold) leaves
 * nothing behind.
 */
export async function exportFinance(
  db: Kysely<Database>,
  range: { from: string; to: string },
  file: string,
  format: ExportFormat = DEFAULT_EXPORT_FORMAT,
): Promise<{ rows: number; runs: number }> {
  return writeFinanceCsv(file, EXPORT_COLUMNS, format.encoding, (csv) => writeRows(db, range, format, csv));
}

async function writeRows(
  db: Kysely<Database>,
  range: { from: string; to: string },
  format: ExportFormat,
  csv: Stringifier,
): Promise<{ rows: number; runs: number }> {
  const runs = await latestRunPerDate(db, range);
  let rows = 0;
  const used = new Set<string>();
  for (const [date, base] of runs) {
    let after = '';
    for (;;) {
      const page = await latestChargeResults(db, date, base.finishedAt)
        .where('c.entry_id', '>', after)
        .orderBy('c.entry_id')
        .orderBy('r.finished_at', 'desc')
        .limit(PAGE)
        .execute();
      for (const row of page) {
        rows += 1;
        used.add(row.run_id);
        if (!csv.write(exportRecord(row, rows, format))) await once(csv, 'drain');
      }
      if (page.length < PAGE) break;
      after = page[page.length - 1]!.entry_id;
    }
  }
  return { rows, runs: used.size };
}

/**
 * The charges of `date`, each as the latest finished run that asked about it says: the run that
 * covers the date (finished at `since`), or a later one that asked again (a nightly following an
 * open charge, contract §8). Order by `c.entry_id` then `r.finished_at` descending.
 */
export function latestChargeResults(db: Kysely<Database>, date: string, since: Date) {
  return db
    .selectFrom('recon_charge_results as c')
    .innerJoin('recon_runs as r', 'r.run_id', 'c.run_id')
    .distinctOn('c.entry_id')
    .selectAll('c')
    .where('c.transaction_date', '=', date)
    .where('r.status', '=', 'finished')
    .where('r.finished_at', '>=', since);
}

/** One CSV record; `rowNumber` (1 = the first data row) names the row in an error. */
function exportRecord(row: Selectable<ReconChargeResultTable>, rowNumber: number, format: ExportFormat): Record<ExportColumn, string> {
  const record = {} as Record<ExportColumn, string>;
  for (const column of EXPORT_COLUMNS) {
    const value = cellValue(row, column, format);
    checkEncodable(value, format.encoding, () => `export row ${rowNumber} (charge ${row.charge_id ?? row.reference_order ?? row.entry_id}, ${row.transaction_date})`, column);
    record[column] = TEXT_COLUMNS.has(column) ? neutraliseFormula(value) : value;
  }
  return record;
}

function cellValue(row: Selectable<ReconChargeResultTable>, column: ExportColumn, format: ExportFormat): string {
  switch (column) {
    case 'transaction_date':
      return formatExportDate(row.transaction_date, format.dates);
    case 'codes':
      return row.codes.join(' ');
    case 'open':
      return row.open ? 'true' : 'false';
    default:
      return String(row[column] ?? '');
  }
}

/** For each date of the range, the latest finished run whose range includes it. */
export async function latestRunPerDate(db: Kysely<Database>, range: { from: string; to: string }): Promise<Map<string, { runId: string; finishedAt: Date }>> {
  const { rows } = await sql<{ date: string; run_id: string; finished_at: Date }>`
    SELECT DISTINCT ON (d.date) d.date::date::text AS date, r.run_id, r.finished_at
    FROM generate_series(${range.from}::date, ${range.to}::date, interval '1 day') AS d(date)
    JOIN recon_runs r ON r.status = 'finished' AND d.date BETWEEN r.from_date AND r.to_date
    ORDER BY d.date, r.finished_at DESC`.execute(db);
  return new Map(rows.map((r) => [r.date, { runId: r.run_id, finishedAt: r.finished_at }]));
}
