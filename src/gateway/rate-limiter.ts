import { performance } from 'node:perf_hooks';

/** Hands out permission to send one request; every request (retries too) takes one. */
export interface RateLimiter {
  /** Resolves when a request may be sent now; rejects with the signal's reason if it aborts first. */
  acquire(signal?: AbortSignal): Promise<Permit>;
  /**
   * A permit if one may be granted this instant without waiting (nobody queued, the cap has
   * room), else `undefined`: what `acquire` would grant at once, without a promise to await.
   */
  tryAcquire(): Permit | undefined;
  /** Grants nothing until `ms` from now (the gateway asked us to back off with `Retry-After`). */
  pause(ms: number): void;
  /** Requests waiting for a permit. */
  readonly waiting: number;
  /**
   * Milliseconds until every request granted so far arrived more than a window ago (0 when it
   * has): from then on another limiter of the same key, knowing nothing of this one's requests,
   * may send its full cap without putting more than the cap into one window at the gateway.
   */
  quietInMs(): number;
}

/** One granted request. */
export interface Permit {
  /**
   * The request has certainly reached the gateway: its answer began to arrive, or the request is
   * over (failed, timed out). Call it once; later calls are ignored.
   */
  answered(): void;
}

export interface RateLimiterOptions {
  /** Requests per second; `Infinity` for no cap. Below 1: one request per `1/rps` seconds. */
  readonly rps: number;
  /** Added to the one-second window, against rounding at the edges of the gateway's count. */
  readonly marginMs?: number;
  /**
   * How long a request still unanswered is taken to be on its way at the most (a TLS handshake,
   * a busy event loop) before it counts as arrived: it bounds how long one hanging request can
   * hold back the others. Default 1,000 ms.
   */
  readonly transitMs?: number;
  /** For tests. */
  readonly now?: () => number;
}

interface Waiter {
  resolve(permit: Permit): void;
  reject(reason: unknown): void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/** A granted request: when it was let go, and when it was known to have arrived. */
interface Grant {
  readonly at: number;
  answeredAt: number | undefined;
}

/**
 * A hard cap of `floor(rps)` requests in any window of one second *as the gateway counts them*,
 * as a sliding-window log: the permit after the last N is granted only a window after the N-th
 * last one *arrived*. Arrival is not when we let a request go (the first one of a connection waits
 * for its TCP and TLS handshakes, others queue behind a busy event loop, so spacing by send time
 * lets arrivals bunch up past the cap), but it is certainly before its answer begins: so the
 * window is counted from the N-th last request's answer, or from when it is over. A token bucket
 * would allow a burst of its capacity on top of the rate, which can put more than the cap into
 * one window.
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
  const windowMs = (rps >= 1 ? 1000 : 1000 / rps) + (options.marginMs ?? 10);
  const spacingMs = windowMs / permits;
  const transitMs = options.transitMs ?? 1000;

  /**
   * The last `permits` grants, as a ring: `log[head]` is the oldest once it is full. (An array
   * shifted at every grant copied all of it: at a cap of 10,000 that was most of the client's time.)
   */
  const log: Grant[] = [];
  let head = 0;
  const waiters: Waiter[] = [];
  /** Ideal time of the next grant (pacing). */
  let nextAt = -Infinity;
  let pausedUntil = -Infinity;
  let timer: NodeJS.Timeout | undefined;

  const earliest = (t: number): number => {
    let at = Math.max(t, nextAt, pausedUntil);
    if (log.length === permits) {
      const oldest = log[head]!;
      at = Math.max(at, Math.min(oldest.answeredAt ?? Infinity, oldest.at + transitMs) + windowMs);
    }
    return at;
  };

  const grant = (t: number): Permit => {
    const entry: Grant = { at: t, answeredAt: undefined };
    if (log.length < permits) log.push(entry);
    else {
      log[head] = entry;
      head = (head + 1) % permits;
    }
    // Keep to the ideal schedule while a backlog is being served (t is just the timer's
    // lateness past nextAt); after an idle spell start the schedule afresh from t.
    nextAt = (t - nextAt < spacingMs ? nextAt : t) + spacingMs;
    return {
      answered() {
        if (entry.answeredAt !== undefined) return;
        entry.answeredAt = now();
        // An answer earlier than the transit bound can let the next waiter go sooner.
        if (timer) reschedule();
      },
    };
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
      waiter.resolve(grant(t));
    }
  };

  const reschedule = (): void => {
    clearTimeout(timer);
    pump();
  };

  const tryAcquire = (): Permit | undefined => {
    if (waiters.length > 0) return undefined;
    const t = now();
    return earliest(t) <= t ? grant(t) : undefined;
  };

  return {
    tryAcquire,
    acquire(signal) {
      if (signal?.aborted) return Promise.reject(signal.reason);
      const permit = tryAcquire();
      if (permit) return Promise.resolve(permit);
      return new Promise<Permit>((resolve, reject) => {
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
      if (timer) reschedule();
    },
    get waiting() {
      return waiters.length;
    },
    quietInMs() {
      let lastArrival = -Infinity;
      for (const entry of log) lastArrival = Math.max(lastArrival, Math.min(entry.answeredAt ?? Infinity, entry.at + transitMs));
      return Math.max(0, lastArrival + windowMs - now());
    },
  };
}

const noPermitNeeded: Permit = { answered: () => {} };

const unlimited: RateLimiter = {
  acquire: (signal) => (signal?.aborted ? Promise.reject(signal.reason) : Promise.resolve(noPermitNeeded)),
  tryAcquire: () => noPermitNeeded,
  pause: () => {},
  waiting: 0,
  quietInMs: () => 0,
};
