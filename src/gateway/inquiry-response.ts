import { parseCharge, parseGatewayError } from './charge.ts';
import type { Failed, Found, GatewayAnswer, NotFound } from './gateway-answer.ts';
import type { InquiryRequest } from './inquiry-path.ts';
import { parseJsonBody } from './json-body.ts';
import { parseRetryAfter } from './retry.ts';

/**
 * What one HTTP answer means for the charge asked about: one of the answers of
 * {@link GatewayAnswer} (without how it was got, which the client adds), or one of two kinds
 * that never leave the client.
 */
export type AttemptResult =
  | Found
  | NotFound
  /** A definite answer that is not a charge; asking again would give the same. `code`: the gateway's error code, if any. */
  | (Failed & { readonly code?: string })
  /** No definite answer yet: ask again later (at least `retryAfterMs` later when given). */
  | { readonly kind: 'retry'; readonly reason: string; readonly retryAfterMs?: number }
  /**
   * `authentication_failure` (the key is wrong) or `ip_not_allow` (this machine's address is not
   * registered): true for every charge, so the run must stop.
   */
  | { readonly kind: 'auth'; readonly code: 'authentication_failure' | 'ip_not_allow' };

/**
 * Error codes that mean "the gateway does not know this charge" (guide §9). The QR API has two
 * more spellings of it.
 */
const NOT_FOUND_CODES: Readonly<Record<InquiryRequest['family'], ReadonlySet<string>>> = {
  card: new Set(['charge_id_not_exist']),
  qr: new Set(['charge_id_not_exist', 'invalid_order_id', 'no_transaction_found']),
};

/**
 * Classifies one answer. The guide publishes error bodies but no HTTP statuses, so the error
 * `code` decides first and the status only where there is no error body (429, 5xx, a proxy's
 * HTML page). Error codes are compared ignoring case: the guide itself writes `Pending_state`.
 * Numbers are read from their text (see {@link parseJsonBody}). A redirect never gets here: the
 * client stops the run on one.
 */
export function classifyResponse(
  family: InquiryRequest['family'],
  status: number,
  bodyText: string,
  retryAfterHeader: string | null,
): AttemptResult {
  let body: unknown;
  let isJson = true;
  try {
    body = parseJsonBody(bodyText);
  } catch {
    isJson = false;
  }
  const retryAfterMs = status === 429 || status === 503 ? parseRetryAfter(retryAfterHeader) : undefined;

  const error = isJson ? parseGatewayError(body) : null;
  if (error) {
    const code = error.code.toLowerCase();
    if (code === 'authentication_failure' || code === 'ip_not_allow') return { kind: 'auth', code };
    if (NOT_FOUND_CODES[family].has(code)) return { kind: 'not_found', code: error.code };
    // "Transaction is pending, please try again in 15 minutes": a later answer will be definite.
    if (code === 'pending_state') return retry(error.code, retryAfterMs);
    if (status === 429 || status >= 500) return retry(`HTTP ${status} ${error.code}`, retryAfterMs);
    return { kind: 'failed', reason: `gateway error ${error.code}${error.message ? `: ${error.message}` : ''}`, code };
  }
  if (status === 429) return retry('HTTP 429 (rate limited)', retryAfterMs);
  if (status >= 500) return retry(`HTTP ${status}`, retryAfterMs);
  if (status === 401) return { kind: 'auth', code: 'authentication_failure' };
  if (status < 200 || status >= 300) return { kind: 'failed', reason: `HTTP ${status} without a gateway error body` };
  // A 200 whose body does not parse was cut short or garbled on the way: ask again.
  if (!isJson) return retry(`malformed JSON body (HTTP ${status})`, retryAfterMs);
  const parsed = parseCharge(body);
  if (!parsed.ok) return { kind: 'failed', reason: `unreadable charge: ${parsed.reason}` };
  return { kind: 'found', charge: parsed.charge };
}

/** Ask again later (at least `retryAfterMs` later when given). Not a closure per answer: every answer is classified. */
function retry(reason: string, retryAfterMs: number | undefined): AttemptResult {
  return retryAfterMs === undefined ? { kind: 'retry', reason } : { kind: 'retry', reason, retryAfterMs };
}
