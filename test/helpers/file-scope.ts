/**
 * Test files run one after another in a worker that keeps its modules (`isolate: false` in
 * vitest.config.ts): a helper module is evaluated once and outlives the file that first used it.
 * What belongs to one test file (a temp folder, a counter) is registered here and undone when each
 * file ends, by the setup file `end-of-file.ts`.
 */
const resets = new Set<() => unknown>();

/** `reset` runs after every test file's own `afterAll` hooks. */
export function atEndOfEachFile(reset: () => unknown): void {
  resets.add(reset);
}

export async function endOfFile(): Promise<void> {
  for (const reset of resets) await reset();
}
