/**
 * Rows written as they come, one statement at a time: while one batch is being written the next
 * rows gather, and go together in the next statement (at most `batch` rows). So batches grow
 * with the pace of the rows, and a process killed at any moment has written all but the rows of
 * its last few milliseconds.
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

export function batchedWriter<T>(write: (rows: T[]) => Promise<void>, limits: { batch: number; highWater: number }): BatchedWriter<T> {
  let waiting: T[] = [];
  let writing: Promise<void> | undefined;
  let failure: { error: unknown } | undefined;
  const pump = () => {
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
  const settle = async (done: () => boolean) => {
    for (pump(); writing && !done(); pump()) await writing;
    if (failure) throw failure.error;
  };
  return {
    add(row) {
      waiting.push(row);
      pump();
    },
    room: () => settle(() => waiting.length < limits.highWater),
    close: () => settle(() => false),
  };
}
