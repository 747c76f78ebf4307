/**
 * A streaming CSV reader (RFC 4180, as Excel and finance systems write it) over UTF-8 bytes, that
 * keeps what a rejected row needs: the line a text editor shows where the record starts, and its
 * original text. We read the bytes ourselves rather than with csv-parse because a million-row
 * ledger needs several times the ~100,000 records/s csv-parse manages on this machine, and
 * because most ledger rows can then go from the file's bytes to COPY bytes without becoming
 * JavaScript strings at all (ledger-pieces.ts). Only ASCII bytes delimit, so UTF-8 text (and
 * Windows-874 transcoded to UTF-8) passes through untouched.
 *
 * Lenient where exports are sloppy: a quote inside an unquoted value is literal, text after a
 * closing quote is kept, LF or CRLF, blank lines skipped. A quoted value never closed is one bad
 * record (its first line), and reading resumes on the next line, so one stray quote cannot
 * swallow the rest of the file. A record longer than {@link MAX_RECORD_BYTES} (a file of NUL bytes,
 * gigabytes without a line end) is one bad record, its first bytes kept, and the rest of its line
 * is skipped without being held: memory stays bounded whatever the file holds.
 */

/**
 * One record as byte ranges of `bytes`, valid only during the callback that receives it (the
 * reader reuses it and its buffer).
 */
export interface RecordSpan {
  bytes: Buffer;
  /** 1-based physical line where the record starts. */
  line: number;
  /** The record's bytes: [start, end), line terminator excluded. */
  start: number;
  end: number;
  /** Field `k` is the bytes [fieldStarts[k], fieldEnds[k]), quotes included (see {@link fieldValue}). */
  count: number;
  fieldStarts: Int32Array;
  fieldEnds: Int32Array;
  /**
   * Every quoted field is exactly `"…"` with no doubled quote inside, and no value holds a
   * backslash, a control character (tab, CR and line feed included) or a 0xEF byte: each value
   * is its bytes (quotes off), and safe in COPY text.
   */
  plain: boolean;
  /** Set when the record could not be split into fields (the fields are then its first line split at commas). */
  malformed: string | undefined;
}

/** A record as strings, for callers that want them (header, plan report, rejected rows). */
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
/** A quoted value spanning more than this is a stray quote, not a value; a record longer than this is not a ledger row. */
export const MAX_RECORD_BYTES = 1 << 20;
const UNCLOSED = 'a quoted value is never closed';
const TOO_LONG = `a record longer than ${MAX_RECORD_BYTES / (1 << 20)} MiB without a line end (only its start is shown)`;
/** How much of a record that is too long is kept for rejected.csv. */
const TOO_LONG_SHOWN = 256;

// Byte classes: outside quotes, 1 ends a value; 2 needs a closer look (may make a record not plain).
const OUTSIDE = new Uint8Array(256);
// Inside quotes, 1 may end the value; 2 is kept but makes the record not plain.
const INSIDE = new Uint8Array(256);
// Control characters (a row holding one is rejected: PostgreSQL refuses NUL outright), and 0xEF,
// which leads the markers decode.ts puts on text unreadable in the file's encoding: such records
// go to the string reader, which rejects them.
for (let b = 0; b < 0x20; b++) OUTSIDE[b] = INSIDE[b] = 2;
OUTSIDE[0x7f] = INSIDE[0x7f] = 2;
OUTSIDE[0xef] = INSIDE[0xef] = 2;
OUTSIDE[0x5c] = INSIDE[0x5c] = 2; // backslash
OUTSIDE[COMMA] = 1;
OUTSIDE[LF] = 1;
INSIDE[QUOTE] = 1;

export class CsvReader {
  private rest: Buffer = Buffer.alloc(0);
  private line = 1;
  /** Dropping the rest of a record that was too long, up to its line end. */
  private skipping = false;
  /** Line feeds inside the quoted values of the record just scanned. */
  private lineFeeds = 0;
  private readonly span: RecordSpan = {
    bytes: this.rest,
    line: 0,
    start: 0,
    end: 0,
    count: 0,
    fieldStarts: new Int32Array(64),
    fieldEnds: new Int32Array(64),
    plain: true,
    malformed: undefined,
  };

