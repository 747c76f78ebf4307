import type { Dispatcher } from 'undici';

/**
 * The most of an answer body that is read. KBank's largest answer (a charge with its refunds)
 * is a few kilobytes; beyond this, a gateway (or a proxy in between) is sending something else,
 * and reading on would only cost memory.
 */
export const MAX_ANSWER_BYTES = 1024 * 1024;
export const MAX_ANSWER_DESCRIPTION = '1 MiB';

/** Decodes as undici's `body.text()` does (UTF-8, a leading BOM dropped, bad bytes as U+FFFD). */
const UTF8 = new TextDecoder();

/**
 * The body as text, or `undefined` when it is longer than {@link MAX_ANSWER_BYTES}: then no more
 * of it is read (a `Content-Length` over the cap is refused before a byte is read) and the
 * connection is closed, so memory stays bounded whatever the gateway sends.
 */
export async function readCappedBody(response: Dispatcher.ResponseData, max = MAX_ANSWER_BYTES): Promise<string | undefined> {
  const declared = Number(response.headers['content-length']);
  if (declared > max) {
    response.body.destroy();
    return undefined;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body as AsyncIterable<Buffer>) {
    size += chunk.length;
    // Leaving the loop destroys the stream: nothing more is read.
    if (size > max) return undefined;
    chunks.push(chunk);
  }
  return UTF8.decode(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
}
