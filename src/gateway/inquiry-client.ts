import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import pLimit from 'p-limit';
import type { GatewayConfig } from '../config.ts';
import { ReconError } from '../errors.ts';
import { scrub, type Logger } from '../log.ts';
import type { GatewayCharge } from './charge.ts';
import { inquiryPath, type InquiryRequest } from './inquiry-path.ts';
import { classifyResponse, type AttemptResult } from './inquiry-response.ts';
import { createRateLimiter } from './rate-limiter.ts';
import { DEFAULT_BACKOFF, backoffDelay, sleep, type BackoffOptions } from './retry.ts';

export { inquiryPath, type InquiryRequest } from './inquiry-path.ts';

/** The answer for one charge. Only `authentication_failure` and the caller's abort throw. */
export type InquiryOutcome =
  | {
      readonly kind: 'found';
      readonly charge: GatewayCharge;
      /** The body as received, for the audit trail. */
      readonly raw: unknown;
      readonly bodyText: string;
      readonly httpStatus: number;
      readonly attempts: number;
    }
  /** `charge_id_not_exist` (QR also `invalid_order_id`, `no_transaction_found`): never retried. */
  | { readonly kind: 'not_found'; readonly code: string; readonly raw: unknown; readonly bodyText: string; readonly httpStatus: number; readonly attempts: number }
  /** No definite answer within the retry budget, or an answer that is not a charge: unverified. */
  | { readonly kind: 'failed'; readonly reason: string; readonly attempts: number };

/** The `gateway` block of `run.json` (contract §5). */
export interface InquiryStats {
  /** HTTP requests sent, retries included. */
  readonly requests: number;
  /** Requests that repeated an earlier one for the same charge. */
  readonly retries: number;
  /** Requests without a definite answer (5xx, 429, timeout, connection, malformed, pending) plus charges given up as failed. */
  readonly errors: number;
}

export interface InquiryClient {
  /**
   * Asks the gateway about one charge. Call it for every charge at once if you like: requests in
   * flight are bounded by `concurrency` and sent at most `rateLimitRps` per second.
   * @throws ReconError `GATEWAY_AUTH` on `authentication_failure`, for this and every later or
   *   in-flight call (no further request is sent); the signal's reason when `signal` aborts.
   */
  inquire(request: InquiryRequest, signal?: AbortSignal): Promise<InquiryOutcome>;
  stats(): InquiryStats;
}

/** A definite answer keeps the body text it came in, for the audit trail. */
type SentResult = Exclude<AttemptResult, { kind: 'found' | 'not_found' }> | (Extract<AttemptResult, { kind: 'found' | 'not_found' }> & { readonly bodyText: string });

export interface InquiryClientOptions {
  /** Defaults: base 500 ms, cap 30 s. Tests use a base of a few ms. */
  readonly backoff?: Partial<BackoffOptions>;
  /** See {@link createRateLimiter}; default 50 ms. */
  readonly rateMarginMs?: number;
}