  /**
   * Calls `onRecord` for each record completed by `chunk`; `null` is the end of the file, which
   * completes the last record.
   */
  push(chunk: Buffer | null, onRecord: (record: RecordSpan) => void): void {
    const eof = chunk === null;
    const bytes = chunk === null ? this.rest : this.rest.length ? Buffer.concat([this.rest, chunk]) : chunk;
    const length = bytes.length;
    const span = this.span;
    span.bytes = bytes;
    let pos = 0;
    if (this.skipping) {
      const newline = bytes.indexOf(LF);
      if (newline === -1) {
        this.rest = Buffer.alloc(0);
        return;
      }
      this.skipping = false;
      pos = newline + 1;
    }
    while (pos < length) {
      const first = bytes[pos];
      if (first === LF) {
        this.line++; // blank line
        pos++;
        continue;
      }
      if (first === CR && (pos + 1 < length ? bytes[pos + 1] === LF : eof)) {
        this.line++;
        pos += 2;
        continue;
      }
      const next = this.scan(bytes, pos, eof);
      if (next === -1) {
        if (length - pos <= MAX_RECORD_BYTES) break; // needs more bytes
        this.tooLong(bytes, pos, length);
        span.line = this.line;
        onRecord(span);
        this.line += 1 + this.lineFeeds;
        this.skipping = true;
        pos = length;
        break;
      }
      span.line = this.line;
      onRecord(span);
      this.line += 1 + this.lineFeeds;
      pos = next;
    }
    this.rest = pos < length ? Buffer.from(bytes.subarray(pos)) : Buffer.alloc(0);
  }

  /**
   * Splits the record at `pos` into the span; returns where the next record starts, or -1 when
   * the record is not complete in `bytes`.
   */
  private scan(bytes: Buffer, pos: number, eof: boolean): number {
    const span = this.span;
    const length = bytes.length;
    let starts = span.fieldStarts;
    let ends = span.fieldEnds;
    let count = 0;
    let plain = true;
    let lineFeeds = 0;
    let i = pos;
    for (;;) {
      const fieldStart = i;
      if (i < length && bytes[i] === QUOTE) {
        i++;
        for (;;) {
          let c = 0;
          while (i < length && (c = INSIDE[bytes[i]!]!) !== 1) {
            if (c === 2) {
              plain = false;
              if (bytes[i] === LF) lineFeeds++;
            }
            i++;
          }
          if (i >= length || (i + 1 >= length && !eof)) {
            // no closing quote yet, or a quote that may be the first of a doubled one
            if (!eof && length - pos <= MAX_RECORD_BYTES) return -1;
            if (i >= length) return this.unclosed(bytes, pos, eof);
          }
          if (bytes[i + 1] === QUOTE) {
            plain = false;
            i += 2;
            continue;
          }
          i++;
          break;
        }
      }
      const after = i; // the value's unquoted part (all of it, for an unquoted value)
      let c = 0;
      while (i < length && (c = OUTSIDE[bytes[i]!]!) !== 1) {
        // a CR is plain only as the first half of CRLF or the file's very last byte
        if (c === 2 && !(bytes[i] === CR && (i + 1 === length ? eof : bytes[i + 1] === LF))) plain = false;
        i++;
      }
      if (i >= length && !eof) return -1;
      const fieldEnd = i > after && bytes[i - 1] === CR && (i >= length || bytes[i] === LF) ? i - 1 : i;
      if (fieldEnd > after && bytes[fieldStart] === QUOTE) plain = false; // text after the closing quote
      if (count === starts.length) [starts, ends] = this.grow();
      starts[count] = fieldStart;
      ends[count] = fieldEnd;
      count++;
      if (i < length && bytes[i] === COMMA) {
        i++;
        continue;
      }
      span.start = pos;
      span.end = fieldEnd;
      span.count = count;
      span.plain = plain;
      span.malformed = undefined;
      this.lineFeeds = lineFeeds;
      return i < length ? i + 1 : length;
    }
  }

