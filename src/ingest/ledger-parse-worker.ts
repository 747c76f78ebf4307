/**
 * The parse worker of a large ledger file (see ledger-parallel.ts): reads one byte range of the
 * file, checks and formats its rows, and posts COPY text pieces, one per credit the main thread
 * grants (so at most a few pieces are ever in flight).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { RecordSplitError } from './csv-records.ts';
import { NotUtf8Error } from './decode.ts';
import { partPieces, type EncodedPiece, type PartTask, type WorkerMessage } from './ledger-parallel.ts';

const port = parentPort!;
const task = workerData as PartTask;
let credits = 0;
let wake: (() => void) | undefined;
port.on('message', (n: number) => {
  credits += n;
  wake?.();
  wake = undefined;
});

/** Pieces are encoded here, off the main thread, which then sends them as they are. */
const encoder = new TextEncoder();

async function send(message: WorkerMessage & EncodedPiece): Promise<void> {
  while (credits === 0) await new Promise<void>((resolve) => (wake = resolve));
  credits--;
  port.postMessage(message, [message.bytes.buffer as ArrayBuffer]);
}

async function run(): Promise<void> {
  try {
    for await (const piece of partPieces(task)) {
      const { text, ...rest } = piece;
      const message = { ...rest, bytes: encoder.encode(text) };
      if (piece.last) await send({ kind: 'done', ...message });
      else await send({ kind: 'piece', ...message });
    }
  } catch (error) {
    if (error instanceof RecordSplitError) port.postMessage({ kind: 'split' } satisfies WorkerMessage);
    else if (error instanceof NotUtf8Error) port.postMessage({ kind: 'not-utf8', byteOffset: error.byteOffset } satisfies WorkerMessage);
    else port.postMessage({ kind: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) } satisfies WorkerMessage);
  }
}

void run();
