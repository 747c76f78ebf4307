/** A fixed number of slots, handed out first come, first served. */
export interface Slots {
  /** Takes a slot: `undefined` when one was free (no promise to await), else a promise of the next one freed. */
  take(): Promise<void> | undefined;
  /** Gives a taken slot back (to the longest waiting, if any). */
  release(): void;
}

/**
 * What p-limit did for the client, without its promise and closure per call: a request that
 * finds a free slot (nearly every one, when the caller keeps no more than `count` charges going)
 * goes ahead at once.
 */
export function createSlots(count: number): Slots {
  let taken = 0;
  const waiting: (() => void)[] = [];
  return {
    take() {
      if (taken < count) {
        taken += 1;
        return undefined;
      }
      return new Promise<void>((resolve) => waiting.push(resolve));
    },
    release() {
      // Passed straight on, so a newcomer cannot take it ahead of those waiting.
      const next = waiting.shift();
      if (next) next();
      else taken -= 1;
    },
  };
}
