import { isConnectionFailure } from '../db/connection.ts';

/**
 * Group commit: items wait here while transactions write the batches before them, then go
 * together in the next, so under load many items share one commit (and its fsync), and an item
 * alone is written at once, with no timer to wait for. Each caller's promise settles when its
 * item's transaction has committed (or failed). Up to `writers` batches are written at once, so
 * one batch's inserts overlap another's wait for its commit to reach the disk.
 *
 * A batch that fails for a reason other than a lost connection is written again item by item, so
 * one row the database refuses fails alone. How many items may wait is the caller's to bound
 * (the receiver refuses requests past its limit before they get here).
 */
export interface CommitQueue<T, R> {
  add(item: T): Promise<R>;
  /** Items added and not yet settled. */
  readonly size: number;
}

interface Waiting<T, R> {
  item: T;
  resolve(result: R): void;
  reject(error: unknown): void;
}

export function commitQueue<T, R>(write: (items: readonly T[]) => Promise<R[]>, limits: { maxBatch: number; writers: number }): CommitQueue<T, R> {
  let waiting: Waiting<T, R>[] = [];
  let writers = 0;
  let writing = 0;
  const settleBatch = async (batch: Waiting<T, R>[]) => {
    try {
      const results = await write(batch.map((w) => w.item));
      batch.forEach((w, i) => w.resolve(results[i]!));
    } catch (error) {
      if (batch.length === 1 || isConnectionFailure(error)) {
        for (const w of batch) w.reject(error);
        return;
      }
      for (const w of batch) await settleBatch([w]);
    }
  };
  const pump = () => {
    while (writers < limits.writers && waiting.length > 0) {
      const batch = waiting.length <= limits.maxBatch ? waiting : waiting.splice(0, limits.maxBatch);
      if (batch === waiting) waiting = [];
      writers += 1;
      writing += batch.length;
      void settleBatch(batch).finally(() => {
        writers -= 1;
        writing -= batch.length;
        pump();
      });
    }
  };
  return {
    add(item) {
      return new Promise<R>((resolve, reject) => {
        waiting.push({ item, resolve, reject });
        pump();
      });
    },
    get size() {
      return waiting.length + writing;
    },
  };
}
