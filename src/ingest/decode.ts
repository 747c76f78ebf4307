import { isAscii, isUtf8 } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import iconv from 'iconv-lite';

/**
 * Thai finance exports are UTF-8 (often with a BOM, which Excel wants) or Windows-874/TIS-620
 * (older Thai Windows software). Windows-874 Thai letters are bytes 0xA1–0xFB, which never form
 * valid UTF-8 sequences in running text, so "is it valid UTF-8?" tells the two apart.
 *
 * A file is read in one encoding. Text that cannot be read in it (a row pasted from the other
 * encoding, bytes neither encoding defines) is not dropped or guessed at: it is handed on
 * behind a marker character (below), so that the row holding it is rejected, saying what is
 * wrong, while the rest of the file goes in.
 */
export type TextEncoding = 'utf8' | 'win874';

const SNIFF_BYTES = 64 * 1024;
const READ_CHUNK = 256 * 1024;
/** A run of non-ASCII bytes at the end of a chunk is kept for the next one, up to this long. */
const MAX_CARRY = 64 * 1024;

/*
 * Markers, from the Private Use Area, which no ledger has a reason to hold. All of them are
 * U+F601–U+F7FF, UTF-8 bytes EF 98 81–EF 9F BF: the CSV reader sends any record with a 0xEF
 * byte to the string reader, which looks for them.
 */
/** Followed by Windows-874 text (transcoded) found in a file read as UTF-8. */
const WIN874_TEXT = 0xf601;
/** U+F680 + byte: a byte (0x80–0xFF) starting a sequence that is not valid UTF-8. */
const BAD_UTF8_BYTE = 0xf600;
/** Followed by UTF-8 Thai text found in a file read as Windows-874. */
const UTF8_TEXT = 0xf701;
/** U+F780 + byte: a byte Windows-874 does not define. */
const BAD_WIN874_BYTE = 0xf700;
const MARKER = /[\uf601-\uf7ff]/;
const MARKERS = /[\uf601-\uf7ff]/g;

/**
 * What is wrong with text holding a marker, e.g. `not valid Windows-874 text (byte 0xFF)`;
 * undefined for text that was read cleanly.
 */
export function unreadablePart(text: string): string | undefined {
  const found = MARKER.exec(text);
  if (!found) return undefined;
  const code = found[0].charCodeAt(0);
  if (code === WIN874_TEXT) return 'Windows-874 text in a file read as UTF-8';
  if (code === UTF8_TEXT) return 'UTF-8 text in a file read as Windows-874';
  const byte = `0x${(code & 0xff).toString(16).toUpperCase()}`;
  return code < BAD_WIN874_BYTE ? `not valid UTF-8 text (byte ${byte})` : `not valid Windows-874 text (byte ${byte})`;
}

/** Text as a person should see it in rejected.csv: unreadable bytes as U+FFFD, markers gone. */
export function withoutMarkers(text: string): string {
  if (!MARKER.test(text)) return text;
  return text.replace(MARKERS, (m) => {
    const code = m.charCodeAt(0);
    return code === WIN874_TEXT || code === UTF8_TEXT ? '' : '\ufffd';
  });
}

/** The encoding of a file judged by its first 64 KB. */
export async function sniffEncoding(path: string): Promise<TextEncoding> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, SNIFF_BYTES, 0);
    return detectEncoding(buffer.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}

/**
 * Valid UTF-8 (a sequence cut off at the end of the sample allowed) or a UTF-8 BOM → utf8.
 * Otherwise the sample mixes encodings or holds bytes neither defines: the encoding that reads
 * most of its lines with non-ASCII text wins (lines neither reads have no say), Windows-874 on
 * a tie, so that one pasted or damaged row does not make every other row unreadable.
 */
