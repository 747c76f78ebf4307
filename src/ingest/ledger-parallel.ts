/**
 * Parsing a large ledger file on two cores. Reading, checking and formatting rows costs the
 * Node side more than the whole COPY costs PostgreSQL, so a file of at least
 * {@link PARALLEL_FROM_BYTES} is cut in two at a record boundary and each half is read on a
 * thread, the first on the main thread and the second in a worker (one isolate fewer than two
 * workers: memory), and the pieces of both go into the file's one COPY (the order of rows in it
 * does not matter: repeats are resolved by `source_line`).
 *
 * The cut is the first line feed after the middle with an even number of `"` before it, and the
 * second half's first line is one more than the line feeds before the cut (a line feed byte is
 * never part of a UTF-8 or Windows-874 multi-byte character). The first part's reader checks
 * that it ends exactly at the cut; when it does not (a quote inside an unquoted value, say), or
 * when either half holds a quoted value never closed (where the reader's guess depends on how
 * much it has read), the parallel read throws {@link ParallelFallback} and the caller reads the
 * file again on one thread: both paths give exactly the same rows and rejections.
 */
import { createRequire } from 'node:module';
import { open } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ReconError } from '../errors.ts';
import { csvRecords, RecordSplitError } from './csv-records.ts';
import { decodedChunks, NotUtf8Error, type TextEncoding } from './decode.ts';
import type { LedgerColumns } from './ledger-columns.ts';
import { COPY_PIECE, PieceBuilder, type Piece } from './ledger-pieces.ts';
import type { RejectedRow } from './rejected.ts';

/** Files at least this large are parsed by two workers. */
export const PARALLEL_FROM_BYTES = 16 * 1024 * 1024;

/** What one worker reads: bytes [start, end) of the file, whose first line is `line`. */
export interface PartTask {
  file: string;
  encoding: TextEncoding;
  start: number;
  end: number;
  line: number;
  /** Records to pass over first (the header, for the first part). */
  skip: number;
  /** The part ends where another begins: it must end at a record boundary. */
  partEnd: boolean;
  columns: LedgerColumns;
}

/** A piece as a worker posts it: its text already encoded (and the memory handed over, not copied). */
export type EncodedPiece = Omit<PartPiece, 'text'> & { bytes: Uint8Array };

/** A piece of one part; the last one says whether a quoted value was never closed in the part. */
export interface PartPiece extends Piece {
  last: boolean;
  unclosedQuote: boolean;
}

/** Reads, checks and formats one part of the file, in pieces of about {@link COPY_PIECE}. */
export async function* partPieces(task: PartTask): AsyncGenerator<PartPiece> {
  const builder = new PieceBuilder(task.columns, task.file);
  let skip = task.skip;
  const chunks = decodedChunks(task.file, task.encoding, { start: task.start, end: task.end });
  for await (const records of csvRecords(chunks, { line: task.line, partEnd: task.partEnd })) {
    const from = Math.min(skip, records.length);
    skip -= from;
    builder.take(records, from);
    if (builder.text.length >= COPY_PIECE) yield { ...builder.flush(), last: false, unclosedQuote: false };
  }
  yield { ...builder.flush(), last: true, unclosedQuote: builder.unclosedQuote };
}

export type WorkerMessage =
  | ({ kind: 'piece' } & EncodedPiece)
  | ({ kind: 'done' } & EncodedPiece)
  | { kind: 'split' }
  | { kind: 'not-utf8'; byteOffset: number }
  | { kind: 'error'; message: string };

/** The parallel read cannot be trusted to equal the sequential one (or could not run): read the file on one thread. */
export class ParallelFallback extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'ParallelFallback';
  }
}

export interface Split {
  /** Byte offset where the second part starts (just after a line feed). */
  byte: number;
  /** Its line number. */
  line: number;
}

const SCAN_CHUNK = 1024 * 1024;
const QUOTE = 0x22;
const LF = 0x0a;

/** Where to cut the file in two (see above), or null when there is no such line feed. */
export async function findSplit(file: string, size: number): Promise<Split | null> {
  const middle = Math.floor(size / 2);
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(SCAN_CHUNK);
    let quotes = 0;
    let newlines = 0;
    for (let offset = 0; offset < size; ) {
      const { bytesRead } = await handle.read(buffer, 0, SCAN_CHUNK, offset);
      if (bytesRead === 0) break;
      const bytes = buffer.subarray(0, bytesRead);
      // Before the middle only the counts matter; from it on, the first even line feed.
      const counted = Math.max(0, Math.min(bytesRead, middle - offset));
      for (let i = bytes.indexOf(QUOTE); i !== -1 && i < counted; i = bytes.indexOf(QUOTE, i + 1)) quotes++;
      for (let i = bytes.indexOf(LF); i !== -1 && i < counted; i = bytes.indexOf(LF, i + 1)) newlines++;
      for (let i = counted; i < bytesRead; i++) {
        const byte = bytes[i];
        if (byte === QUOTE) quotes++;
        else if (byte === LF) {
          newlines++;
          if ((quotes & 1) === 0) return offset + i + 1 < size ? { byte: offset + i + 1, line: newlines + 1 } : null;
        }
      }
      offset += bytesRead;
    }
    return null;
  } finally {
    await handle.close();
  }
}

