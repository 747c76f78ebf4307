/**
 * Rows written in batches while they keep coming, one statement at a time: a batch goes once
 * `batch` rows wait, or once the oldest waiting row has waited `maxDelayMs`, and while it is
 * being written the next rows gather. So a process killed at any moment has written all but
 * its last moment's rows, and the database sees a few large statements a second, not one per
 * row: every statement costs a round trip, a plan and a commit on a server that shares the
 * machine's cores with us.
 *
 * `room()` is the back-pressure: it waits while `highWater` rows or more are waiting, so a
 * producer faster than the database holds a bounded number of rows, not the whole run's.
 */
export interface BatchedWriter<T> {
  add(row: T): void;
  /** Resolves once fewer than `highWater` rows wait; rejects if a write failed. */
  room(): Promise<void>;
  /** Writes what is left; rejects with the first failed write's error. */
  close(): Promise<void>;
}

export interface BatchLimits {
  readonly batch: number;
  readonly highWater: number;
  readonly maxDelayMs: number;
}

export function batchedWriter<T>(write: (rows: T[]) => Promise<void>, limits: BatchLimits): BatchedWriter<T> {
  let waiting: T[] = [];
  let writing: Promise<void> | undefined;
  let failure: { error: unknown } | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closing = false;
  const pump = () => {
    if (writing || failure || !waiting.length) return;
    if (waiting.length < limits.batch && !closing) {
      timer ??= setTimeout(() => {
        timer = undefined;
        flush();
      }, limits.maxDelayMs);
      return;
    }
    flush();
  };
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (writing || failure || !waiting.length) return;
    const rows = waiting.length <= limits.batch ? waiting : waiting.splice(0, limits.batch);
    if (rows === waiting) waiting = [];
    writing = write(rows).then(
      () => {
        writing = undefined;
        pump();
      },
      // A failed write surfaces at room() or close(); nothing more is written after it.
      (error: unknown) => {
        failure = { error };
        writing = undefined;
      },
    );
  };
  return {
    add(row) {
      waiting.push(row);
      pump();
    },
    async room() {
      while (waiting.length >= limits.highWater && !failure) {
        flush();
        if (writing) await writing;
      }
      if (failure) throw failure.error;
    },
    async close() {
      closing = true;
      for (flush(); writing; pump()) await writing;
      if (failure) throw failure.error;
    },
  };
}