export function detectEncoding(sample: Buffer): TextEncoding {
  const complete = sample.subarray(0, completeUtf8Length(sample));
  if (isUtf8(complete) || (sample[0] === 0xef && sample[1] === 0xbb && sample[2] === 0xbf)) return 'utf8';
  let utf8Lines = 0;
  let win874Lines = 0;
  for (let start = 0; start < complete.length; ) {
    const newline = complete.indexOf(0x0a, start);
    const end = newline === -1 ? complete.length : newline;
    const line = complete.subarray(start, end);
    if (!isAscii(line)) {
      if (isUtf8(line)) utf8Lines++;
      else if (line.every((b) => b < 0x80 || WIN874_UTF8[b - 0x80] !== undefined)) win874Lines++;
    }
    start = end + 1;
  }
  return utf8Lines > win874Lines ? 'utf8' : 'win874';
}

/**
 * Thrown when a file sniffed as UTF-8 turns out not to be further on, with nothing but ASCII
 * before (Thai text only after the first 64 KB): the caller starts the file again as
 * Windows-874. Once UTF-8 text has been seen, the file stays UTF-8 and the unreadable text is
 * marked instead.
 */
export class NotUtf8Error extends Error {
  constructor(readonly byteOffset: number) {
    super(`invalid UTF-8 near byte ${byteOffset}`);
    this.name = 'NotUtf8Error';
  }
}

/**
 * The file's text as valid UTF-8 bytes, in chunks of about 256 KB, BOM removed: UTF-8 checked as
 * it is read, Windows-874 transcoded (its ASCII bytes are ASCII, so the CSV reader sees the same
 * delimiters); text unreadable in the encoding marked (see {@link unreadablePart}).
 */
export async function* utf8Chunks(path: string, encoding: TextEncoding): AsyncGenerator<Buffer> {
  const stream = createReadStream(path, { highWaterMark: READ_CHUNK });
  let carry = Buffer.alloc(0);
  let offset = 0;
  let first = true;
  let seenText = false; // non-ASCII UTF-8 seen: from then on the file is UTF-8 for good
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const bytes = carry.length ? Buffer.concat([carry, chunk]) : chunk;
    // a non-ASCII run is judged whole: keep one the chunk cuts for the next chunk
    const cut = trailingRunStart(bytes);
    carry = Buffer.from(bytes.subarray(cut));
    let head = bytes.subarray(0, cut);
    if (first) {
      first = false;
      if (encoding === 'utf8' && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) {
        head = head.subarray(3);
        offset += 3;
        seenText = true;
      }
    }
    if (encoding === 'win874') yield win874ToUtf8(head);
    else {
      if (!isUtf8(head)) {
        const bad = firstBadUtf8(head, 0, head.length);
        // only past the sniffed part: within it, the sniff has already weighed the bad bytes
        if (!seenText && offset + bad >= SNIFF_BYTES - 4 && isAscii(head.subarray(0, bad))) throw new NotUtf8Error(offset + bad);
        seenText = true;
        yield markBadUtf8(head);
      } else {
        if (!seenText) seenText = !isAscii(head);
        yield head;
      }
      offset += head.length;
    }
  }
  if (!carry.length) return;
  if (encoding === 'win874') yield win874ToUtf8(carry);
  else if (isUtf8(carry)) yield carry;
  else {
    if (!seenText && offset >= SNIFF_BYTES - 4) throw new NotUtf8Error(offset + firstBadUtf8(carry, 0, carry.length));
    yield markBadUtf8(carry);
  }
}

/** Where the run of non-ASCII bytes ending `bytes` starts (its length when it ends in ASCII). */
function trailingRunStart(bytes: Buffer): number {
  let i = bytes.length;
  const limit = Math.max(0, bytes.length - MAX_CARRY);
  while (i > limit && bytes[i - 1]! >= 0x80) i--;
  return i > limit ? i : completeUtf8Length(bytes);
}

/** Length of `bytes` without a multi-byte character cut off at its end. */
function completeUtf8Length(bytes: Buffer): number {
  const end = bytes.length;
  for (let i = end - 1; i >= Math.max(0, end - 4); i--) {
    const byte = bytes[i]!;
    if ((byte & 0xc0) === 0x80) continue; // continuation byte: look further back for the lead
    const size = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return i + size > end ? i : end;
  }
  return end;
}