export function createInquiryClient(
  config: GatewayConfig,
  logger: Logger,
  options: InquiryClientOptions = {},
): InquiryClient {
  const log = logger.child({ component: 'kpgw-inquiry' });
  const limit = pLimit(config.concurrency);
  const limiter = createRateLimiter({ rps: config.rateLimitRps, marginMs: options.rateMarginMs });
  const backoff: BackoffOptions = { ...DEFAULT_BACKOFF, ...options.backoff };
  const secrets = config.secretKey ? [config.secretKey] : [];
  /** Aborted, with the GATEWAY_AUTH error as reason, by the first authentication_failure. */
  const stopped = new AbortController();
  setMaxListeners(0, stopped.signal);
  const counters = { requests: 0, retries: 0, errors: 0 };

  const stop = (path: string): never => {
    if (!stopped.signal.aborted) {
      log.error({ path }, 'gateway answered authentication_failure; stopping all inquiries');
      stopped.abort(
        new ReconError('GATEWAY_AUTH', 'K-Payment Gateway refused the secret key (authentication_failure); check KPGW_SECRET_KEY'),
      );
    }
    throw stopped.signal.reason;
  };

  /**
   * One signal per caller signal that aborts on either it or the auth stop. Every request and
   * backoff wait listens to it, so it can have thousands of listeners (hence no limit), while
   * the caller's own signal and `stopped` get one listener each.
   */
  const relays = new WeakMap<AbortSignal, AbortSignal>();
  const cancelSignal = (signal: AbortSignal | undefined): AbortSignal => {
    if (!signal) return stopped.signal;
    let relay = relays.get(signal);
    if (!relay) {
      const controller = new AbortController();
      setMaxListeners(0, controller.signal);
      relay = controller.signal;
      relays.set(signal, relay);
      if (stopped.signal.aborted || signal.aborted) {
        controller.abort(stopped.signal.aborted ? stopped.signal.reason : signal.reason);
      } else {
        signal.addEventListener('abort', () => controller.abort(signal.reason), { once: true });
        stopped.signal.addEventListener('abort', () => controller.abort(stopped.signal.reason), { once: true });
      }
    }
    return relay;
  };

  /** One request, holding a p-limit slot from the rate permit to the end of the body. */
  const send = async (path: string, family: InquiryRequest['family'], cancel: AbortSignal, attempt: number): Promise<SentResult> => {
    await limiter.acquire(cancel);
    const timeout = AbortSignal.timeout(config.timeoutMs);
    const request = linkSignals([cancel, timeout]);
    counters.requests += 1;
    if (attempt > 1) counters.retries += 1;
    const started = performance.now();
    let status: number;
    let bodyText: string;
    let retryAfter: string | null;
    try {
      const response = await fetch(`${config.baseUrl}${path}`, {
        headers: { 'x-api-key': config.secretKey, accept: 'application/json' },
        signal: request.signal,
      });
      status = response.status;
      retryAfter = response.headers.get('retry-after');
      bodyText = await response.text();
    } catch (error) {
      if (cancel.aborted) throw cancel.reason;
      if (timeout.aborted) return { kind: 'retry', reason: `timeout after ${config.timeoutMs} ms` };
      return { kind: 'retry', reason: `connection error: ${scrub(describe(error), secrets)}` };
    } finally {
      request.dispose();
    }
    const ms = Math.round(performance.now() - started);
    log.debug({ path, status, ms, attempt }, 'inquiry answered');
    const result = classifyResponse(family, status, bodyText, retryAfter);
    if (result.kind === 'auth') return stop(path);
    return result.kind === 'found' || result.kind === 'not_found' ? { ...result, bodyText } : result;
  };

  const inquire = async (request: InquiryRequest, signal?: AbortSignal): Promise<InquiryOutcome> => {
    const path = inquiryPath(request);
    const cancel = cancelSignal(signal);
    for (let attempt = 1; ; attempt += 1) {
      if (cancel.aborted) throw cancel.reason;
      const result = await limit(() => {
        // Queued behind thousands of others: the run may have stopped meanwhile.
        if (cancel.aborted) throw cancel.reason;
        return send(path, request.family, cancel, attempt);
      });
      switch (result.kind) {
        case 'found':
          return { kind: 'found', charge: result.charge, raw: result.raw, bodyText: result.bodyText, httpStatus: result.httpStatus, attempts: attempt };
        case 'not_found':
          return { kind: 'not_found', code: result.code, raw: result.raw, bodyText: result.bodyText, httpStatus: result.httpStatus, attempts: attempt };
        case 'auth':
          return stop(path); // send() already threw; kept for exhaustiveness
        case 'failed': {
          counters.errors += 1;
          const reason = scrub(result.reason, secrets);
          log.warn({ path, attempts: attempt, reason }, 'inquiry failed');
          return { kind: 'failed', reason, attempts: attempt };
        }
        case 'retry': {
          counters.errors += 1;
          if (attempt > config.maxRetries) {
            const reason = `${result.reason}; gave up after ${attempt} attempt${attempt === 1 ? '' : 's'}`;
            log.warn({ path, attempts: attempt, reason }, 'inquiry failed');
            return { kind: 'failed', reason, attempts: attempt };
          }
          // A Retry-After is about the gateway, not this charge: hold every request, not just ours.
          if (result.retryAfterMs !== undefined) limiter.pause(result.retryAfterMs);
          const delayMs = backoffDelay(attempt - 1, backoff, result.retryAfterMs);
          log.info({ path, attempt, reason: result.reason, delayMs }, 'inquiry will be retried');
          await sleep(delayMs, cancel);
          break;
        }
      }
    }
  };

  return {
    inquire,
    stats: () => ({ ...counters }),
  };
}

/**
 * One signal that aborts when any of `signals` does, with that signal's reason. Unlike
 * `AbortSignal.any` it detaches from the long-lived run signal as soon as the request is over,
 * so 10,000 inquiries leave no listeners behind.
 */
function linkSignals(signals: readonly AbortSignal[]): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const already = signals.find((s) => s.aborted);
  if (already) {
    controller.abort(already.reason);
    return { signal: controller.signal, dispose: () => {} };
  }
  const listeners = signals.map((source) => {
    const listener = () => controller.abort(source.reason);
    source.addEventListener('abort', listener, { once: true });
    return [source, listener] as const;
  });
  return {
    signal: controller.signal,
    dispose: () => {
      for (const [source, listener] of listeners) source.removeEventListener('abort', listener);
    },
  };
}

/** undici reports "fetch failed" with the useful part (ECONNREFUSED, socket hang up) in `cause`. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
  const detail = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : '';
  return detail ? `${error.message} (${detail})` : error.message;
}
