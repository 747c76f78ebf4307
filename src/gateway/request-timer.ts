import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';

/**
 * One request in flight, and the signal its HTTP request listens to: an `EventEmitter` with
 * `aborted` and `reason`, the other kind of signal undici's `request` takes: far lighter than an
 * `AbortController` per request, at one request per charge.
 */
export interface TimedRequest {
  readonly signal: RequestSignal;
  /** Set when the request was aborted for taking longer than the timeout. */
  readonly timedOut: boolean;
}

/** What undici reads of an EventEmitter signal: an `abort` event, and `aborted`/`reason` when it has already fired. */
export class RequestSignal extends EventEmitter {
  aborted = false;
  reason: unknown = undefined;

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.emit('abort');
  }
}

export interface RequestTimer {
  /** A request begins: aborted after the timeout, or when `cancel` aborts (already has, even). */
  start(cancel: AbortSignal): TimedRequest;
  /** The request is over (answered, failed or aborted); it is let go. */
  end(request: TimedRequest): void;
  /** Aborts every request in flight started with `cancel`, with its reason. */
  cancel(cancel: AbortSignal): void;
}

interface Entry {
  readonly signal: RequestSignal;
  readonly cancel: AbortSignal;
  readonly deadline: number;
  timedOut: boolean;
}

/**
 * Times out and cancels requests with one timer and no listeners per request: every request has
 * the same timeout, so the set of those in flight, in the order they began, is also in the order
 * of their deadlines, and one timer set for the first deadline serves them all. (A timer and a
 * listener on the run's signal per request, or `AbortSignal.any`/`AbortSignal.timeout`, cost
 * each request more than a fifth of a plain fetch.) The caller registers {@link RequestTimer.cancel}
 * on each cancel signal once. `now` is for tests (a fake clock).
 */
export function createRequestTimer(timeoutMs: number, now: () => number = () => performance.now()): RequestTimer {
  const inFlight = new Set<Entry>();
  let timer: NodeJS.Timeout | undefined;

  const expire = (): void => {
    timer = undefined;
    const t = now();
    for (const entry of inFlight) {
      if (entry.deadline > t) {
        // Timers may fire a little early relative to performance.now(); wait for the rest.
        timer = setTimeout(expire, Math.max(1, Math.ceil(entry.deadline - t)));
        return;
      }
      inFlight.delete(entry);
      entry.timedOut = true;
      entry.signal.abort(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError'));
    }
  };

  return {
    start(cancel) {
      const entry: Entry = { signal: new RequestSignal(), cancel, deadline: now() + timeoutMs, timedOut: false };
      if (cancel.aborted) {
        entry.signal.abort(cancel.reason);
        return entry;
      }
      inFlight.add(entry);
      timer ??= setTimeout(expire, timeoutMs);
      return entry;
    },
    end(request) {
      inFlight.delete(request as Entry);
      // Nothing left to time: no timer keeps the process waiting.
      if (inFlight.size === 0 && timer) {
        clearTimeout(timer);
        timer = undefined;
      }
    },
    cancel(cancel) {
      for (const entry of inFlight) {
        if (entry.cancel !== cancel) continue;
        inFlight.delete(entry);
        entry.signal.abort(cancel.reason);
      }
    },
  };
}
