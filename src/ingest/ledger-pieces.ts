import type { CsvRecord } from './csv-records.ts';
import type { LedgerColumns } from './ledger-columns.ts';
import { readLedgerRow } from './ledger-row.ts';
import { mayNeedEscape, stagedLine } from './ledger-stage.ts';
import { detachedText, type RejectedRow } from './rejected.ts';

/** Staged text is sent to COPY in pieces of about this size. */
export const COPY_PIECE = 256 * 1024;

/** What a run of records gave since the last {@link PieceBuilder.flush}. */
export interface Piece {
  /** COPY text lines of the rows that were read. */
  text: string;
  /** Data records read. */
  rows: number;
  /** Rows in `text`. */
  staged: number;
  rejected: RejectedRow[];
}

/**
 * Reads, checks and formats ledger records into COPY text, collecting the rows that cannot be
 * read. Shared by the single-threaded ingest and the parse workers of a large file.
 */
export class PieceBuilder {
  text = '';
  private rows = 0;
  private staged = 0;
  private rejected: RejectedRow[] = [];
  /** Set once a record with a quoted value never closed was read (the reader's guess). */
  unclosedQuote = false;

  constructor(
    private readonly columns: LedgerColumns,
    private readonly file: string,
  ) {}

  take(records: readonly CsvRecord[], from: number): void {
    const { columns, file } = this;
    let text = this.text;
    for (let i = from; i < records.length; i++) {
      const record = records[i]!;
      this.rows++;
      if (record.malformed) this.unclosedQuote = true;
      const outcome = readLedgerRow(record, columns);
      if (outcome.ok) {
        text += stagedLine(outcome.entry, record.line, !mayNeedEscape(record.raw));
        this.staged++;
      } else {
        this.rejected.push({ file, line: outcome.line, entryId: outcome.entryId, reason: outcome.reason, raw: detachedText(record.raw) });
      }
    }
    this.text = text;
  }

  flush(): Piece {
    const piece: Piece = { text: this.text, rows: this.rows, staged: this.staged, rejected: this.rejected };
    this.text = '';
    this.rows = 0;
    this.staged = 0;
    this.rejected = [];
    return piece;
  }
}
