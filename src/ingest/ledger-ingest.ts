import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { PG, ReconError } from '../errors.ts';
import { connectClient, connectionOptions } from '../db/pg-options.ts';
import type { Logger } from '../log.ts';
import { csvRecords } from './csv-records.ts';
import { utf8Chunks, NotUtf8Error, unreadablePart, withoutMarkers, type TextEncoding } from './decode.ts';
import { encodingOf, expandCsvPaths } from './inputs.ts';
import { mapLedgerHeader, type LedgerColumns, type LedgerMap } from './ledger-columns.ts';
import { ledgerPieces } from './ledger-pieces.ts';
import {
  beginFile,
  copyInto,
  createSessionTables,
  drainReplaced,
  finishBulkLoad,
  rememberLoaded,
  removeSeen,
  startBulkLoad,
  upsertIncoming,
  type DuplicateRow,
} from './ledger-copy.ts';
import type { RejectedRow } from './rejected.ts';

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
}

/** Where to ingest: COPY needs a connection of its own, so the database's URL. */
export interface IngestTarget {
  readonly url: string;
}

/**
 * Ingests merchant ledger files (docs/reference.md §3.1) into `ledger_entries`, one transaction per file.
 * Unreadable rows come back in `rejected`; a file that cannot be used at all (missing, not CSV,
 * without the required columns) throws a `ReconError('INPUT')` naming it. Within the call, a row
 * repeating an entry_id with other content is rejected and the first kept; a row changing an
 * entry stored by an earlier call replaces it (logged).
 */
export async function ingestLedgers(target: IngestTarget, paths: readonly string[], options: IngestOptions): Promise<IngestReport> {
  const files = await expandCsvPaths(paths);
  const report: IngestReport = { files: files.length, rows: 0, inserted: 0, replaced: 0, unchanged: 0, rejected: [] };
  if (!files.length) options.logger.warn({ paths }, 'no ledger files found');
  // The session opens at the first file whose header can be used: a file that cannot be used
  // is refused without touching the database.
  let client: pg.Client | undefined;
  const session = async (): Promise<pg.Client> => {
    if (client) return client;
    client = new pg.Client({ ...connectionOptions(target.url), application_name: 'kpgw-recon ingest' });
    // A lost connection also fails the query in flight, which ends the work; unheard, the
    // 'error' event would crash the process instead.
    client.on('error', () => undefined);
    await connectClient(client);
    await createSessionTables(client);
    return client;
  };
  try {
    for (const [i, file] of files.entries()) {
      const task: FileTask = { file, encoding: await encodingOf(file), remember: i < files.length - 1, rowsBefore: report.rows };
      let result: FileResult;
      try {
        result = await ingestFileRejectingRefused(session, task, options);
      } catch (error) {
        if (!(error instanceof NotUtf8Error)) throw error;
        // Thai text further in than the sniffed first 64 KB: the file is Windows-874 after all.
        options.logger.info({ file, byte: error.byteOffset }, 'ledger file is not UTF-8 after all; reading it as Windows-874');
        result = await ingestFileRejectingRefused(session, { ...task, encoding: 'win874' }, options);
      }
      if (result.replaced) {
        for await (const ids of drainReplaced(await session())) {
          for (const entryId of ids) options.logger.info({ entryId, file }, 'ledger entry replaced');
        }
      }
      report.rows += result.rows;
      report.inserted += result.inserted;
      report.replaced += result.replaced;
      report.unchanged += result.unchanged;
      report.rejected.push(...result.rejected);
      options.logger.info(
        { file, encoding: result.encoding, rows: result.rows, inserted: result.inserted, replaced: result.replaced, unchanged: result.unchanged, rejected: result.rejected.length },
        'ledger file ingested',
      );
    }
    return report;
  } finally {
    await client?.end().catch(() => undefined);
  }
}

/** One file of the call, and what the file's ingest needs to know of the call. */
interface FileTask {
  file: string;
  encoding: TextEncoding;
  /** Record its rows for the later files of the call (it is not the last). */
  remember: boolean;
  /** Data rows the call read before this file. */
  rowsBefore: number;
}

