import { createWriteStream } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
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

const RUN_JSON = 'run.json';

/**
 * A run's report folder in the making: its files are written into a hidden staging folder
 * beside the target and published together after the database commit, so a failed run (a
 * lost database, a value the tables refuse) never leaves CSVs without their run.json.
 */
export interface StagedReport {
  /** Where the run writes its files. */
  readonly dir: string;
  /** Moves the files into the target folder, run.json last. */
  publish(): Promise<void>;
  /** Removes the staging folder and all in it. */
  discard(): Promise<void>;
}

export async function stageReport(target: string): Promise<StagedReport> {
  const parent = dirname(target);
  await mkdir(parent, { recursive: true });
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

/** Into a staging folder ({@link stageReport}), which nobody reads until it is published. */
export async function writeCsvReports(
  dir: string,
  outputs: { mismatches: Iterable<MismatchRow>; summary: SummaryRow[]; rejected: Iterable<RejectedRow> },
): Promise<void> {
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
  await writeFile(join(dir, RUN_JSON), `${JSON.stringify(run, null, 2)}\n`);
}

async function writeCsv<T extends object>(dir: string, name: string, columns: readonly string[], rows: Iterable<T>): Promise<void> {
  await pipeline(Readable.from(rows, { objectMode: true }), stringify(humanCsvOptions(columns)), createWriteStream(join(dir, name)));
}

function* mapIterable<T, U>(items: Iterable<T>, fn: (item: T) => U): Iterable<U> {
  for (const item of items) yield fn(item);
}
