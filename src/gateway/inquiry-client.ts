import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import pLimit from 'p-limit';
import { Pool } from 'undici';
import type { GatewayConfig } from '../config/config.ts';
import { shiftDate } from '../dates.ts';
import { ReconError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { redactor } from '../redact.ts';
import { identityProblem } from './charge-identity.ts';
import type { GatewayAnswer, Received } from './gateway-answer.ts';
import { inquiryPath, type InquiryRequest } from './inquiry-path.ts';
import { classifyResponse, type AttemptResult } from './inquiry-response.ts';
import { createRateLimiter, type RateLimiter } from './rate-limiter.ts';
import { MAX_ANSWER_DESCRIPTION, readCappedBody } from './answer-body.ts';
import { createRequestTimer } from './request-timer.ts';
import { DEFAULT_BACKOFF, backoffDelay, sleep, type BackoffOptions } from './retry.ts';

export { inquiryPath, type ChargeIdentifiers, type InquiryRequest } from './inquiry-path.ts';
export type { GatewayAnswer } from './gateway-answer.ts';

/** A request that got no whole HTTP answer (timeout, connection error): always asked again. */
type NoAnswer = { readonly kind: 'retry'; readonly reason: string; readonly retryAfterMs?: undefined };

/** The `gateway` block of `run.json` (docs/reference.md §5.1). */
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
   * Asks the gateway about one charge. Only the run-stopping answers (below) and the caller's
   * abort throw; every other outcome is an answer. Call it for every charge at once if you like: requests in
   * flight are bounded by `concurrency` and sent at most `rateLimitRps` per second, retries and
   * the dated-path fallback included.
   * @throws ReconError `GATEWAY_AUTH` on `authentication_failure`, `GATEWAY_IP_NOT_ALLOWED` on
   *   `ip_not_allow`, `GATEWAY_REDIRECT` on any 3xx (never followed), for this and every later or
   *   in-flight call (no further request is sent); the signal's reason when `signal` aborts.
   */
  inquire(request: InquiryRequest, signal?: AbortSignal): Promise<GatewayAnswer>;
  stats(): InquiryStats;
  /**
   * `GATEWAY_UNREACHABLE` when requests were sent and not one got an HTTP answer (every attempt
   * a connection error or timeout), naming the host and the last reason; else `undefined`.
   */
  unreachable(): ReconError | undefined;
  /** The rate limiter's {@link RateLimiter.quietInMs}: when a run after this one may start at the full cap. */
  quietInMs(): number;
}

export interface InquiryClientOptions {
  /** Defaults: base 500 ms, cap 30 s. Tests use a base of a few ms. */
  readonly backoff?: Partial<BackoffOptions>;
}

