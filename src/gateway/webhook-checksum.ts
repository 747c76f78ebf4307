import { createHash, timingSafeEqual } from 'node:crypto';
import { parseMoney, type Money } from '../money.ts';
import { JsonNumber } from './json-body.ts';

/** The fields of a Webhook Notify body that its checksum covers (guide §6.5.1). */
export interface WebhookChecksumFields {
  readonly id: string;
  readonly amount: Money;
  readonly currency: string;
  readonly status: string;
  readonly transactionState: string;
}

/**
 * `sha256_hex(id + amount with exactly 4 decimals + currency + status + transaction_state + key)`.
 * The guide's Java sample also appends `failure_code`, but only the worked example's order
 * reproduces its published hash, so that is the one used. The amount is a decimal, written with
 * decimal.js (half-up past the fourth place), never through a binary float.
 */
export function webhookChecksum(fields: WebhookChecksumFields, secretKey: string): string {
  const text = `${fields.id}${fields.amount.toFixed(4)}${fields.currency}${fields.status}${fields.transactionState}${secretKey}`;
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Compares in constant time, so response timing does not leak how much of a forged checksum was right. */
export function verifyWebhookChecksum(fields: WebhookChecksumFields, checksum: string, secretKey: string): boolean {
  const expected = Buffer.from(webhookChecksum(fields, secretKey), 'utf8');
  const given = Buffer.from(checksum.trim().toLowerCase(), 'utf8');
  // timingSafeEqual needs equal lengths; a wrong length reveals nothing but the (public) length.
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * The checksummed fields and the checksum of a Notify body (`id`, `amount`, `currency`, `status`,
 * `transaction_state`, `checksum`); `undefined` when one is missing or not readable. The amount may
 * be a number (best parsed with `parseJsonBody`, so its digits are the ones sent) or a numeric string.
 */
export function webhookChecksumFieldsOf(body: unknown): { fields: WebhookChecksumFields; checksum: string } | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const b = body as Record<string, unknown>;
  const amount = parseMoney(b.amount instanceof JsonNumber ? b.amount.text : b.amount);
  const strings = [b.id, b.currency, b.status, b.transaction_state, b.checksum];
  if (!amount || !strings.every((s): s is string => typeof s === 'string')) return undefined;
  const [id, currency, status, transactionState, checksum] = strings as [string, string, string, string, string];
  return { fields: { id, amount, currency, status, transactionState }, checksum };
}

/** Checks a Webhook Notify body as received (see {@link webhookChecksumFieldsOf}). */
export function verifyWebhookBody(body: unknown, secretKey: string): boolean {
  const read = webhookChecksumFieldsOf(body);
  return read !== undefined && verifyWebhookChecksum(read.fields, read.checksum, secretKey);
}
