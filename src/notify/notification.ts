import { createHash } from 'node:crypto';
import { readGatewayDecimal } from '../gateway/charge.ts';
import { JsonNumber, parseJsonBody } from '../gateway/json-body.ts';
import { verifyWebhookChecksum, webhookChecksumFieldsOf } from '../gateway/webhook-checksum.ts';
import type { SourceType } from '../vocabulary.ts';
import type { ChecksumVerdict, NewNotification, ReceivedVia } from './notify.table.ts';

/** Bodies larger than this are refused (HTTP 413, or a rejected import line); KBank's are about 1 KiB. */
export const MAX_NOTIFY_BYTES = 64 * 1024;

/** How and when a body arrived. */
export interface Receipt {
  readonly at: Date;
  readonly via: ReceivedVia;
  /** http: the peer (and X-Forwarded-For as given); import: `file:line`. */
  readonly from: string;
}

/** A Notify body read and checked, ready to store: the row, and its identity. */
export interface Notification {
  readonly row: NewNotification & { body_sha256: Buffer; checksum_verdict: ChecksumVerdict };
  /** `body_sha256` in hex, for maps and logs. */
  readonly key: string;
}

export type NotificationRead = { ok: true; notification: Notification } | { ok: false; reason: string };

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads one Notify body exactly as it came (bytes from HTTP, or a line's text from a file). It
 * must be a JSON object in UTF-8 (JSON's only encoding, and what lets the text be stored and
 * hashed exactly as received); anything else is refused. A body that is JSON but fails its
 * checksum, or lacks a field the checksum covers, is `invalid`: kept, never trusted.
 */
export function readNotification(input: Buffer | string, secretKey: string, receipt: Receipt): NotificationRead {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  if (bytes.length > MAX_NOTIFY_BYTES) return { ok: false, reason: `body is larger than ${MAX_NOTIFY_BYTES} bytes` };
  let text: string;
  try {
    text = typeof input === 'string' ? input : UTF8.decode(bytes);
  } catch {
    return { ok: false, reason: 'body is not UTF-8 text' };
  }
  let body: unknown;
  try {
    // Numbers keep the digits sent (the checksum covers the amount); a key given twice is refused.
    body = parseJsonBody(text);
  } catch (error) {
    return { ok: false, reason: `body is not JSON: ${(error as Error).message}` };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { ok: false, reason: 'body is not a JSON object' };
  const b = body as Record<string, unknown>;
  const signed = webhookChecksumFieldsOf(b);
  const valid = signed !== undefined && !hasNul(signed.fields.id) && verifyWebhookChecksum(signed.fields, signed.checksum, secretKey);
  const sha256 = createHash('sha256').update(bytes).digest();
  // Stored with the digits sent (numeric keeps `1234.50` as written), when it is an amount at all.
  const amount = readGatewayDecimal(b.amount) ? String(b.amount instanceof JsonNumber ? b.amount.text : b.amount).trim() : null;
  return {
    ok: true,
    notification: {
      key: sha256.toString('hex'),
      row: {
        body_sha256: sha256,
        body: text,
        received_at: receipt.at,
        received_via: receipt.via,
        received_from: receipt.from,
        checksum_verdict: valid ? 'valid' : 'invalid',
        charge_id: textOf(b.id),
        order_id: textOf(b.order_id),
        reference_order: textOf(b.reference_order),
        source_type: sourceTypeOf(b),
        amount,
        currency: textOf(b.currency),
        status: textOf(b.status),
        transaction_state: textOf(b.transaction_state),
        livemode: b.livemode === true || b.livemode === 'true' ? true : b.livemode === false || b.livemode === 'false' ? false : null,
      },
    },
  };
}

/** A string field as sent (a number as its digits); `null` when absent, empty or holding what a text column cannot (NUL). */
function textOf(value: unknown): string | null {
  const text = value instanceof JsonNumber ? value.text : typeof value === 'string' ? value : null;
  return text === null || text === '' || hasNul(text) ? null : text;
}

function hasNul(text: string): boolean {
  return text.includes('\u0000');
}

/**
 * The ledger's payment type from the body's `source` (guide §6.5.2–6.5.4): Alipay is a
 * `redirect` source, Thai QR and WeChat are QR sources, any other brand is a card.
 */
function sourceTypeOf(body: Record<string, unknown>): SourceType | null {
  const source = body.source;
  if (typeof source !== 'object' || source === null || Array.isArray(source)) return null;
  const s = source as Record<string, unknown>;
  const brand = typeof s.brand === 'string' ? s.brand.toLowerCase() : '';
  if (brand === 'alipay') return 'alipay';
  if (brand === 'wechat') return 'wechat';
  if (brand === 'unionpay') return 'unionpay';
  if (brand === 'thaiqr' || brand === 'promptpay' || s.object === 'qr' || body.object === 'qr') return 'qr';
  return 'card';
}
