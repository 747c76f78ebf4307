import { performance } from 'node:perf_hooks';

/** Hands out permission to send one request; every request (retries too) takes one. */
export interface RateLimiter {
  /** Resolves when a request may be sent now; rejects with the signal's reason if it aborts first. */
  acquire(signal?: AbortSignal): Promise<void>;
  /** Grants nothing until `ms` from now (the gateway asked us to back off with `Retry-After`). */
  pause(ms: number): void;
  /** Requests waiting for a permit. */
  readonly waiting: number;
}

export interface RateLimiterOptions {
  /** Requests per second; `Infinity` for no cap. Below 1: one request per `1/rps` seconds. */
  readonly rps: number;
  /**
   * Added to the one-second window. The gateway counts arrivals, which jitter against our send
   * times by network and event-loop delays; spacing by a little more than a second keeps its
   * count under the cap too. Costs `marginMs / 10` percent of the throughput.
   */
  readonly marginMs?: number;
  /** For tests. */
  readonly now?: () => number;
}

interface Waiter {
  resolve(): void;
  reject(reason: unknown): void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/**
 * A hard cap of `floor(rps)` requests in any window of one second (plus the margin), as a
 * sliding-window log: the permit after the last N is granted only once the N-th last one is a
 * window old. A token bucket would allow a burst of its capacity on top of the rate, which can put
 * more than the cap into one window.
 *
 * Permits are also paced evenly (`window / N` apart, on an ideal schedule so a late timer does not
 * slow the rate down): without pacing a backlog goes out as a burst of N at the start of each
 * window, which the log allows but which is rude and makes every window after it look idle.
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const now = options.now ?? (() => performance.now());
  const { rps } = options;
  if (!(rps > 0)) throw new RangeError(`rate limit must be positive, got ${rps}`);
  if (rps === Infinity) return unlimited;

  const permits = Math.max(1, Math.floor(rps));
  const windowMs = (rps >= 1 ? 1000 : 1000 / rps) + (options.marginMs ?? 50);
  const spacingMs = windowMs / permits;

  /** Grant times of the last `permits` requests, oldest first. */
  const log: number[] = [];
  const waiters: Waiter[] = [];
  /** Ideal time of the next grant (pacing). */
  let nextAt = -Infinity;
  let pausedUntil = -Infinity;
  let timer: NodeJS.Timeout | undefined;

  const earliest = (t: number): number => {
    let at = Math.max(t, nextAt, pausedUntil);
    if (log.length >= permits) at = Math.max(at, log[log.length - permits]! + windowMs);
    return at;
  };

  const grant = (t: number): void => {
    log.push(t);
    if (log.length > permits) log.shift();
    // Keep to the ideal schedule while a backlog is being served (t is just the timer's
    // lateness past nextAt); after an idle spell start the schedule afresh from t.
    nextAt = (t - nextAt < spacingMs ? nextAt : t) + spacingMs;
  };

  const pump = (): void => {
    timer = undefined;
    while (waiters.length > 0) {
      const t = now();
      const at = earliest(t);
      // Timers may fire a little early relative to performance.now(); check, then wait again.
      if (at > t) {
        timer = setTimeout(pump, Math.max(1, Math.ceil(at - t)));
        return;
      }
      const waiter = waiters.shift()!;
      if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
      grant(t);
      waiter.resolve();
    }
  };

  return {
    acquire(signal) {
      if (signal?.aborted) return Promise.reject(signal.reason);
      const t = now();
      if (waiters.length === 0 && earliest(t) <= t) {
        grant(t);
        return Promise.resolve();
      }
      return new Promise<void>((resolve, reject) => {
        const waiter: Waiter = { resolve, reject, signal, onAbort: undefined };
        if (signal) {
          waiter.onAbort = () => {
            const index = waiters.indexOf(waiter);
            if (index >= 0) waiters.splice(index, 1);
            reject(signal.reason);
          };
          signal.addEventListener('abort', waiter.onAbort, { once: true });
        }
        waiters.push(waiter);
        if (!timer) pump();
      });
    },
    pause(ms) {
      pausedUntil = Math.max(pausedUntil, now() + ms);
      if (timer) {
        clearTimeout(timer);
        pump();
      }
    },
    get waiting() {
      return waiters.length;
    },
  };
}

const unlimited: RateLimiter = {
  acquire: (signal) => (signal?.aborted ? Promise.reject(signal.reason) : Promise.resolve()),
  pause: () => {},
  waiting: 0,
};
