import { createWriteStream } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify';
import { humanCsvOptions } from './csv-cells.ts';
import type { RejectedRow } from '../ingest/rejected.ts';
import type { RunCounts, GatewayCounts, StageTimings } from './run.table.ts';
import { MISMATCH_COLUMNS, SUMMARY_COLUMNS, type MismatchRow, type SummaryRow } from './summary.ts';

/** `run.json` (contract §5). */
export interface RunJson {
  run_id: string;
  from: string;
  to: string;
  as_of: string;
  status: 'finished' | 'aborted';
  counts: RunCounts;
  gateway: GatewayCounts;
  timings_ms: StageTimings;
  duration_ms: number;
}

export const REJECTED_COLUMNS = ['file', 'line', 'entry_id', 'reason', 'raw'] as const;

/**
 * Each file is written under a temporary name and renamed into place, so a reader (or a run
 * interrupted halfway) never sees a half-written report.
 */
export async function writeCsvReports(
  dir: string,
  outputs: { mismatches: Iterable<MismatchRow>; summary: SummaryRow[]; rejected: Iterable<RejectedRow> },
): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeCsv(dir, 'mismatches.csv', MISMATCH_COLUMNS, outputs.mismatches);
  await writeCsv(dir, 'summary.csv', SUMMARY_COLUMNS, outputs.summary);
  await writeCsv(
    dir,
    'rejected.csv',
    REJECTED_COLUMNS,
    mapIterable(outputs.rejected, (r) => ({ file: r.file, line: r.line, entry_id: r.entryId ?? '', reason: r.reason, raw: r.raw })),
  );
}

/** Written last: its presence says the run's reports are complete. */
export async function writeRunJson(dir: string, run: RunJson): Promise<void> {
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, '.run.json.tmp');
  await writeFile(tmp, `${JSON.stringify(run, null, 2)}\n`);
  await rename(tmp, join(dir, 'run.json'));
}

async function writeCsv<T extends object>(dir: string, name: string, columns: readonly string[], rows: Iterable<T>): Promise<void> {
  const tmp = join(dir, `.${name}.tmp`);
  await pipeline(Readable.from(rows, { objectMode: true }), stringify(humanCsvOptions(columns)), createWriteStream(tmp));
  await rename(tmp, join(dir, name));
}

function* mapIterable<T, U>(items: Iterable<T>, fn: (item: T) => U): Iterable<U> {
  for (const item of items) yield fn(item);
}