interface FileResult {
  encoding: TextEncoding;
  rows: number;
  inserted: number;
  replaced: number;
  unchanged: number;
  rejected: RejectedRow[];
}

/** Rows PostgreSQL refused that are rejected before the file is given up as unusable. */
const MAX_REFUSED_ROWS = 20;
/** SQLSTATE classes of a value PostgreSQL will not store: data exceptions, integrity, program limits. */
const REFUSED_CLASSES = ['22', '23', '54'];

/**
 * {@link ingestFile}, and should PostgreSQL still refuse a row the readers let through (they are
 * meant to reject everything it would refuse: this is the net under them), that row is
 * rejected with PostgreSQL's reason and the file read again. Only a refusal during the COPY
 * names its row; any other, or too many, make the file unusable, an INPUT error naming it
 * rather than a crash.
 */
async function ingestFileRejectingRefused(session: () => Promise<pg.Client>, task: FileTask, options: IngestOptions): Promise<FileResult> {
  const { file, encoding } = task;
  const refused = new Map<number, string>();
  for (;;) {
    try {
      return await ingestFile(session, task, options, refused);
    } catch (error) {
      const { code, message, where } = error as { code?: unknown; message: string; where?: unknown };
      if (typeof code !== 'string' || !REFUSED_CLASSES.includes(code.slice(0, 2)) || code === PG.UNIQUE_VIOLATION) throw error;
      const copyLine = typeof where === 'string' ? /^COPY \w+, line (\d+)/.exec(where)?.[1] : undefined;
      const line = copyLine && refused.size < MAX_REFUSED_ROWS ? await sourceLineOf(file, encoding, options.ledgerMap, refused, Number(copyLine)) : undefined;
      if (line === undefined) throw new ReconError('INPUT', `${file}: PostgreSQL refused a row of the file (${message})`, { cause: error });
      refused.set(line, `PostgreSQL cannot store this row (${message})`);
      options.logger.warn({ file, line, error: message }, 'a ledger row PostgreSQL refused is rejected; reading the file again');
    }
  }
}

/** The file line of the `copyLine`-th line of the file's COPY text. */
async function sourceLineOf(
  file: string,
  encoding: TextEncoding,
  ledgerMap: LedgerMap | undefined,
  refused: ReadonlyMap<number, string>,
  copyLine: number,
): Promise<number | undefined> {
  const columns = await readHeader(file, encoding, ledgerMap);
  let lines = 0;
  for await (const piece of ledgerPieces(file, encoding, columns, { refused })) {
    for (const bytes of piece.bytes) {
      // each COPY line starts with its file line; line breaks inside values are escaped
      for (let start = 0; start < bytes.length; ) {
        if (++lines === copyLine) return Number.parseInt(bytes.toString('latin1', start, bytes.indexOf(0x09, start)), 10);
        start = bytes.indexOf(0x0a, start) + 1;
        if (start === 0) break;
      }
    }
  }
  return undefined;
}

