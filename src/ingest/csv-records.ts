/**
 * A streaming CSV reader (RFC 4180, as Excel and finance systems write it) that keeps what a
 * rejected row needs: the line a text editor shows where the record starts, and its original
 * text. We read the file ourselves rather than with csv-parse because csv-parse manages about
 * 100,000 records/s on this machine, a tenth of what ingesting a million-row ledger needs; lines
 * without quotes (nearly all of them) take a `split(',')` fast path.
 *
 * Lenient where exports are sloppy: a quote inside an unquoted value is literal, text after a
 * closing quote is kept, LF or CRLF, blank lines skipped. A quoted value never closed is one bad
 * record (its first line), and reading resumes on the next line, so one stray quote cannot
 * swallow the rest of the file.
 */
export interface CsvRecord {
  fields: string[];
  /** 1-based physical line where the record starts. */
  line: number;
  /** The record's text, line terminator excluded. */
  raw: string;
  /** Set when the record could not be split into fields (`fields` is then a best guess). */
  malformed?: string;
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const CR = 0x0d;
const LF = 0x0a;
/** A quoted value spanning more than this is a stray quote, not a value. */
const MAX_RECORD_CHARS = 1 << 20;

export interface CsvRecordsOptions {
  /** Line number of the first line of `chunks` (1 unless reading a part of a file). */
  line?: number;
  /**
   * The chunks are a part of a file that must end exactly at a record boundary, with the rest
   * of the file still to come: the end is not treated as the end of the file, and text left
   * over in an unfinished record throws {@link RecordSplitError}.
   */
  partEnd?: boolean;
}

/** A part of a file did not end at a record boundary (see {@link CsvRecordsOptions.partEnd}). */
export class RecordSplitError extends Error {
  constructor() {
    super('the part does not end at a record boundary');
    this.name = 'RecordSplitError';
  }
}

/** Records in batches (one per chunk read), so the caller pays one `await` per batch. */
export async function* csvRecords(chunks: AsyncIterable<string>, options: CsvRecordsOptions = {}): AsyncGenerator<CsvRecord[]> {
  const reader = new CsvReader(options.line ?? 1);
  for await (const chunk of chunks) {
    const batch = reader.push(chunk, false);
    if (batch.length) yield batch;
  }
  if (options.partEnd) {
    if (reader.pending()) throw new RecordSplitError();
    return;
  }
  const last = reader.push('', true);
  if (last.length) yield last;
}

type Scan = { kind: 'record'; fields: string[]; end: number; next: number } | { kind: 'incomplete' } | { kind: 'unclosed' };

class CsvReader {
  private text = '';
  private pos = 0;
  private line: number;
  /** Position of the next `"` at or after `pos` (-1: none in `text`), so we never rescan. */
  private nextQuote = -2;

  constructor(line: number) {
    this.line = line;
  }

  /** True when text of an unfinished record is waiting for more. */
  pending(): boolean {
    return this.pos < this.text.length;
  }

  push(chunk: string, eof: boolean): CsvRecord[] {
    this.text = this.pos < this.text.length ? this.text.slice(this.pos) + chunk : chunk;
    this.pos = 0;
    this.nextQuote = -2;
    const records: CsvRecord[] = [];
    const text = this.text;
    while (this.pos < text.length) {
      const start = this.pos;
      const newline = text.indexOf('\n', start);
      if (newline === -1 && !eof) break;
      const lineEnd = newline === -1 ? text.length : newline;
      const contentEnd = lineEnd > start && text.charCodeAt(lineEnd - 1) === CR ? lineEnd - 1 : lineEnd;
      if (contentEnd === start) {
        this.skipLine(lineEnd); // blank line
        continue;
      }
      if (this.nextQuote !== -1 && this.nextQuote < start) this.nextQuote = text.indexOf('"', start);
      if (this.nextQuote === -1 || this.nextQuote >= lineEnd) {
        const raw = text.slice(start, contentEnd);
        records.push({ fields: raw.split(','), line: this.line, raw });
        this.skipLine(lineEnd);
        continue;
      }
      const scan = this.scanQuoted(start, eof);
      if (scan.kind === 'incomplete' && text.length - start <= MAX_RECORD_CHARS) break;
      if (scan.kind !== 'record') {
        // fields split naively, so that at least an entry id before the stray quote is readable
        const raw = text.slice(start, contentEnd);
        records.push({ fields: raw.split(','), line: this.line, raw, malformed: 'a quoted value is never closed' });
        this.skipLine(lineEnd);
        continue;
      }
      const raw = text.slice(start, scan.end);
      records.push({ fields: scan.fields, line: this.line, raw });
      this.line += 1 + countNewlines(raw);
      this.pos = scan.next;
    }
    return records;
  }

  private skipLine(lineEnd: number): void {
    this.line += 1;
    this.pos = lineEnd + 1;
  }

  /** One record that has a quote somewhere, character by character. */
  private scanQuoted(start: number, eof: boolean): Scan {
    const text = this.text;
    const fields: string[] = [];
    let i = start;
    let newline = -2; // next LF at or after i, found lazily
    let comma = -2; // next comma at or after i
    for (;;) {
      let value = '';
      if (text.charCodeAt(i) === QUOTE) {
        i++;
        for (;;) {
          const quote = text.indexOf('"', i);
          if (quote === -1) return eof ? { kind: 'unclosed' } : { kind: 'incomplete' };
          value += text.slice(i, quote);
          if (quote + 1 >= text.length && !eof) return { kind: 'incomplete' }; // `""` split across chunks?
          if (text.charCodeAt(quote + 1) === QUOTE) {
            value += '"';
            i = quote + 2;
            continue;
          }
          i = quote + 1;
          break;
        }
      }
      if (newline !== -1 && newline < i) newline = text.indexOf('\n', i);
      if (comma !== -1 && comma < i) comma = text.indexOf(',', i);
      const stop = Math.min(comma === -1 ? text.length : comma, newline === -1 ? text.length : newline);
      value += text.slice(i, stop > i && text.charCodeAt(stop - 1) === CR && text.charCodeAt(stop) === LF ? stop - 1 : stop);
      fields.push(value);
      i = stop;
      if (i >= text.length) return eof ? { kind: 'record', fields, end: i, next: i } : { kind: 'incomplete' };
      if (text.charCodeAt(i) === COMMA) {
        i++;
        continue;
      }
      // a line feed ends the record
      return { kind: 'record', fields, end: text.charCodeAt(i - 1) === CR ? i - 1 : i, next: i + 1 };
    }
  }
}

function countNewlines(text: string): number {
  let count = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) count++;
  return count;
}
