import type { RecordSpan } from './csv-records.ts';
import { LEDGER_FIELDS, type LedgerColumns } from './ledger-columns.ts';
import { BUDDHIST_ERA_FROM, BUDDHIST_ERA_OFFSET, EARLIEST_YEAR, isCalendarDate, isQrFamily, LATEST_YEAR, SOURCE_TYPES } from '../vocabulary.ts';
import { MAX_VALUE_LENGTH } from './values.ts';

/**
 * The ledger row reader of ledger-row.ts, for the rows that are plainly good, done on the
 * record's bytes: checked and written as a COPY text line straight into `out`, with no string
 * or object made per row, which is what lets a million-row file go in at PostgreSQL's pace.
 *
 * It only ever says yes or "ask the other reader": anything unusual (a value to trim, a
 * separator out of place, an unknown type, a bad date, a rejection of any kind) returns -1, and
 * the caller reads the record with {@link readLedgerRow}, which decides and words the reason. So
 * the one rule this file must keep is that a line it writes is exactly the line `copyLine`
 * writes for that record (test/ingest/ledger-row-bytes.unit.test.ts compares the two on thousands of
 * generated records).
 */

const TAB = 0x09;
const NEWLINE = 0x0a;
const QUOTE = 0x22;
const COMMA = 0x2c;
const MINUS = 0x2d;
const DOT = 0x2e;
const SLASH = 0x2f;
const ZERO = 0x30;
const NINE = 0x39;
const NULL_TEXT = [0x5c, 0x4e]; // \N

const words = (...list: string[]): Uint8Array[] => list.map((w) => Buffer.from(w, 'latin1'));
const ENTRY_TYPES = words('charge', 'refund', 'void');
const SOURCE_TYPE_WORDS = words(...SOURCE_TYPES);
/** Indexes into SOURCE_TYPE_WORDS of the QR family (inquired by charge or order id). */
const QR_FAMILY = new Set(SOURCE_TYPES.flatMap((type, i) => (isQrFamily(type) ? [i] : [])));
const AMOUNT_DIGITS = 12;
const MAX_TERM = 999;
/** The most a line can grow beyond its record's bytes: NULLs, padded dates and decimals, its line number. */
export const MAX_LINE_GROWTH = 256;

/**
 * Writes `span` as a COPY line at `out[pos]` and returns the position after it, or -1 when the
 * record must be read by {@link readLedgerRow} (nothing written then counts). `out` must have
 * room for the record's length plus {@link MAX_LINE_GROWTH}.
 */
export function writePlainRow(span: RecordSpan, columns: LedgerColumns, out: Buffer, pos: number): number {
  if (!span.plain || span.count !== columns.width) return -1;
  // a value of more bytes than the limit has in characters may be too long: the string reader counts
  if (span.end - span.start > MAX_VALUE_LENGTH && hasLongValue(span, columns)) return -1;
  const { index } = columns;
  const b = span.bytes;
  let o = writeInteger(out, pos, span.line);

  // entry_id
  let s = startOf(span, index.entry_id);
  let e = endOf(span, index.entry_id);
  if (s >= e || untrimmed(b, s, e)) return -1;
  out[o++] = TAB;
  o = copy(b, s, e, out, o);

  // entry_type
  const entryType = wordAt(span, index.entry_type, ENTRY_TYPES);
  if (entryType < 0) return -1;
  out[o++] = TAB;
  o = copy(ENTRY_TYPES[entryType]!, 0, ENTRY_TYPES[entryType]!.length, out, o);

  // reference_order, charge_id, order_id: one of them names the charge (checked below)
  const hasReference = startOf(span, index.reference_order) < endOf(span, index.reference_order);
  const hasCharge = startOf(span, index.charge_id) < endOf(span, index.charge_id);
  const hasOrder = startOf(span, index.order_id) < endOf(span, index.order_id);
  if ((o = optionalText(span, index.reference_order, out, o)) < 0) return -1;
  if ((o = optionalText(span, index.charge_id, out, o)) < 0) return -1;
  if ((o = optionalText(span, index.order_id, out, o)) < 0) return -1;

  // transaction_date, entry_date (the transaction's when empty)
  out[o++] = TAB;
  const transactionDate = o;
  if ((o = writeDate(span, index.transaction_date, out, o)) < 0) return -1;
  out[o++] = TAB;
  if (startOf(span, index.entry_date) < endOf(span, index.entry_date)) {
    if ((o = writeDate(span, index.entry_date, out, o)) < 0) return -1;
  } else {
    o = copy(out, transactionDate, transactionDate + 10, out, o);
  }

  // source_type
  const sourceType = wordAt(span, index.source_type, SOURCE_TYPE_WORDS);
  if (sourceType < 0) return -1;
  if (QR_FAMILY.has(sourceType) ? !hasCharge && !hasOrder : !hasCharge && !hasReference) return -1;
  out[o++] = TAB;
  o = copy(SOURCE_TYPE_WORDS[sourceType]!, 0, SOURCE_TYPE_WORDS[sourceType]!.length, out, o);

  // currency: three ASCII letters, upper-cased
  s = startOf(span, index.currency);
  e = endOf(span, index.currency);
  if (e - s !== 3) return -1;
  out[o++] = TAB;
  for (; s < e; s++) {
    const upper = b[s]! & 0xdf;
    if (upper < 0x41 || upper > 0x5a) return -1;
    out[o++] = upper;
  }

  // amount (positive), mdr, vat, net_amount
  out[o++] = TAB;
  if ((o = writeDecimal(span, index.amount, true, out, o)) < 0) return -1;
  if ((o = optionalFee(span, index.mdr, out, o)) < 0) return -1;
  if ((o = optionalFee(span, index.vat, out, o)) < 0) return -1;
  if ((o = optionalFee(span, index.net_amount, out, o)) < 0) return -1;

  if ((o = optionalText(span, index.refund_id, out, o)) < 0) return -1;
  if ((o = optionalText(span, index.mid, out, o)) < 0) return -1;
  if ((o = optionalText(span, index.plan_id, out, o)) < 0) return -1;
  if ((o = optionalText(span, index.ipan_mode, out, o)) < 0) return -1;

  // term: a whole number up to 999, written without leading zeros
  out[o++] = TAB;
  s = startOf(span, index.term);
  e = endOf(span, index.term);
  if (s >= e) o = writeNull(out, o);
  else {
    let term = 0;
    for (; s < e; s++) {
      const c = b[s]!;
      if (c < ZERO || c > NINE) return -1;
      term = term * 10 + c - ZERO;
      if (term > MAX_TERM) return -1;
    }
    o = writeInteger(out, o, term);
  }

  if ((o = optionalText(span, index.supplier_no, out, o)) < 0) return -1;
  if ((o = optionalText(span, index.model_no, out, o)) < 0) return -1;
  if ((o = optionalText(span, index.product_type, out, o)) < 0) return -1;
  if ((o = optionalFee(span, index.convfee_amount, out, o)) < 0) return -1;
  if ((o = optionalFee(span, index.convfee_vat, out, o)) < 0) return -1;
  // captured_amount: a partial capture is rare, and its rules (a charge row, at most the
  // amount) are the string reader's alone
  if (startOf(span, index.captured_amount) < endOf(span, index.captured_amount)) return -1;
  out[o++] = TAB;
  o = writeNull(out, o);
  out[o++] = NEWLINE;
  return o;
}

