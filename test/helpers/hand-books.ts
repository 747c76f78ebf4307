import { stringify } from 'csv-stringify/sync';

/**
 * Books small enough to check by hand: a card charge's inquiry answer in the guide's shape
 * (§6.1.2) with every figure written by the test, and ledger CSV text with the columns a test
 * names. Nothing is derived from the code under test.
 */
export type Answer = Record<string, unknown>;

/** A card charge's answer for `id` (its reference order `ORD-<id>`), created on `date` (Bangkok). */
export function cardAnswer(id: string, date: string, over: Answer): Answer {
  return {
    id,
    object: 'charge',
    currency: 'THB',
    status: 'success',
    livemode: false,
    created: `${date.replaceAll('-', '')}101500000`,
    source: { id: `card_${id}`, object: 'card', brand: 'visa', card_masking: '441770*****5830', issuer_bank: 'KASIKORNBANK' },
    reference_order: `ORD-${id}`,
    approval_code: '000941',
    failure_code: null,
    failure_message: null,
    refund_info: null,
    ...over,
  };
}

/** `settlement_info` of a THB charge: settled `settled`, with these fee figures. */
export function settlement(settled: string, mdr: string, vat: string, net: string): Answer {
  return { settle_amount: settled, baht_amount: settled, exchange_rate: '1.0000', orig_amount: settled, orig_mdr: mdr, orig_vat: vat, orig_net_amount: net };
}

/** One `refund_info` entry; `errorCode` for a refund that failed. */
export function refundEntry(refundId: string, date: string, amount: string, fees: { mdr: string; vat: string; net: string }, errorCode?: string): Answer {
  return {
    refund_id: refundId,
    refund_amount: amount,
    baht_amount: amount,
    exchange_rate: '1.0000',
    orig_amount: amount,
    orig_mdr: fees.mdr,
    orig_vat: fees.vat,
    orig_net_amount: fees.net,
    error_code: errorCode ?? null,
    error_message: errorCode ? 'Insufficient Balance' : null,
    refund_date: `${date.replaceAll('-', '')}180000000`,
  };
}

/** Ledger CSV: the header is every column any row names, in the order first named. */
export function ledgerText(rows: readonly Record<string, string>[]): string {
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  return stringify(rows as Record<string, string>[], { header: true, columns });
}

/** A card ledger row of charge `id` (by charge id and reference order unless `over` says otherwise). */
export function cardRow(id: string, date: string, over: Record<string, string>): Record<string, string> {
  return { charge_id: id, reference_order: `ORD-${id}`, transaction_date: date, source_type: 'card', currency: 'THB', ...over };
}
