import { setTimeout as sleep } from 'node:timers/promises';
import { webhookChecksum } from '../gateway/webhook-checksum.ts';
import type { Logger } from '../log.ts';
import { money, parseMoney } from '../money.ts';
import type { Family } from './charge-store.ts';

/** What the simulator's notifications came to so far. */
export interface NotifyReport {
  /** Notifications sent (each counted once, however often it was tried). */
  readonly sent: number;
  /** Answered 200. */
  readonly delivered: number;
  /** Given up after every try. */
  readonly failed: number;
}

export interface NotifySender {
  send(body: Record<string, unknown>): void;
  /** Resolves once everything sent so far is delivered or given up. */
  settled(): Promise<NotifyReport>;
  /** Stops retrying and waits for the requests in flight. */
  close(): Promise<void>;
}

const CONCURRENCY = 4;
const TRIES = 4;
const TIMEOUT_MS = 10_000;

/**
 * POSTs Notify bodies to `url` as KBank does (guide §6.5): a few at a time, and again, after a
 * pause, when the answer is not 200 (honouring `Retry-After` up to 5 seconds).
 */
export function createNotifySender(url: string, logger?: Logger): NotifySender {
  const queue: Record<string, unknown>[] = [];
  const report = { sent: 0, delivered: 0, failed: 0 };
  const stop = new AbortController();
  let running = 0;
  let waiters: (() => void)[] = [];
  const deliver = async (body: Record<string, unknown>) => {
    const text = JSON.stringify(body);
    for (let attempt = 1; attempt <= TRIES && !stop.signal.aborted; attempt++) {
      let wait = 200 * attempt;
      try {
        const response = await fetch(url, {
          method: 'POST',
          body: text,
          headers: { 'content-type': 'application/json' },
          signal: AbortSignal.any([stop.signal, AbortSignal.timeout(TIMEOUT_MS)]),
        });
        await response.arrayBuffer();
        if (response.status === 200) return void (report.delivered += 1);
        const retryAfter = Number(response.headers.get('retry-after'));
        if (retryAfter > 0) wait = Math.min(retryAfter, 5) * 1000;
        logger?.debug({ id: body.id, status: response.status, attempt }, 'notification not accepted');
      } catch (error) {
        logger?.debug({ id: body.id, err: error, attempt }, 'notification not delivered');
      }
      if (attempt < TRIES) await sleep(wait, undefined, { signal: stop.signal }).catch(() => undefined);
    }
    report.failed += 1;
    logger?.warn({ id: body.id, url }, 'gave up sending a notification');
  };
  const pump = () => {
    while (running < CONCURRENCY && queue.length > 0) {
      running += 1;
      void deliver(queue.shift()!).finally(() => {
        running -= 1;
        pump();
        if (running === 0 && queue.length === 0) {
          for (const resolve of waiters) resolve();
          waiters = [];
        }
      });
    }
  };
  return {
    send(body) {
      report.sent += 1;
      queue.push(body);
      pump();
    },
    async settled() {
      if (running > 0 || queue.length > 0) await new Promise<void>((resolve) => waiters.push(resolve));
      return { ...report };
    },
    async close() {
      queue.length = 0;
      stop.abort();
      if (running > 0) await new Promise<void>((resolve) => waiters.push(resolve));
    },
  };
}

/**
 * The Notify body KBank sends for a charge's payment, from the charge's first inquiry record, in
 * the guide's shape for its kind: QR (§6.5.3: `order_id`, a QR source), Alipay (§6.5.4: a
 * `redirect` source, `redirect_url`, the refs) or card (§6.5.2: the card's masking and bank, the
 * approval code, the refs, a convenience fee). A paid charge is notified `Authorized`, whatever
 * became of it later (captured, settled, voided); a failed one as declined.
 */
export function notifyBodyOf(record: Record<string, unknown>, family: Family, secretKey: string): Record<string, unknown> {
  const source = (typeof record.source === 'object' && record.source !== null ? record.source : {}) as Record<string, unknown>;
  const success = record.status === 'success';
  const state = String(record.transaction_state ?? '');
  const common = {
    id: record.id,
    amount: record.amount,
    currency: record.currency ?? 'THB',
    transaction_state: success ? 'Authorized' : FAILED_STATES.has(state) ? state : 'Declined',
  };
  const tail = {
    created: record.created,
    status: success ? 'success' : 'fail',
    reference_order: record.reference_order,
    description: record.description ?? 'Sample order',
  };
  const outcome = { livemode: record.livemode ?? false, failure_code: record.failure_code ?? null, failure_message: record.failure_message ?? null };
  const refs = { ref_1: record.ref_1 ?? null, ref_2: record.ref_2 ?? null, ref_3: record.ref_3 ?? null };
  let body: Record<string, unknown>;
  if (family === 'qr') {
    body = { ...common, order_id: record.order_id, object: 'qr', source: { id: source.id, object: 'qr', brand: source.brand }, ...tail, ...outcome };
  } else if (String(source.brand).toLowerCase() === 'alipay') {
    body = { ...common, object: 'charge', source: { id: source.id, object: 'redirect', brand: 'Alipay' }, ...tail, redirect_url: null, ...refs, ...outcome };
  } else {
    const card = { id: source.id, object: source.object ?? 'card', brand: source.brand, card_masking: source.card_masking, issuer_bank: source.issuer_bank };
    body = { ...common, object: 'charge', source: card, ...tail, approval_code: record.approval_code ?? null, ...refs, ...outcome, ...(record.convfee ? { convfee: record.convfee } : {}) };
  }
  return { ...body, checksum: sign(body, secretKey) };
}

/**
 * A forged notification, as a fraudster would send it for an order never paid: a charge KBank
 * does not know, `success`, and a checksum made without the merchant's key.
 */
export function forgedNotifyBody(today: string): Record<string, unknown> {
  const body = {
    id: 'chrg_test_forged_notify_000001',
    object: 'charge',
    amount: 9999,
    currency: 'THB',
    transaction_state: 'Authorized',
    source: { id: 'card_test_forged_000001', object: 'card', brand: 'visa', card_masking: '411111*****1111', issuer_bank: 'KASIKORNBANK' },
    created: `${today.replaceAll('-', '')}101500000`,
    status: 'success',
    reference_order: 'FORGED-000001',
    description: 'never paid',
    livemode: false,
    failure_code: null,
    failure_message: null,
  };
  return { ...body, checksum: sign(body, 'skey_test_not_the_merchants_key') };
}

const FAILED_STATES = new Set(['Declined', 'Reversed', 'Pre-Authorized', 'Initialize']);

function sign(body: Record<string, unknown>, key: string): string {
  const amount = parseMoney(body.amount) ?? money(0);
  return webhookChecksum({ id: String(body.id), amount, currency: String(body.currency), status: String(body.status), transactionState: String(body.transaction_state) }, key);
}