function hasLongValue(span: RecordSpan, columns: LedgerColumns): boolean {
  for (const field of LEDGER_FIELDS) {
    const at = columns.index[field];
    if (at >= 0 && span.fieldEnds[at]! - span.fieldStarts[at]! > MAX_VALUE_LENGTH) return true;
  }
  return false;
}

// A plain record's quoted value is exactly `"…"`: its value is the bytes between the quotes.
function startOf(span: RecordSpan, at: number): number {
  if (at < 0) return 0;
  const start = span.fieldStarts[at]!;
  return span.bytes[start] === QUOTE ? start + 1 : start;
}

function endOf(span: RecordSpan, at: number): number {
  if (at < 0) return 0;
  const start = span.fieldStarts[at]!;
  const end = span.fieldEnds[at]!;
  return span.bytes[start] === QUOTE ? end - 1 : end;
}

/** The string reader trims a value with a space or control character at either end. */
function untrimmed(b: Buffer, s: number, e: number): boolean {
  return b[s]! <= 0x20 || b[e - 1]! <= 0x20;
}

/** A text column: its bytes, or NULL when empty; -1 when it would be trimmed. */
function optionalText(span: RecordSpan, at: number, out: Buffer, o: number): number {
  out[o++] = TAB;
  const s = startOf(span, at);
  const e = endOf(span, at);
  if (s >= e) return writeNull(out, o);
  if (untrimmed(span.bytes, s, e)) return -1;
  return copy(span.bytes, s, e, out, o);
}

/** A fee column: a signed decimal, or NULL when empty. */
function optionalFee(span: RecordSpan, at: number, out: Buffer, o: number): number {
  out[o++] = TAB;
  if (startOf(span, at) >= endOf(span, at)) return writeNull(out, o);
  return writeDecimal(span, at, false, out, o);
}

/** Which of `list` the value is, ASCII letters compared case-insensitively; -1 for none. */
function wordAt(span: RecordSpan, at: number, list: readonly Uint8Array[]): number {
  const b = span.bytes;
  const s = startOf(span, at);
  const length = endOf(span, at) - s;
  next: for (let w = 0; w < list.length; w++) {
    const word = list[w]!;
    if (word.length !== length) continue;
    for (let k = 0; k < length; k++) {
      const c = b[s + k]!;
      if ((c >= 0x41 && c <= 0x5a ? c | 0x20 : c) !== word[k]) continue next;
    }
    return w;
  }
  return -1;
}