export function createInquiryClient(
  config: GatewayConfig,
  logger: Logger,
  options: InquiryClientOptions = {},
): InquiryClient {
  const log = logger.child({ component: 'kpgw-inquiry' });
  const limiter = createRateLimiter({ rps: config.rateLimitRps });
  const backoff: BackoffOptions = { ...DEFAULT_BACKOFF, ...options.backoff };
  const redact = redactor([config.secretKey]);
  const base = new URL(config.baseUrl);
  const host = base.host;
  // undici's own request API on one pool of keep-alive connections to the gateway's origin, not
  // `fetch`: the same HTTP client without the WHATWG layer (Request, Response, Headers, streams)
  // that cost each request several times the wire's own work. It follows no redirect.
  const basePath = base.pathname === '/' ? '' : base.pathname;
  const pool = new Pool(base.origin, { connections: config.concurrency });
  // Per-request work kept to what the request needs (a run asks once per charge): the headers
  // built once, the debug line's clock read only when it is logged, no listener or timer of its own.
  const headers = { 'x-api-key': config.secretKey, accept: 'application/json' };
  const debug = log.isLevelEnabled('debug');
  const limit = pLimit(config.concurrency);
  const requests = createRequestTimer(config.timeoutMs);
  /** Aborted, with the run-stopping ReconError as reason, by the first answer that stops the run. */
  const stopped = new AbortController();
  setMaxListeners(0, stopped.signal);
  stopped.signal.addEventListener('abort', () => requests.cancel(stopped.signal), { once: true });
  const counters = { requests: 0, retries: 0, errors: 0 };
  /** Requests that got a whole HTTP answer of any kind, and why the last one that did not failed. */
  let answered = 0;
  let lastNoAnswer = '';

  const stop = (path: string, error: ReconError): never => {
    if (!stopped.signal.aborted) {
      log.error({ path, code: error.code, reason: error.message }, 'stopping all inquiries');
      stopped.abort(error);
    }
    throw stopped.signal.reason;
  };

  /**
   * One signal per caller signal that aborts on either it or the auth stop. Backoff waits and
   * requests waiting for a rate permit listen to it, so it can have thousands of listeners (hence
   * no limit), while the caller's own signal and `stopped` get one listener each. Requests in
   * flight are aborted through the request timer instead, which saves each one a listener.
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
      const cancelled = relay;
      relay.addEventListener('abort', () => requests.cancel(cancelled), { once: true });
      if (stopped.signal.aborted || signal.aborted) {
        controller.abort(stopped.signal.aborted ? stopped.signal.reason : signal.reason);
      } else {
        signal.addEventListener('abort', () => controller.abort(signal.reason), { once: true });
        stopped.signal.addEventListener('abort', () => controller.abort(stopped.signal.reason), { once: true });
      }
    }
    return relay;
  };

  /**
   * One request, holding a p-limit slot from the rate permit to the end of the body. Redirects
   * are never followed: the key would go wherever `Location` points, and each hop would be a
   * request the rate limiter never saw.
   */
  const send = async (path: string, family: InquiryRequest['family'], cancel: AbortSignal, attempt: number): Promise<(AttemptResult & Received) | NoAnswer> => {
    const permit = limiter.tryAcquire() ?? (await limiter.acquire(cancel));
    const request = requests.start(cancel);
    counters.requests += 1;
    if (attempt > 1) counters.retries += 1;
    const started = debug ? performance.now() : 0;
    let status: number;
    let bodyText: string;
    let retryAfter: string | null;
    let location: string | null;
    let tooLarge = false;
    try {
      const response = await pool.request({ method: 'GET', path: `${basePath}${path}`, headers, signal: request.signal });
      // The answer has begun: the request has reached the gateway (the rate window counts from here).
      permit.answered();
      status = response.statusCode;
      // Only these statuses read them (see classifyResponse).
      retryAfter = status === 429 || status === 503 ? headerValue(response.headers['retry-after']) : null;
      if (isRedirect(status)) {
        const target = headerValue(response.headers.location);
        location = target === null ? null : redact(target);
        await response.body.dump();
        bodyText = '';
      } else {
        location = null;
        const body = await readCappedBody(response);
        // The key, echoed back, is gone before anything reads the answer or keeps it.
        bodyText = body === undefined ? '' : redact(body);
        if (body === undefined) tooLarge = true;
      }
      // Only a whole answer counts: headers followed by a body that never ends are no answer.
      answered += 1;
    } catch (error) {
      if (cancel.aborted) throw cancel.reason;
      const reason = request.timedOut ? `timeout after ${config.timeoutMs} ms` : `connection error: ${redact(describe(error))}`;
      lastNoAnswer = reason;
      return { kind: 'retry', reason };
    } finally {
      permit.answered();
      requests.end(request);
    }
    if (debug) log.debug({ path, status, ms: Math.round(performance.now() - started), attempt }, 'inquiry answered');
    if (isRedirect(status)) return stop(path, redirectError(status, location));
    // Never retried: the gateway would send the same again.
    if (tooLarge) return { kind: 'failed', reason: `answer too large (over ${MAX_ANSWER_DESCRIPTION}, HTTP ${status}); not read further`, bodyText, httpStatus: status };
    const result = classifyResponse(family, status, bodyText, retryAfter);
    if (result.kind === 'auth') return stop(path, refusalError(result.code));
    return { ...result, bodyText, httpStatus: status };
  };

  const redirectError = (status: number, location: string | null): ReconError => {
    const target = location === null ? 'without a Location' : `redirecting to ${redact(hostOf(location, config.baseUrl))}`;
    return new ReconError(
      'GATEWAY_REDIRECT',
      `K-Payment Gateway answered ${status} ${target}; redirects are never followed (the key is sent only to ${host}); check KPGW_BASE_URL`,
    );
  };

  /** One path, retried within the budget; a definite answer or `failed`. */
  const ask = async (request: InquiryRequest, cancel: AbortSignal): Promise<GatewayAnswer & { gatewayCode?: string }> => {
    const path = inquiryPath(request);
    for (let attempt = 1; ; attempt += 1) {
      if (cancel.aborted) throw cancel.reason;
      const result = await limit(() => {
        // Queued behind thousands of others: the run may have stopped meanwhile.
        if (cancel.aborted) throw cancel.reason;
        return send(path, request.family, cancel, attempt);
      });
      switch (result.kind) {
        case 'found': {
          const problem = identityProblem(request, result.charge);
          if (problem) {
            counters.errors += 1;
            return { kind: 'failed', reason: redact(problem), attempts: attempt, path };
          }
          return { kind: 'found', charge: result.charge, bodyText: result.bodyText, httpStatus: result.httpStatus, attempts: attempt, path };
        }
        case 'not_found':
          return { kind: 'not_found', code: result.code, bodyText: result.bodyText, httpStatus: result.httpStatus, attempts: attempt, path };
        case 'auth':
          return stop(path, refusalError(result.code)); // send() already threw; kept for exhaustiveness
        case 'failed':
          counters.errors += 1;
          return { kind: 'failed', reason: redact(result.reason), attempts: attempt, path, gatewayCode: result.code };
        case 'retry': {
          counters.errors += 1;
          if (attempt > config.maxRetries) {
            return { kind: 'failed', reason: `${result.reason}; gave up after ${attempt} attempt${attempt === 1 ? '' : 's'}`, attempts: attempt, path };
          }
          // A Retry-After is about the gateway, not this charge: hold every request, not just ours.
          if (result.retryAfterMs !== undefined) limiter.pause(result.retryAfterMs);
          const delayMs = backoffDelay(attempt - 1, backoff, result.retryAfterMs);
          // Debug, not info: run.json counts the retries, and a slow night would flood the log.
          if (debug) log.debug({ path, attempt, reason: result.reason, delayMs }, 'inquiry will be retried');
          await sleep(delayMs, cancel);
          break;
        }
      }
    }
  };

  const inquire = async (request: InquiryRequest, signal?: AbortSignal): Promise<GatewayAnswer> => {
    const cancel = cancelSignal(signal);
    // A URL parser resolves a path segment `.` or `..` (however percent-encoded) away, so such an
    // id would ask about another path of the gateway: it cannot be asked for at all.
    if (request.id === '.' || request.id === '..') {
      return { kind: 'failed', reason: `'${request.id}' cannot be asked for: it is not an id a URL path can carry`, attempts: 0, path: '' };
    }
    if (request.transactionDate === undefined) return logged(withoutCode(await ask(request, cancel)));
    // docs/reference.md §4.2: a dated path refused as invalid_parameter is tried with the day before and
    // the day after (a ledger booking in UTC is up to 7 hours off Bangkok), once each.
    const candidates = datedAlternatives(request);
    let attempts = 0;
    let outcome: GatewayAnswer & { gatewayCode?: string } | undefined;
    for (const candidate of candidates) {
      outcome = await ask(candidate, cancel);
      attempts += outcome.attempts;
      if (outcome.gatewayCode !== 'invalid_parameter') break;
    }
    const last = withoutCode(outcome!);
    return logged(
      last.kind === 'failed' && outcome!.gatewayCode === 'invalid_parameter' && candidates.length > 1
        ? { ...last, path: inquiryPath(request), attempts, reason: `${last.reason} (for ${candidates.map((c) => c.transactionDate).join(', ')})` }
        : { ...last, attempts },
    );
  };

  const logged = (result: GatewayAnswer): GatewayAnswer => {
    if (result.kind === 'failed') log.warn({ path: result.path, attempts: result.attempts, reason: result.reason }, 'inquiry failed');
    return result;
  };

  return {
    inquire,
    stats: () => ({ ...counters }),
    quietInMs: () => limiter.quietInMs(),
    unreachable: () =>
      counters.requests > 0 && answered === 0
        ? new ReconError('GATEWAY_UNREACHABLE', `K-Payment Gateway at ${host} gave no answer to any request (last: ${lastNoAnswer}); check KPGW_BASE_URL and the network`)
        : undefined,
  };
}

