import type { IncomingMessage } from 'node:http';

export type BodyRead = { kind: 'body'; bytes: Buffer } | { kind: 'too_large' } | { kind: 'gone' };

/**
 * The request's body, kept only up to `limit` bytes: a larger one is `too_large` as soon as its
 * `Content-Length` says so or its bytes pass the limit, with no more of it kept. `gone`: the
 * client went away before the body ended.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<BodyRead> {
  if (Number(req.headers['content-length']) > limit) return Promise.resolve({ kind: 'too_large' });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (read: BodyRead) => {
      req.off('data', onData).off('end', onEnd).off('close', onClose);
      resolve(read);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.pause();
        return finish({ kind: 'too_large' });
      }
      chunks.push(chunk);
    };
    const onEnd = () => finish({ kind: 'body', bytes: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size) });
    const onClose = () => finish({ kind: 'gone' });
    req.on('data', onData).on('end', onEnd).on('close', onClose);
  });
}

/**
 * Reads and throws away what is left of the body, up to `cap` more bytes; true when it ended.
 * An answer given before the body is read is then read by the client cleanly (a server that
 * closes with unread bytes resets the connection, and the client may lose the answer); a body
 * larger than `cap` is not read: the connection is closed after the answer.
 */
export function discardBody(req: IncomingMessage, cap: number): Promise<boolean> {
  if (req.complete) return Promise.resolve(true);
  if (Number(req.headers['content-length']) > cap) return Promise.resolve(false);
  return new Promise((resolve) => {
    let size = 0;
    const finish = (ended: boolean) => {
      req.off('data', onData).off('end', onEnd).off('close', onClose);
      if (!ended) req.pause();
      resolve(ended);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > cap) finish(false);
    };
    const onEnd = () => finish(true);
    const onClose = () => finish(req.complete);
    req.on('data', onData).on('end', onEnd).on('close', onClose);
    req.resume();
  });
}