/** `YYYY-M-D` or `D/M/YYYY` (Buddhist-era years converted) as `YYYY-MM-DD`; -1 otherwise. */
function writeDate(span: RecordSpan, at: number, out: Buffer, o: number): number {
  const b = span.bytes;
  const s = startOf(span, at);
  const e = endOf(span, at);
  let year: number, month: number, day: number;
  if (e - s >= 8 && b[s + 4] === MINUS) {
    year = digits(b, s, s + 4);
    const dash = b[s + 6] === MINUS ? s + 6 : b[s + 7] === MINUS ? s + 7 : -1;
    if (dash < 0) return -1;
    month = digits(b, s + 5, dash);
    day = e - dash - 1 <= 2 ? digits(b, dash + 1, e) : -1;
  } else {
    const slash1 = b[s + 1] === SLASH ? s + 1 : b[s + 2] === SLASH ? s + 2 : -1;
    if (slash1 < 0) return -1;
    const slash2 = b[slash1 + 2] === SLASH ? slash1 + 2 : b[slash1 + 3] === SLASH ? slash1 + 3 : -1;
    if (slash2 < 0 || e - slash2 - 1 !== 4) return -1;
    day = digits(b, s, slash1);
    month = digits(b, slash1 + 1, slash2);
    year = digits(b, slash2 + 1, e);
  }
  if (year < 0 || month < 0 || day < 0) return -1;
  if (year >= BUDDHIST_ERA_FROM) year -= BUDDHIST_ERA_OFFSET;
  if (year < EARLIEST_YEAR || year > LATEST_YEAR || !isCalendarDate(year, month, day)) return -1;
  o = writeInteger(out, o, year);
  out[o++] = MINUS;
  out[o++] = ZERO + ((month / 10) | 0);
  out[o++] = ZERO + (month % 10);
  out[o++] = MINUS;
  out[o++] = ZERO + ((day / 10) | 0);
  out[o++] = ZERO + (day % 10);
  return o;
}

/** The number the ASCII digits [s, e) spell (1 to 4 of them), or -1. */
function digits(b: Buffer, s: number, e: number): number {
  if (e <= s || e - s > 4) return -1;
  let n = 0;
  for (let i = s; i < e; i++) {
    const c = b[i]!;
    if (c < ZERO || c > NINE) return -1;
    n = n * 10 + c - ZERO;
  }
  return n;
}

/**
 * `1234.5`, `1,234.50`, `-0.07` → `1234.50`, `1234.50`, `-0.07`, with values.ts's rules:
 * thousands separators only in threes, at most two decimals, at most 12 whole digits, and for
 * an amount, more than zero. -1 when any does not hold.
 */
function writeDecimal(span: RecordSpan, at: number, positive: boolean, out: Buffer, o: number): number {
  const b = span.bytes;
  const s = startOf(span, at);
  const e = endOf(span, at);
  const negative = b[s] === MINUS;
  let i = negative ? s + 1 : s;
  let digitCount = 0;
  let group = -1; // digits since the last separator; -1 before any
  let firstSignificant = -1;
  let significant = 0;
  for (; i < e; i++) {
    const c = b[i]!;
    if (c >= ZERO && c <= NINE) {
      digitCount++;
      if (group >= 0) group++;
      if (firstSignificant < 0 && c !== ZERO) firstSignificant = i;
      if (firstSignificant >= 0) significant++;
    } else if (c === COMMA && digitCount > 0 && (group === -1 ? digitCount <= 3 : group === 3)) {
      group = 0;
    } else break;
  }
  if (digitCount === 0 || (group !== -1 && group !== 3)) return -1;
  const fractionStart = i + 1;
  if (i < e) {
    if (b[i] !== DOT || e - fractionStart < 1 || e - fractionStart > 2) return -1;
    for (let k = fractionStart; k < e; k++) if (b[k]! < ZERO || b[k]! > NINE) return -1;
  }
  if (significant > AMOUNT_DIGITS) return -1;
  let zero = firstSignificant < 0;
  for (let k = fractionStart; zero && k < e; k++) if (b[k] !== ZERO) zero = false;
  if (positive && (negative || zero)) return -1;
  if (negative && !zero) out[o++] = MINUS;
  if (firstSignificant < 0) out[o++] = ZERO;
  else for (let k = firstSignificant; k < i; k++) if (b[k] !== COMMA) out[o++] = b[k]!;
  out[o++] = DOT;
  const fraction = i < e ? e - fractionStart : 0;
  out[o++] = fraction >= 1 ? b[fractionStart]! : ZERO;
  out[o++] = fraction === 2 ? b[fractionStart + 1]! : ZERO;
  return o;
}

function writeNull(out: Buffer, o: number): number {
  out[o++] = NULL_TEXT[0]!;
  out[o++] = NULL_TEXT[1]!;
  return o;
}

/** A non-negative integer in decimal. */
function writeInteger(out: Buffer, o: number, n: number): number {
  let width = 1;
  for (let rest = n; rest >= 10; rest = (rest / 10) | 0) width++;
  for (let k = o + width - 1; k >= o; k--) {
    out[k] = ZERO + (n % 10);
    n = (n / 10) | 0;
  }
  return o + width;
}

function copy(from: Uint8Array, s: number, e: number, out: Buffer, o: number): number {
  for (let k = s; k < e; k++) out[o++] = from[k]!;
  return o;
}
