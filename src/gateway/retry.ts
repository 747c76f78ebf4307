export interface BackoffOptions {
  /** First retry waits up to this long; production 500 ms, tests ~10 ms. */
  readonly baseMs: number;
  /** No single wait longer than this. */
  readonly capMs: number;
  /** [0, 1); injectable so tests are deterministic. */
  readonly random?: () => number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, capMs: 30_000 };

/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And
 * Jitter"): a uniform wait in [0, min(cap, base·2^retry)). Jitter spreads the retries of many
 * charges that failed together, so they do not come back as one burst.
 *
 * @param retry 0 for the first retry.
 * @param retryAfterMs the server's `Retry-After`, a floor: we never come back sooner than asked.
 */
export function backoffDelay(retry: number, options: BackoffOptions, retryAfterMs?: number): number {
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** retry);
  const jittered = Math.floor((options.random ?? Math.random)() * ceiling);
  return retryAfterMs === undefined ? jittered : Math.max(retryAfterMs, jittered);
}

/**
 * `Retry-After` as milliseconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3); `undefined`
 * when absent or unreadable. Capped so a confused server cannot park the run for hours.
 */
export function parseRetryAfter(header: string | null, nowMs = Date.now(), capMs = 300_000): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Math.min(Number(value) * 1000, capMs);
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.min(Math.max(0, date - nowMs), capMs);
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