/** Where in [start, end) the first byte is that does not begin a valid UTF-8 sequence (`end`: none). */
function firstBadUtf8(bytes: Buffer, start: number, end: number): number {
  for (let i = start; i < end; ) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    const size = b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (size === 0 || i + size > end || !isUtf8(bytes.subarray(i, i + size))) return i;
    i += size;
  }
  return end;
}

function marker(code: number): Buffer {
  return Buffer.from(String.fromCharCode(code), 'utf8');
}

/** Each byte 0x80–0xFF as UTF-8 text, or undefined where Windows-874 does not define it. */
const WIN874_UTF8: (Buffer | undefined)[] = Array.from({ length: 128 }, (_, i) => {
  const text = iconv.decode(Buffer.from([0x80 + i]), 'win874');
  return text === '\ufffd' ? undefined : Buffer.from(text, 'utf8');
});

/**
 * Marks the non-ASCII runs of `bytes` that are not valid UTF-8: as Windows-874 text when every
 * byte is one Windows-874 defines (shown transcoded), else by their first bad byte.
 */
function markBadUtf8(bytes: Buffer): Buffer {
  const out: Buffer[] = [];
  forEachRun(bytes, (s, e) => {
    if (bytes[s]! < 0x80) return out.push(bytes.subarray(s, e));
    const run = bytes.subarray(s, e);
    if (isUtf8(run)) return out.push(run);
    if (run.every((b) => WIN874_UTF8[b - 0x80] !== undefined)) return out.push(marker(WIN874_TEXT), win874Run(run));
    return out.push(marker(BAD_UTF8_BYTE + bytes[firstBadUtf8(bytes, s, e)]!), Buffer.from(run.toString('utf8'), 'utf8'));
  });
  return Buffer.concat(out);
}

/**
 * Windows-874 bytes as UTF-8. A non-ASCII run that is UTF-8 Thai text (a row pasted from a
 * UTF-8 file) is marked and kept as the Thai it is; undefined bytes are marked one by one.
 */
function win874ToUtf8(bytes: Buffer): Buffer {
  // every byte becomes at most 3; a marked UTF-8 run (2 bytes or more) grows by 3
  const out = Buffer.allocUnsafe(bytes.length * 3);
  let o = 0;
  forEachRun(bytes, (s, e) => {
    if (bytes[s]! < 0x80) {
      o += bytes.copy(out, o, s, e);
      return;
    }
    const run = bytes.subarray(s, e);
    if (isUtf8Thai(run)) {
      o += marker(UTF8_TEXT).copy(out, o);
      o += run.copy(out, o);
      return;
    }
    for (const b of run) o += (WIN874_UTF8[b - 0x80] ?? marker(BAD_WIN874_BYTE + b)).copy(out, o);
  });
  return out.subarray(0, o);
}

/** A run of non-ASCII Windows-874 bytes as UTF-8 (all of them defined). */
function win874Run(run: Buffer): Buffer {
  return Buffer.concat([...run].map((b) => WIN874_UTF8[b - 0x80]!));
}

/**
 * Valid UTF-8 holding at least one assigned Thai letter (U+0E01–U+0E3A, U+0E3F–U+0E5B). Real
 * Windows-874 Thai practically never is valid UTF-8 over a whole run (its consonants 0xA1–0xBF
 * are continuation bytes, which cannot start a sequence).
 */
function isUtf8Thai(run: Buffer): boolean {
  if (!isUtf8(run)) return false;
  for (let i = 0; i + 2 < run.length; i++) {
    if (run[i] !== 0xe0) continue;
    const second = run[i + 1];
    const third = run[i + 2]!;
    if (second === 0xb8 && ((third >= 0x81 && third <= 0xba) || third === 0xbf)) return true;
    if (second === 0xb9 && third <= 0x9b) return true;
  }
  return false;
}

/** Calls `each` with the alternating runs of ASCII and non-ASCII bytes of `bytes`. */
function forEachRun(bytes: Buffer, each: (start: number, end: number) => void): void {
  let start = 0;
  while (start < bytes.length) {
    const ascii = bytes[start]! < 0x80;
    let end = start + 1;
    while (end < bytes.length && bytes[end]! < 0x80 === ascii) end++;
    each(start, end);
    start = end;
  }
}
