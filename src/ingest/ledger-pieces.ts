import { CsvReader, recordOf, type RecordSpan } from './csv-records.ts';
import { utf8Chunks, withoutMarkers, type TextEncoding } from './decode.ts';
import type { LedgerColumns } from './ledger-columns.ts';
import { readLedgerRow } from './ledger-row.ts';
import { MAX_LINE_GROWTH, writePlainRow } from './ledger-row-bytes.ts';
import { copyLine } from './ledger-copy.ts';
import type { RejectedRow } from './rejected.ts';

/** COPY text is handed on in pieces of at least this size. */
export const COPY_PIECE = 256 * 1024;
const BUFFER_SIZE = 2 * COPY_PIECE;

/** What a run of records gave since the last piece. */
export interface Piece {
  /** COPY text lines of the rows that were read. */
  bytes: Buffer[];
  /** Data records read. */
  rows: number;
  /** Rows in `bytes`. */
  copied: number;
  rejected: RejectedRow[];
}

/**
 * Reads, checks and formats ledger records into COPY text, collecting the rows that cannot be
 * read: the plainly good ones straight from bytes (ledger-row-bytes.ts), the rest through
 * {@link readLedgerRow}, which words the rejections.
 */
class PieceBuilder {
  private out = Buffer.allocUnsafe(BUFFER_SIZE);
  private pos = 0;
  private filled: Buffer[] = [];
  private rows = 0;
  private copied = 0;
  private rejected: RejectedRow[] = [];

  constructor(
    private readonly columns: LedgerColumns,
    private readonly file: string,
    private readonly options: PieceOptions,
  ) {}

  /** Takes one data record (a {@link CsvReader} callback). */
  readonly take = (span: RecordSpan): void => {
    this.rows++;
    const refused = this.options.refused?.get(span.line);
    if (refused !== undefined) {
      const record = recordOf(span);
      const outcome = readLedgerRow(record, this.columns);
      const entryId = outcome.ok ? outcome.entry.entry_id : outcome.entryId;
      this.rejected.push({ file: this.file, line: span.line, entryId, reason: refused, raw: withoutMarkers(record.raw) });
      return;
    }
    this.room(span.end - span.start + MAX_LINE_GROWTH);
    const end = this.options.fromBytes !== false ? writePlainRow(span, this.columns, this.out, this.pos) : -1;
    if (end >= 0) {
      this.pos = end;
      this.copied++;
      return;
    }
    const record = recordOf(span);
    const outcome = readLedgerRow(record, this.columns);
    if (!outcome.ok) {
      this.rejected.push({ file: this.file, line: outcome.line, entryId: outcome.entryId, reason: outcome.reason, raw: withoutMarkers(record.raw) });
      return;
    }
    const line = copyLine(outcome.entry, record.line);
    this.room(Buffer.byteLength(line));
    this.pos += this.out.write(line, this.pos, 'utf8');
    this.copied++;
  };

  /** Bytes of COPY text waiting. */
  get size(): number {
    return this.pos + this.filled.reduce((sum, b) => sum + b.length, 0);
  }

  flush(): Piece {
    if (this.pos) this.filled.push(this.out.subarray(0, this.pos));
    const piece: Piece = { bytes: this.filled, rows: this.rows, copied: this.copied, rejected: this.rejected };
    this.out = Buffer.allocUnsafe(BUFFER_SIZE);
    this.pos = 0;
    this.filled = [];
    this.rows = 0;
    this.copied = 0;
    this.rejected = [];
    return piece;
  }

  /** Makes room for `bytes` more, setting the written part aside when the buffer is short of it. */
  private room(bytes: number): void {
    if (this.out.length - this.pos >= bytes) return;
    if (this.pos) this.filled.push(this.out.subarray(0, this.pos));
    this.out = Buffer.allocUnsafe(Math.max(BUFFER_SIZE, bytes));
    this.pos = 0;
  }
}

export interface PieceOptions {
  /** Off only in tests, which compare the two readers. */
  fromBytes?: boolean;
  /** Rows PostgreSQL refused on an earlier try, by line: rejected with the reason given. */
  refused?: ReadonlyMap<number, string>;
  /** Stops the reading (with the signal's reason) between chunks: a file with no rows in it for gigabytes yields no piece to stop at. */
  signal?: AbortSignal;
}

/**
 * The data rows of a ledger file (its first record is the header, already mapped to `columns`)
 * read, checked and formatted, in pieces of about {@link COPY_PIECE}.
 */
export async function* ledgerPieces(file: string, encoding: TextEncoding, columns: LedgerColumns, options: PieceOptions = {}): AsyncGenerator<Piece> {
  const builder = new PieceBuilder(columns, file, options);
  const reader = new CsvReader();
  let header = true;
  const take = (span: RecordSpan): void => {
    if (header) header = false;
    else builder.take(span);
  };
  for await (const chunk of utf8Chunks(file, encoding)) {
    options.signal?.throwIfAborted();
    reader.push(chunk, take);
    if (builder.size >= COPY_PIECE) yield builder.flush();
  }
  reader.push(null, take);
  yield builder.flush();
}
