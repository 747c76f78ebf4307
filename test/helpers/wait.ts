import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `check` until it gives a value (anything but `undefined` or `false`) and returns it. No
 * deadline of its own: what a test waits for is bounded by the code under test, and a real hang
 * is caught by vitest's hang guard (vitest.config.ts), so a slow machine only makes it wait longer.
 */
export async function until<T>(check: () => Promise<T | undefined | false> | T | undefined | false, everyMs = 50): Promise<T> {
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    await sleep(everyMs);
  }
}