  /** The record's first line as a bad record, split at commas so that an entry id before the stray quote is readable. */
  private unclosed(bytes: Buffer, pos: number, eof: boolean): number {
    const newline = bytes.indexOf(LF, pos);
    if (newline === -1 && !eof) return -1;
    const lineEnd = newline === -1 ? bytes.length : newline;
    const end = lineEnd > pos && bytes[lineEnd - 1] === CR ? lineEnd - 1 : lineEnd;
    this.badRecord(bytes, pos, end, UNCLOSED);
    this.lineFeeds = 0;
    return newline === -1 ? bytes.length : newline + 1;
  }

  /**
   * A record with no end in sight: its first bytes as a bad record; the caller skips the rest of
   * its line. Line feeds inside quoted values of what was read still count as lines.
   */
  private tooLong(bytes: Buffer, pos: number, length: number): void {
    this.badRecord(bytes, pos, pos + TOO_LONG_SHOWN, TOO_LONG);
    let lineFeeds = 0;
    for (let at = bytes.indexOf(LF, pos); at !== -1 && at < length; at = bytes.indexOf(LF, at + 1)) lineFeeds++;
    this.lineFeeds = lineFeeds;
  }

  /** The bytes [pos, end) as a bad record, split at commas. */
  private badRecord(bytes: Buffer, pos: number, end: number, reason: string): void {
    const span = this.span;
    let count = 0;
    let fieldStart = pos;
    for (let i = pos; i <= end; i++) {
      if (i < end && bytes[i] !== COMMA) continue;
      if (count === span.fieldStarts.length) this.grow();
      span.fieldStarts[count] = fieldStart;
      span.fieldEnds[count] = i;
      count++;
      fieldStart = i + 1;
    }
    span.start = pos;
    span.end = end;
    span.count = count;
    span.plain = false;
    span.malformed = reason;
  }

  private grow(): [Int32Array, Int32Array] {
    const span = this.span;
    const starts = new Int32Array(span.fieldStarts.length * 2);
    const ends = new Int32Array(span.fieldEnds.length * 2);
    starts.set(span.fieldStarts);
    ends.set(span.fieldEnds);
    span.fieldStarts = starts;
    span.fieldEnds = ends;
    return [starts, ends];
  }
}

/** Field `k`'s value: its bytes as text, quotes taken off and doubled quotes undone. */
export function fieldValue(span: RecordSpan, k: number): string {
  const { bytes } = span;
  const start = span.fieldStarts[k]!;
  const end = span.fieldEnds[k]!;
  if (span.malformed || bytes[start] !== QUOTE) return bytes.toString('utf8', start, end);
  let value = '';
  let i = start + 1;
  for (;;) {
    const quote = bytes.indexOf(QUOTE, i);
    if (quote === -1 || quote >= end) return value + bytes.toString('utf8', i, end); // unreachable for a well-formed record
    value += bytes.toString('utf8', i, quote);
    if (bytes[quote + 1] === QUOTE && quote + 1 < end) {
      value += '"';
      i = quote + 2;
      continue;
    }
    return value + bytes.toString('utf8', quote + 1, end); // text after the closing quote is kept
  }
}

/** The span as strings (fresh ones: they do not keep the read buffer alive). */
export function recordOf(span: RecordSpan): CsvRecord {
  const fields: string[] = [];
  for (let k = 0; k < span.count; k++) fields.push(fieldValue(span, k));
  const record: CsvRecord = { fields, line: span.line, raw: span.bytes.toString('utf8', span.start, span.end) };
  if (span.malformed) record.malformed = span.malformed;
  return record;
}

/** Records as strings, in batches (one per chunk read), so the caller pays one `await` per batch. */
export async function* csvRecords(chunks: AsyncIterable<Buffer>): AsyncGenerator<CsvRecord[]> {
  const reader = new CsvReader();
  let batch: CsvRecord[] = [];
  const take = (span: RecordSpan): void => {
    batch.push(recordOf(span));
  };
  for await (const chunk of chunks) {
    reader.push(chunk, take);
    if (batch.length) yield batch;
    batch = [];
  }
  reader.push(null, take);
  if (batch.length) yield batch;
}