/** The answer without the gateway's code of a failure, which only `inquire` looks at. */
function withoutCode(outcome: GatewayAnswer & { gatewayCode?: string }): GatewayAnswer {
  return outcome.kind === 'failed' ? { kind: 'failed', reason: outcome.reason, attempts: outcome.attempts, path: outcome.path } : outcome;
}

/** The request as asked, then (dated card paths only) with the day before and the day after. */
function datedAlternatives(request: InquiryRequest): InquiryRequest[] {
  if (request.transactionDate === undefined) return [request];
  const compact = inquiryPath(request).slice(-8);
  const date = `${compact.slice(0, 4)}-${compact.slice(4, 6)}-${compact.slice(6, 8)}`;
  const shifted = (days: number) => shiftDate(date, days).replaceAll('-', '');
  return [0, -1, 1].map((days) => ({ ...request, transactionDate: shifted(days) }));
}

function isRedirect(status: number): boolean {
  return status >= 300 && status < 400;
}

/** The host a `Location` points to (relative ones resolve against the base URL). */
function hostOf(location: string, baseUrl: string): string {
  try {
    return new URL(location, baseUrl).host || location;
  } catch {
    return JSON.stringify(location.slice(0, 80));
  }
}

function refusalError(code: 'authentication_failure' | 'ip_not_allow'): ReconError {
  return code === 'ip_not_allow'
    ? new ReconError('GATEWAY_IP_NOT_ALLOWED', "this machine's address is not allowed by KBank (ip_not_allow)")
    : new ReconError('GATEWAY_AUTH', 'K-Payment Gateway refused the secret key (authentication_failure); check KPGW_SECRET_KEY');
}

/** A response header as one value (repeated ones joined, as `fetch`'s Headers does). */
function headerValue(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return typeof value === 'string' ? value : value.join(', ');
}

/** undici's error with its code (ECONNREFUSED, UND_ERR_SOCKET) when the message does not say it. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
}
