import { createReadStream } from 'node:fs';
import { MAX_NOTIFY_BYTES } from './notification.ts';

/** One notification's bytes in a file, or why a part of the file is not one; `line` is where it starts (1-based). */
export type FileElement = { line: number; bytes: Buffer } | { line: number; problem: string };

const NEWLINE = 0x0a;
const OPEN = new Set([0x7b, 0x5b]); // { [
const CLOSE = new Set([0x7d, 0x5d]); // } ]
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const isSpace = (b: number) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * The notifications of a file the shop's system wrote: a JSON array of Notify bodies, or JSON
 * lines (one body per line). Read as bytes, a chunk at a time, so a file of any size takes little
 * memory and each body is passed on exactly as written (JSON's structure is ASCII, so UTF-8 text
 * inside strings never looks like it). An element over 64 KiB is reported, not kept.
 */
export function notifyFileElements(path: string): AsyncGenerator<FileElement> {
  return notifyElements(createReadStream(path) as AsyncIterable<Buffer>);
}

/** {@link notifyFileElements} over the file's bytes, in chunks of any size. */
export async function* notifyElements(chunks: AsyncIterable<Buffer> | Iterable<Buffer>): AsyncGenerator<FileElement> {
  const scanner = new Scanner();
  for await (const chunk of chunks) yield* scanner.push(chunk);
  yield* scanner.end();
}

class Scanner {
  private mode: 'start' | 'lines' | 'array' | 'after' | 'done' = 'start';
  private line = 1;
  private start = 0;
  private parts: Buffer[] = [];
  private size = 0;
  private inElement = false;
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** Bytes read so far, while they could still be a byte-order mark. */
  private offset = 0;

  *push(input: Buffer): Generator<FileElement> {
    let chunk = input;
    // A UTF-8 byte-order mark (as Windows tools write) is not part of the first body.
    while (this.offset < BOM.length && chunk.length > 0 && chunk[0] === BOM[this.offset]) {
      chunk = chunk.subarray(1);
      this.offset += 1;
    }
    if (chunk.length > 0) this.offset = BOM.length;
    let from = 0;
    for (let i = 0; i < chunk.length && this.mode !== 'done'; i++) {
      const b = chunk[i]!;
      if (this.mode === 'start') {
        if (isSpace(b)) {
          if (b === NEWLINE) this.line += 1;
          continue;
        }
        this.mode = b === 0x5b ? 'array' : 'lines';
        if (this.mode === 'array') continue;
        this.begin(this.line);
        from = i;
      }
      if (this.mode === 'lines') {
        if (b !== NEWLINE) continue;
        this.keep(chunk.subarray(from, i));
        yield* this.emitLine();
        this.line += 1;
        from = i + 1;
        continue;
      }
      if (this.mode === 'after') {
        if (b === NEWLINE) this.line += 1;
        else if (!isSpace(b)) {
          this.mode = 'done';
          yield { line: this.line, problem: 'text after the end of the JSON array; ignored' };
        }
        continue;
      }
      // Array mode.
      if (!this.inElement) {
        if (b === NEWLINE) this.line += 1;
        if (isSpace(b) || b === COMMA) continue;
        if (b === 0x5d) {
          this.mode = 'after';
          continue;
        }
        this.begin(this.line);
        from = i;
      }
      if (b === NEWLINE) this.line += 1;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (b === BACKSLASH) this.escaped = true;
        else if (b === QUOTE) this.inString = false;
        continue;
      }
      if (b === QUOTE) this.inString = true;
      else if (OPEN.has(b)) this.depth += 1;
      else if (CLOSE.has(b) || b === COMMA) {
        // A value at the top of the array ends at a comma or the array's `]`, or where its own brackets close.
        if (this.depth === 0) {
          this.keep(chunk.subarray(from, i));
          yield this.emit();
          if (b === 0x5d) this.mode = 'after';
          continue;
        }
        if (b !== COMMA) this.depth -= 1;
        if (this.depth === 0) {
          this.keep(chunk.subarray(from, i + 1));
          yield this.emit();
        }
      }
    }
    if (this.inElement) this.keep(chunk.subarray(from));
  }

  *end(): Generator<FileElement> {
    if (this.mode === 'lines') {
      yield* this.emitLine();
    } else if (this.mode === 'array') {
      yield { line: this.inElement ? this.start : this.line, problem: 'the file ends inside the JSON array (truncated?)' };
    }
  }

  private begin(line: number): void {
    this.inElement = true;
    this.start = line;
    this.parts = [];
    this.size = 0;
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
  }

  /** Keeps the element's bytes while it is within the limit (a little over it, to tell). */
  private keep(bytes: Buffer): void {
    this.size += bytes.length;
    if (this.size <= MAX_NOTIFY_BYTES + 2) this.parts.push(Buffer.from(bytes));
  }

  private emit(): FileElement {
    this.inElement = false;
    if (this.size > MAX_NOTIFY_BYTES + 2) return { line: this.start, problem: `larger than ${MAX_NOTIFY_BYTES} bytes` };
    return { line: this.start, bytes: trim(Buffer.concat(this.parts)) };
  }

  private *emitLine(): Generator<FileElement> {
    const element = this.emit();
    this.begin(this.line + 1);
    if ('bytes' in element && element.bytes.length === 0) return;
    yield element;
  }
}

function trim(bytes: Buffer): Buffer {
  let start = 0;
  let end = bytes.length;
  while (start < end && isSpace(bytes[start]!)) start += 1;
  while (end > start && isSpace(bytes[end - 1]!)) end -= 1;
  return bytes.subarray(start, end);
}