/** Pieces in flight from the worker: one being posted while the main thread sends the other. */
const CREDITS = 2;

/** Totals of a parallel read, filled in as the pieces come. */
export interface ParallelCounts {
  rows: number;
  staged: number;
  rejected: RejectedRow[];
}

/**
 * COPY text of the file read in two parts at once, as a generator for `Readable.from`: the
 * first part on this thread (which otherwise only passes pieces on), the second in a worker,
 * which is asked for another piece only when the stream has taken one of its pieces. The
 * worker's pieces go first whenever one is waiting. The worker is terminated however the
 * generator ends.
 */
export async function* parallelText(
  tasks: readonly [PartTask, PartTask],
  counts: ParallelCounts,
  progress: (rows: number) => void,
  signal: AbortSignal | undefined,
): AsyncGenerator<Buffer | string> {
  type Incoming = WorkerMessage | { kind: 'failed'; message: string };
  const inbox: Incoming[] = [];
  let notify: (() => void) | undefined;
  const deliver = (message: Incoming): void => {
    inbox.push(message);
    notify?.();
    notify = undefined;
  };
  const add = (piece: Omit<Piece, 'text'>): void => {
    counts.rows += piece.rows;
    counts.staged += piece.staged;
    for (const r of piece.rejected) counts.rejected.push(r);
    progress(counts.rows);
  };
  let worker: Worker | undefined;
  const local = partPieces(tasks[0]);
  try {
    worker = startWorker(tasks[1]);
    worker.on('message', deliver);
    worker.on('error', (error) => deliver({ kind: 'failed', message: String(error) }));
    worker.on('exit', (code) => deliver({ kind: 'failed', message: `worker exited with code ${code}` }));
    worker.postMessage(CREDITS);
    let localDone = false;
    let workerDone = false;
    while (!localDone || !workerDone) {
      if (signal?.aborted) throw new ReconError('INTERRUPTED', `ingest of ${tasks[0].file} interrupted`);
      if (!workerDone && inbox.length) {
        const message = inbox.shift()!;
        switch (message.kind) {
          case 'piece':
          case 'done':
            add(message);
            if (message.unclosedQuote) throw new ParallelFallback('a quoted value is never closed');
            if (message.kind === 'done') workerDone = true;
            else worker.postMessage(1);
            if (message.bytes.length) yield Buffer.from(message.bytes.buffer, message.bytes.byteOffset, message.bytes.length);
            break;
          case 'split':
            throw new ParallelFallback('the first part does not end at a record boundary');
          case 'not-utf8':
            throw new NotUtf8Error(message.byteOffset);
          case 'error':
            throw new Error(`ledger parse worker failed: ${message.message}`);
          case 'failed':
            throw new ParallelFallback(`ledger parse worker failed: ${message.message}`);
        }
        continue;
      }
      if (!localDone) {
        let next: IteratorResult<PartPiece>;
        try {
          next = await local.next();
        } catch (error) {
          if (error instanceof RecordSplitError) throw new ParallelFallback('the first part does not end at a record boundary');
          throw error;
        }
        if (next.done) {
          localDone = true;
          continue;
        }
        const piece = next.value;
        add(piece);
        if (piece.unclosedQuote) throw new ParallelFallback('a quoted value is never closed');
        if (piece.text) yield piece.text;
        continue;
      }
      await new Promise<void>((resolve) => (notify = resolve));
    }
  } finally {
    await local.return(undefined).catch(() => undefined);
    await worker?.terminate().catch(() => undefined);
  }
}

/**
 * The worker runs the TypeScript sources as the rest of the program does, through tsx (its
 * CommonJS hook: Node 20 does not apply ESM loader hooks inside worker threads).
 */
function startWorker(task: PartTask): Worker {
  const require = createRequire(import.meta.url);
  const api = require.resolve('tsx/cjs/api');
  const entry = fileURLToPath(new URL('./ledger-parse-worker.ts', import.meta.url));
  const boot = `require(${JSON.stringify(api)}).register(); require(${JSON.stringify(entry)});`;
  return new Worker(boot, { eval: true, execArgv: [], workerData: task });
}
