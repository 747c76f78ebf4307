import { createWriteStream } from 'node:fs';
import { rename } from 'node:fs/promises';
import { once } from 'node:events';
import { sql, type Kysely } from 'kysely';
import { stringify } from 'csv-stringify';
import type { Database } from '../db/database.ts';
import { neutraliseFormula } from './csv-cells.ts';

/** Contract §6, in this order. */
export const EXPORT_COLUMNS = [
  'transaction_date', 'reference_order', 'charge_id', 'source_type', 'brand', 'currency', 'amount',
  'settled_amount', 'mdr', 'vat', 'net_amount', 'refunded_amount', 'status', 'codes',
] as const;

const TEXT_COLUMNS = new Set(['reference_order', 'charge_id', 'source_type', 'brand', 'currency', 'status', 'codes']);
const PAGE = 5000;

/**
 * One row per charge of [from, to], each date taken from the latest finished run that covers
 * it. UTF-8 with a BOM so Excel reads Thai; read and written page by page, so the range can be
 * as long as the books.
 */
export async function exportFinance(db: Kysely<Database>, range: { from: string; to: string }, file: string): Promise<{ rows: number; runs: number }> {
  const tmp = `${file}.partial`;
  const out = createWriteStream(tmp);
  const csv = stringify({ header: true, columns: [...EXPORT_COLUMNS], bom: true });
  csv.pipe(out);
  const runs = await latestRunPerDate(db, range);
  let rows = 0;
  for (const [date, runId] of runs) {
    let after = '';
    for (;;) {
      const page = await db
        .selectFrom('recon_charge_results')
        .selectAll()
        .where('run_id', '=', runId)
        .where('transaction_date', '=', date)
        .where('entry_id', '>', after)
        .orderBy('entry_id')
        .limit(PAGE)
        .execute();
      for (const row of page) {
        const record: Record<string, string> = {};
        for (const column of EXPORT_COLUMNS) {
          const value = column === 'codes' ? row.codes.join(' ') : (row[column] ?? '');
          record[column] = TEXT_COLUMNS.has(column) ? neutraliseFormula(String(value)) : String(value);
        }
        if (!csv.write(record)) await once(csv, 'drain');
        rows += 1;
      }
      if (page.length < PAGE) break;
      after = page[page.length - 1]!.entry_id;
    }
  }
  csv.end();
  await once(out, 'finish');
  await rename(tmp, file);
  return { rows, runs: new Set(runs.values()).size };
}

/** For each date of the range, the latest finished run whose range includes it. */
export async function latestRunPerDate(db: Kysely<Database>, range: { from: string; to: string }): Promise<Map<string, string>> {
  const { rows } = await sql<{ date: string; run_id: string }>`
    SELECT DISTINCT ON (d.date) d.date::date::text AS date, r.run_id
    FROM generate_series(${range.from}::date, ${range.to}::date, interval '1 day') AS d(date)
    JOIN recon_runs r ON r.status = 'finished' AND d.date BETWEEN r.from_date AND r.to_date
    ORDER BY d.date, r.finished_at DESC`.execute(db);
  return new Map(rows.map((r) => [r.date, r.run_id]));
}