async function ingestFile(session: () => Promise<pg.Client>, task: FileTask, options: IngestOptions, refused: ReadonlyMap<number, string>): Promise<FileResult> {
  const { file, encoding, remember, rowsBefore } = task;
  const before = await fileVersion(file);
  const columns = await readHeader(file, encoding, options.ledgerMap);
  const client = await session();
  let rows = 0;
  let rowsCopied = 0;
  const rejected: RejectedRow[] = [];

  // COPY text of the file's rows; pipeline() applies COPY's backpressure to it.
  async function* copyText(): AsyncGenerator<Buffer> {
    for await (const piece of ledgerPieces(file, encoding, columns, { refused, signal: options.signal })) {
      rows += piece.rows;
      rowsCopied += piece.copied;
      for (const r of piece.rejected) rejected.push(r);
      options.onProgress?.(rowsBefore + rows);
      yield* piece.bytes;
      if (options.signal?.aborted) throw new ReconError('INTERRUPTED', `ingest of ${file} interrupted`);
    }
  }

  await beginFile(client);
  try {
    const started = performance.now();
    const bulk = await startBulkLoad(client, file);
    const table = bulk ? 'ledger_entries' : 'ledger_incoming';
    await pipeline(Readable.from(copyText(), { objectMode: false }), copyInto(client, table));
    const copied = performance.now();
    let counts: { inserted: number; replaced: number; repeats: DuplicateRow[]; unchanged: number };
    if (bulk) {
      const { duplicates, removed } = await finishBulkLoad(client, bulk, file);
      counts = { inserted: rowsCopied - removed, replaced: 0, repeats: duplicates, unchanged: removed - duplicates.length };
    } else {
      // ingest_seen is empty until a file with rows has been remembered
      const seen = rowsBefore > 0 ? await removeSeen(client) : [];
      const { inserted, replaced, duplicates } = await upsertIncoming(client, file);
      const repeats = [...seen, ...duplicates];
      counts = { inserted, replaced, repeats, unchanged: rowsCopied - inserted - replaced - repeats.length };
    }
    if (remember) await rememberLoaded(client, table, file);
    // A file being written (or truncated) while it was read gave rows of no one version of it.
    if ((await fileVersion(file)) !== before) {
      throw new ReconError('INPUT_CHANGED', `${file}: the file changed while it was read (its size or modification time); nothing of it was kept: run again once it is complete`);
    }
    await client.query('COMMIT');
    options.logger.debug(
      { file, bulk: Boolean(bulk), copyMs: Math.round(copied - started), storeMs: Math.round(performance.now() - copied) },
      'ledger file timings',
    );
    rejected.push(...(await duplicateRejections(file, encoding, counts.repeats)));
    rejected.sort((a, b) => a.line - b.line);
    return { encoding, rows, inserted: counts.inserted, replaced: counts.replaced, unchanged: counts.unchanged, rejected };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** What tells one version of a file from another without reading it: its inode, size and modification time. */
async function fileVersion(file: string): Promise<string> {
  const info = await stat(file, { bigint: true }).catch((error: unknown) => {
    throw new ReconError('INPUT_CHANGED', `${file}: the file went away while it was read; nothing of it was kept`, { cause: error });
  });
  return `${info.ino}:${info.size}:${info.mtimeNs}`;
}

/** The file's header mapped to the canonical columns; a file that cannot be used throws. */
async function readHeader(file: string, encoding: TextEncoding, ledgerMap: LedgerMap | undefined): Promise<LedgerColumns> {
  const batches = csvRecords(utf8Chunks(file, encoding));
  const first = await batches.next().finally(() => batches.return(undefined));
  const header = first.done ? undefined : first.value[0];
  if (!header || header.malformed) throw new ReconError('INPUT', `${file}: not a CSV file with a header row`);
  const unreadable = unreadablePart(header.raw);
  if (unreadable) throw new ReconError('INPUT', `${file}: the header row is ${unreadable}`);
  const mapped = mapLedgerHeader(header.fields, ledgerMap);
  if (!mapped.ok) throw new ReconError('INPUT', `${file}: ${mapped.problem}`);
  return mapped.columns;
}

/** Rejections for repeated entry_ids, with their original text read back from the file. */
async function duplicateRejections(file: string, encoding: TextEncoding, repeats: DuplicateRow[]): Promise<RejectedRow[]> {
  if (!repeats.length) return [];
  const wanted = new Map(repeats.map((r) => [r.line, r]));
  const raws = new Map<number, string>();
  for await (const records of csvRecords(utf8Chunks(file, encoding))) {
    for (const record of records) if (wanted.has(record.line)) raws.set(record.line, record.raw);
  }
  return repeats.map((r) => ({
    file,
    line: r.line,
    entryId: r.entryId,
    reason: `duplicate entry_id '${r.entryId}' with different content; the first row (${r.firstFile}:${r.firstLine}) is kept`,
    raw: withoutMarkers(raws.get(r.line) ?? ''),
  }));
}
