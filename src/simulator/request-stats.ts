import { performance } from 'node:perf_hooks';

/** What `GET /__stats` returns: proof of the client's rate limit, measured where requests arrive. */
export interface SimulatorStats {
  /** API requests received (not `/__…` ones). */
  readonly total: number;
  /** The same as `total`, under the name the client's `stats()` uses. */
  readonly requests: number;
  /** The most requests that arrived within any 1,000 ms (sliding window). */
  readonly maxInAnyWindow: number;
  readonly windowMs: number;
  /** Requests per calendar second (Unix seconds), in order. */
  readonly perSecond: readonly { readonly second: number; readonly count: number }[];
  /** Arrival of the first and last request, Unix ms with fractions. */
  readonly firstAt: number | null;
  readonly lastAt: number | null;
  /** Requests in flight right now. */
  readonly inFlight: number;
  /** The most requests in flight at once. */
  readonly maxInFlight: number;
  /** Answers by kind: `200`, `404`, `fault:http500`, … */
  readonly outcomes: Readonly<Record<string, number>>;
}

const WINDOW_MS = 1000;

export interface RequestStats {
  /** Call when a request arrives; call the returned function when it is over. */
  arrived(): () => void;
  outcome(label: string): void;
  snapshot(): SimulatorStats;
  reset(): void;
}

export function createRequestStats(): RequestStats {
  let arrivals: number[] = [];
  let outcomes = new Map<string, number>();
  let inFlight = 0;
  let maxInFlight = 0;
  return {
    arrived() {
      arrivals.push(performance.timeOrigin + performance.now());
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      let done = false;
      return () => {
        if (done) return;
        done = true;
        inFlight -= 1;
      };
    },
    outcome(label) {
      outcomes.set(label, (outcomes.get(label) ?? 0) + 1);
    },
    snapshot() {
      return {
        total: arrivals.length,
        requests: arrivals.length,
        maxInAnyWindow: maxInWindow(arrivals, WINDOW_MS),
        windowMs: WINDOW_MS,
        perSecond: perSecond(arrivals),
        firstAt: arrivals[0] ?? null,
        lastAt: arrivals.at(-1) ?? null,
        inFlight,
        maxInFlight,
        outcomes: Object.fromEntries(outcomes),
      };
    },
    reset() {
      arrivals = [];
      outcomes = new Map();
      maxInFlight = inFlight;
    },
  };
}

/** Largest number of (sorted) times within any half-open window [t, t + windowMs). */
export function maxInWindow(times: readonly number[], windowMs: number): number {
  let best = 0;
  let start = 0;
  for (let end = 0; end < times.length; end += 1) {
    while (times[end]! - times[start]! >= windowMs) start += 1;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

function perSecond(times: readonly number[]): { second: number; count: number }[] {
  const buckets: { second: number; count: number }[] = [];
  for (const t of times) {
    const second = Math.floor(t / 1000);
    const last = buckets.at(-1);
    if (last && last.second === second) last.count += 1;
    else buckets.push({ second, count: 1 });
  }
  return buckets;
}
