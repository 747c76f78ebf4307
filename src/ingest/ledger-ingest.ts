import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { ReconError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { csvRecords, type CsvRecord } from './csv-records.ts';
import { decodedChunks, NotUtf8Error, type TextEncoding } from './decode.ts';
import { encodingOf, expandCsvPaths } from './inputs.ts';
import { mapLedgerHeader, type LedgerMap } from './ledger-columns.ts';
import { COPY_PIECE, PieceBuilder } from './ledger-pieces.ts';
import { findSplit, PARALLEL_FROM_BYTES, ParallelFallback, parallelText, type ParallelCounts, type PartTask } from './ledger-parallel.ts';
import {
  beginFile,
  copyInto,
  createSessionTables,
  createStage,
  drainReplaced,
  finishBulkLoad,
  rememberLoaded,
  removeSeen,
  startBulkLoad,
  upsertStage,
  type DuplicateRow,
} from './ledger-stage.ts';
import { detachedText, type RejectedRow } from './rejected.ts';

export { loadLedgerMap } from './ledger-columns.ts';

export interface IngestReport {
  files: number;
  /** Data rows read (header and blank lines not counted): inserted + replaced + unchanged + rejected. */
  rows: number;
  inserted: number;
  replaced: number;
  unchanged: number;
  rejected: RejectedRow[];
}

export interface IngestOptions {
  ledgerMap?: LedgerMap;
  logger: Logger;
  signal?: AbortSignal;
  /** Called now and then with the number of data rows read so far in this call. */
  onProgress?: (rows: number) => void;
  /** Files at least this large are parsed on two threads, main and a worker (default 16 MB; tests lower it). */
  parallelFromBytes?: number;
}

/** Where to ingest: COPY needs a connection of its own, so the database's URL. */
export interface IngestTarget {
  readonly url: string;
}

/**
 * Ingests merchant ledger files (contract §3.1) into `ledger_entries`, one transaction per file.
 * Unreadable rows come back in `rejected`; a file that cannot be used at all (missing, not CSV,
 * without the required columns) throws a `ReconError('INPUT')` naming it. Within the call, a row
 * repeating an entry_id with other content is rejected and the first kept; a row changing an
 * entry stored by an earlier call replaces it (logged).
 */
export async function ingestLedgers(target: IngestTarget, paths: readonly string[], options: IngestOptions): Promise<IngestReport> {
  const files = await expandCsvPaths(paths);
  const report: IngestReport = { files: files.length, rows: 0, inserted: 0, replaced: 0, unchanged: 0, rejected: [] };
  if (!files.length) options.logger.warn({ paths }, 'no ledger files found');
  const client = new pg.Client({ connectionString: target.url, application_name: 'kpgw-recon ingest' });
  await client.connect();
  try {
    await createSessionTables(client);
    for (const [i, file] of files.entries()) {
      const remember = i < files.length - 1;
      const before = report.rows;
      const encoding = await encodingOf(file);
      let result: FileResult;
      try {
        result = await ingestFile(client, file, encoding, remember, before, options);
      } catch (error) {
        if (!(error instanceof NotUtf8Error)) throw error;
        // Thai text further in than the sniffed first 64 KB: the file is Windows-874 after all.
        options.logger.info({ file, byte: error.byteOffset }, 'ledger file is not UTF-8 after all; reading it as Windows-874');
        result = await ingestFile(client, file, 'win874', remember, before, options);
      }
      for await (const ids of drainReplaced(client)) {
        for (const entryId of ids) options.logger.info({ entryId, file }, 'ledger entry replaced');
      }
      report.rows += result.rows;
      report.inserted += result.inserted;
      report.replaced += result.replaced;
      report.unchanged += result.unchanged;
      report.rejected.push(...result.rejected);
      options.logger.info(
        { file, encoding: result.encoding, parallel: result.parallel, rows: result.rows, inserted: result.inserted, replaced: result.replaced, unchanged: result.unchanged, rejected: result.rejected.length },
        'ledger file ingested',
      );
    }
    return report;
  } finally {
    await client.end().catch(() => undefined);
  }
}

interface FileResult {
  encoding: TextEncoding;
  /** Parsed on two threads (ledger-parallel.ts). */
  parallel: boolean;
  rows: number;
  inserted: number;
  replaced: number;
  unchanged: number;
  rejected: RejectedRow[];
}

async function ingestFile(
  client: pg.Client,
  file: string,
  encoding: TextEncoding,
  remember: boolean,
  rowsBefore: number,
  options: IngestOptions,
): Promise<FileResult> {
  let batches = csvRecords(decodedChunks(file, encoding))[Symbol.asyncIterator]();
  let first: IteratorResult<CsvRecord[]>;
  try {
    first = await batches.next();
  } catch (error) {
    await batches.return(undefined).catch(() => undefined);
    throw error;
  }
  const header = first.done ? undefined : first.value[0];
  if (!header || header.malformed) {
    await batches.return(undefined).catch(() => undefined);
    throw new ReconError('INPUT', `${file}: not a CSV file with a header row`);
  }
  const mapped = mapLedgerHeader(header.fields, options.ledgerMap);
  if (!mapped.ok) {
    await batches.return(undefined).catch(() => undefined);
    throw new ReconError('INPUT', `${file}: ${mapped.problem}`);
  }
  const columns = mapped.columns;
  const size = (await stat(file)).size;
  const split = size >= (options.parallelFromBytes ?? PARALLEL_FROM_BYTES) ? await findSplit(file, size) : null;
  let rejected: RejectedRow[] = [];
  let rows = 0;
  let staged = 0;

  // Reads, checks and formats rows for COPY; pipeline() applies COPY's backpressure to it.
  async function* copyText(): AsyncGenerator<string> {
    const builder = new PieceBuilder(columns, file);
    const take = (records: CsvRecord[], from: number): void => {
      builder.take(records, from);
      const piece = builder.flush();
      rows += piece.rows;
      staged += piece.staged;
      for (const r of piece.rejected) rejected.push(r);
      builder.text = piece.text;
    };
    take(first.value as CsvRecord[], 1);
    for (;;) {
      if (builder.text.length >= COPY_PIECE) {
        yield builder.text;
        builder.text = '';
      }
      if (options.signal?.aborted) throw new ReconError('INTERRUPTED', `ingest of ${file} interrupted`);
      const next = await batches.next();
      if (next.done) break;
      take(next.value, 0);
      options.onProgress?.(rowsBefore + rows);
    }
    if (builder.text) yield builder.text;
  }

  await beginFile(client);
  try {
    const started = performance.now();
    const bulk = await startBulkLoad(client, file);
    if (!bulk) await createStage(client, file);
    const table = bulk ? 'ledger_entries' : 'ledger_stage';
    let parallel = false;
    if (split) {
      await batches.return(undefined);
      const parts: [PartTask, PartTask] = [
        { file, encoding, start: 0, end: split.byte, line: 1, skip: 1, partEnd: true, columns },
        { file, encoding, start: split.byte, end: size, line: split.line, skip: 0, partEnd: false, columns },
      ];
      const counts: ParallelCounts = { rows: 0, staged: 0, rejected: [] };
      const progress = (n: number): void => options.onProgress?.(rowsBefore + n);
      await client.query('SAVEPOINT ledger_copy');
      try {
        await pipeline(Readable.from(parallelText(parts, counts, progress, options.signal), { objectMode: false }), copyInto(client, table));
        await client.query('RELEASE SAVEPOINT ledger_copy');
        ({ rows, staged, rejected } = counts);
        parallel = true;
      } catch (error) {
        if (!(error instanceof ParallelFallback)) throw error;
        options.logger.info({ file, reason: error.message }, 'reading the ledger file on one thread');
        await client.query('ROLLBACK TO SAVEPOINT ledger_copy');
      }
    }
    if (!parallel) {
      if (split) {
        // the header again, from a fresh read of the file
        batches = csvRecords(decodedChunks(file, encoding))[Symbol.asyncIterator]();
        first = await batches.next();
      }
      await pipeline(Readable.from(copyText(), { objectMode: false }), copyInto(client, table));
    }
    const copied = performance.now();
    let counts: { inserted: number; replaced: number; repeats: DuplicateRow[]; unchanged: number };
    if (bulk) {
      const { duplicates, removed } = await finishBulkLoad(client, bulk);
      counts = { inserted: staged - removed, replaced: 0, repeats: duplicates, unchanged: removed - duplicates.length };
    } else {
      // ingest_seen is empty until a file with rows has been remembered
      const seen = rowsBefore > 0 ? await removeSeen(client) : [];
      const { inserted, replaced, duplicates } = await upsertStage(client);
      const repeats = [...seen, ...duplicates];
      counts = { inserted, replaced, repeats, unchanged: staged - inserted - replaced - repeats.length };
    }
    if (remember) await rememberLoaded(client, table, file);
    await client.query('COMMIT');
    options.logger.debug(
      { file, bulk: Boolean(bulk), copyMs: Math.round(copied - started), storeMs: Math.round(performance.now() - copied) },
      'ledger file timings',
    );
    rejected.push(...(await duplicateRejections(file, encoding, counts.repeats)));
    rejected.sort((a, b) => a.line - b.line);
    return { encoding, parallel, rows, inserted: counts.inserted, replaced: counts.replaced, unchanged: counts.unchanged, rejected };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** Rejections for repeated entry_ids, with their original text read back from the file. */
async function duplicateRejections(file: string, encoding: TextEncoding, repeats: DuplicateRow[]): Promise<RejectedRow[]> {
  if (!repeats.length) return [];
  const wanted = new Map(repeats.map((r) => [r.line, r]));
  const raws = new Map<number, string>();
  for await (const records of csvRecords(decodedChunks(file, encoding))) {
    for (const record of records) if (wanted.has(record.line)) raws.set(record.line, detachedText(record.raw));
  }
  return repeats.map((r) => ({
    file,
    line: r.line,
    entryId: r.entryId,
    reason: `duplicate entry_id '${r.entryId}' with different content; the first row (${r.firstFile}:${r.firstLine}) is kept`,
    raw: raws.get(r.line) ?? '',
  }));
}
