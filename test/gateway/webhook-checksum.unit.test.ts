import { describe, expect, it } from 'vitest';
import { verifyWebhookBody, verifyWebhookChecksum, webhookChecksum } from '../../src/gateway/webhook-checksum.ts';
import { money } from '../../src/money.ts';

// The guide's worked example (§6.5.1).
const KEY = 'skey_prod_41Bbw6At8dJjVyKV3ZaXghhLpRro5oAtR';
const EXPECTED = 'cc1152742bc4a1169341f8fee95baf2d5886510d577fa95e751cdc6c29162a3a';
const fields = { id: 'chrg_prod_12345678', amount: money(15), currency: 'THB', status: 'success', transactionState: 'Authorized' };

describe('webhook checksum (guide §6.5.1)', () => {
  it('reproduces the guide test vector, amount written with four decimals', () => {
    expect(webhookChecksum(fields, KEY)).toBe(EXPECTED);
    // 15, 15.0 and "15.0000" are the same amount.
    expect(webhookChecksum({ ...fields, amount: money('15.0000') }, KEY)).toBe(EXPECTED);
  });

  it('verifies in constant time, rejecting any change', () => {
    expect(verifyWebhookChecksum(fields, EXPECTED, KEY)).toBe(true);
    expect(verifyWebhookChecksum(fields, EXPECTED.toUpperCase(), KEY)).toBe(true);
    expect(verifyWebhookChecksum({ ...fields, amount: money('15.01') }, EXPECTED, KEY)).toBe(false);
    expect(verifyWebhookChecksum(fields, EXPECTED, `${KEY}x`)).toBe(false);
    expect(verifyWebhookChecksum(fields, EXPECTED.slice(1), KEY)).toBe(false);
    expect(verifyWebhookChecksum(fields, '', KEY)).toBe(false);
  });

  it('checks the guide sample body as received', () => {
    const body = {
      id: 'chrg_prod_12345678', order_id: 'order_prod_12345678', object: 'qr', amount: 15, currency: 'THB',
      transaction_state: 'Authorized', status: 'success', checksum: EXPECTED,
    };
    expect(verifyWebhookBody(body, KEY)).toBe(true);
    expect(verifyWebhookBody({ ...body, amount: '15.00' }, KEY)).toBe(true);
    expect(verifyWebhookBody({ ...body, status: 'fail' }, KEY)).toBe(false);
    expect(verifyWebhookBody({ ...body, checksum: undefined }, KEY)).toBe(false);
    expect(verifyWebhookBody(null, KEY)).toBe(false);
  });
});
