import { createWriteStream } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify';
import { sql, type Kysely } from 'kysely';
import { humanCsvOptions } from '../csv-cells.ts';
import type { Database } from '../db/database.ts';
import type { RejectedRow } from '../ingest/rejected.ts';
import type { RunJson } from './run-json.ts';
import { FINDING_STATE_COLUMNS, MISMATCH_COLUMNS, SUMMARY_COLUMNS, type SummaryRow } from './summary.ts';

export const REJECTED_COLUMNS = ['file', 'line', 'entry_id', 'reason', 'raw'] as const;

const RUN_JSON = 'run.json';

/**
 * A run's report folder in the making (a draft): its files are written into a hidden folder
 * beside the target and published together after the database commit, so a failed run (a
 * lost database, a value the tables refuse) never leaves CSVs without their run.json.
 */
export interface ReportDraft {
  /** Where the run writes its files. */
  readonly dir: string;
  /** Moves the files into the target folder, run.json last. */
  publish(): Promise<void>;
  /** Removes the draft folder and all in it. */
  discard(): Promise<void>;
}

export async function draftReport(target: string): Promise<ReportDraft> {
  const parent = dirname(target);
  await mkdir(parent, { recursive: true });
  // On disk it keeps the name `.staging-`: the one people and their scripts know for a report being written.
  const dir = join(parent, `.${basename(target)}.staging-${randomUUID().slice(0, 8)}`);
  await mkdir(dir);
  const discard = () => rm(dir, { recursive: true, force: true });
  return {
    dir,
    discard,
    async publish() {
      try {
        // A run's own folder is new: one rename shows every file at once.
        await rename(dir, target);
        return;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw error;
      }
      // A `--out` folder that already holds files: an older run.json goes first (it no longer
      // describes the folder), then each file, this run's run.json last.
      await rm(join(target, RUN_JSON), { force: true });
      const names = (await readdir(dir)).filter((name) => name !== RUN_JSON);
      for (const name of [...names, RUN_JSON]) await rename(join(dir, name), join(target, name));
      await discard();
    },
  };
}

/** Into a draft folder ({@link draftReport}), which nobody reads until it is published. */
export async function writeCsvReports(dir: string, outputs: { summary: SummaryRow[]; rejected: Iterable<RejectedRow> }): Promise<void> {
  await writeCsv(dir, 'summary.csv', SUMMARY_COLUMNS, outputs.summary);
  await writeCsv(
    dir,
    'rejected.csv',
    REJECTED_COLUMNS,
    mapIterable(outputs.rejected, (r) => ({ file: r.file, line: r.line, entry_id: r.entryId ?? '', reason: r.reason, raw: r.raw })),
  );
}

/** `mismatches.csv` and `resolved.csv` (docs/reference.md §5.1): the same columns, v1's then the finding's state. */
export const FINDING_CSV_COLUMNS = [...MISMATCH_COLUMNS, ...FINDING_STATE_COLUMNS] as const;

const PAGE = 5000;

/**
 * `mismatches.csv` and `resolved.csv`, read from the tables the run's transaction has just
 * written (pass the transaction), page by page: the files are projections of the tables.
 */
export async function writeFindingCsvs(db: Kysely<Database>, dir: string, runId: string): Promise<void> {
  await writeCsv(dir, 'mismatches.csv', FINDING_CSV_COLUMNS, pages((after: number) => sql<FindingCsvRow & { seq: number }>`
    SELECT seq, run_id::text, transaction_date::text, source_type, coalesce(charge_id, '') AS charge_id,
      coalesce(reference_order, '') AS reference_order, coalesce(entry_id, '') AS entry_id, code, severity,
      coalesce(field, '') AS field, coalesce(ledger_value, '') AS ledger_value, coalesce(gateway_value, '') AS gateway_value,
      coalesce(difference::numeric(16, 2)::text, '') AS difference, message, coalesce(finding_state, '') AS finding_state,
      coalesce(first_seen_on::text, '') AS first_seen_on, coalesce(acknowledged_by, '') AS acknowledged_by, coalesce(ack_note, '') AS ack_note
    FROM recon_mismatches WHERE run_id = ${runId} AND seq > ${after} ORDER BY seq LIMIT ${PAGE}`.execute(db).then((r) => r.rows),
    (row) => row.seq, -1));
  // A resolved finding is listed as it was last reported, with the state it had then.
  await writeCsv(dir, 'resolved.csv', FINDING_CSV_COLUMNS, pages((after: Key | undefined) => sql<FindingCsvRow & Key>`
    SELECT f.charge_key AS k1, f.code AS k2, f.field AS k3, f.entry_id AS k4, ${runId}::text AS run_id, f.transaction_date::text, f.source_type, coalesce(f.charge_id, '') AS charge_id,
      coalesce(f.reference_order, '') AS reference_order, f.entry_id, f.code, f.severity, f.field,
      coalesce(f.ledger_value, '') AS ledger_value, coalesce(f.gateway_value, '') AS gateway_value,
      coalesce(f.difference::numeric(16, 2)::text, '') AS difference, f.message,
      CASE WHEN m.finding_state = 'acknowledged' THEN 'acknowledged' ELSE 'still_open' END AS finding_state,
      f.first_seen_on::text, coalesce(m.acknowledged_by, '') AS acknowledged_by, coalesce(m.ack_note, '') AS ack_note
    FROM findings f
    LEFT JOIN LATERAL (
      SELECT finding_state, acknowledged_by, ack_note FROM recon_mismatches
      WHERE run_id = f.last_run_id AND charge_key = f.charge_key AND code = f.code
        AND coalesce(field, '') = f.field AND coalesce(entry_id, '') = f.entry_id
      ORDER BY seq LIMIT 1) m ON true
    WHERE f.resolved_run_id = ${runId}
      AND ${after ? sql`(f.charge_key, f.code, f.field, f.entry_id) > (${after.k1}, ${after.k2}, ${after.k3}, ${after.k4})` : sql`true`}
    ORDER BY f.charge_key, f.code, f.field, f.entry_id LIMIT ${PAGE}`.execute(db).then((r) => r.rows),
    (row) => row, undefined));
}

/** A finding's identity, the resolved list's page key. */
type Key = { k1: string; k2: string; k3: string; k4: string };

type FindingCsvRow = Record<(typeof FINDING_CSV_COLUMNS)[number], string>;

/** Rows read page by page, each page after the last row's key. */
async function* pages<R, K>(page: (after: K) => Promise<R[]>, keyOf: (row: R) => K, first: K): AsyncIterable<R> {
  let after = first;
  for (;;) {
    const rows = await page(after);
    yield* rows;
    if (rows.length < PAGE) return;
    after = keyOf(rows[rows.length - 1]!);
  }
}

/** Written last: its presence says the run's reports are complete. */
export async function writeRunJson(dir: string, run: RunJson): Promise<void> {
  await writeFile(join(dir, RUN_JSON), `${JSON.stringify(run, null, 2)}\n`);
}

async function writeCsv<T extends object>(dir: string, name: string, columns: readonly string[], rows: Iterable<T> | AsyncIterable<T>): Promise<void> {
  await pipeline(Readable.from(rows, { objectMode: true }), stringify(humanCsvOptions(columns)), createWriteStream(join(dir, name)));
}

function* mapIterable<T, U>(items: Iterable<T>, fn: (item: T) => U): Iterable<U> {
  for (const item of items) yield fn(item);
}
