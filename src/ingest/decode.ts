import { isUtf8 } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import iconv from 'iconv-lite';

/**
 * Thai finance exports are UTF-8 (often with a BOM, which Excel wants) or Windows-874/TIS-620
 * (older Thai Windows software). Windows-874 Thai letters are bytes 0xA1–0xFB, which never form
 * valid UTF-8 sequences in running text, so "is it valid UTF-8?" tells the two apart.
 */
export type TextEncoding = 'utf8' | 'win874';

const SNIFF_BYTES = 64 * 1024;
const READ_CHUNK = 256 * 1024;

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

/** Valid UTF-8 (a sequence cut off at the end of the sample allowed) → utf8, else win874. */
export function detectEncoding(sample: Buffer): TextEncoding {
  return isUtf8(sample.subarray(0, completeUtf8Length(sample))) ? 'utf8' : 'win874';
}

/**
 * Thrown when a file sniffed as UTF-8 turns out not to be further on (Thai text only after the
 * first 64 KB): the caller starts the file again as Windows-874.
 */
export class NotUtf8Error extends Error {
  constructor(readonly byteOffset: number) {
    super(`invalid UTF-8 near byte ${byteOffset}`);
    this.name = 'NotUtf8Error';
  }
}

/**
 * The file's text as UTF-8 bytes, in chunks of about 256 KB, BOM removed: UTF-8 checked as it
 * is read, Windows-874 transcoded (its ASCII bytes are ASCII, so the CSV reader sees the same
 * delimiters).
 */
export async function* utf8Chunks(path: string, encoding: TextEncoding): AsyncGenerator<Buffer> {
  const stream = createReadStream(path, { highWaterMark: READ_CHUNK });
  if (encoding === 'win874') {
    const decoder = iconv.getDecoder('win874');
    for await (const chunk of stream as AsyncIterable<Buffer>) yield Buffer.from(decoder.write(chunk), 'utf8');
    const rest = decoder.end();
    if (rest) yield Buffer.from(rest, 'utf8');
    return;
  }
  let carry = Buffer.alloc(0);
  let offset = 0;
  let first = true;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let bytes = carry.length ? Buffer.concat([carry, chunk]) : chunk;
    const complete = completeUtf8Length(bytes);
    if (!isUtf8(bytes.subarray(0, complete))) throw new NotUtf8Error(offset);
    offset += complete;
    carry = Buffer.from(bytes.subarray(complete));
    bytes = bytes.subarray(0, complete);
    if (first) {
      first = false;
      if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
    }
    yield bytes;
  }
  if (carry.length) throw new NotUtf8Error(offset);
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
