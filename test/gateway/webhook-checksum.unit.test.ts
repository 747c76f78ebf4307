import { describe, expect, it } from 'vitest';
import { parseJsonBody } from '../../src/gateway/json-body.ts';
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

/**
 * One body each shaped as the guide's card (§6.5.2), QR (§6.5.3) and Alipay (§6.5.4) samples, with
 * checksums worked out outside this code, with the key below:
 *   printf '%s' "chrg_test_c4rd00000000000000000001200.5000THBsuccessAuthorized$K" | sha256sum
 *   printf '%s' "chrg_test_qr000000000000000000000021234.5000THBsuccessAuthorized$K" | sha256sum
 *   printf '%s' "chrg_test_1796dc2004414f8297c3825d0982cde31.0000THBfailDeclined$K" | sha256sum
 *   printf '%s' "chrg_test_big0000000000000000000112345678901234.5678THBsuccessAuthorized$K" | sha256sum
 */
describe('webhook checksum of card, QR and Alipay bodies (guide §6.5.2–6.5.4)', () => {
  const K = 'skey_test_21Aa8XrPq4sTgq7mWnZcVb3';
  const card = `{
    "id": "chrg_test_c4rd00000000000000000001", "object": "charge", "amount": "200.50", "currency": "THB",
    "transaction_state": "Authorized",
    "source": { "id": "card_test_12345678", "object": "card", "brand": "mastercard", "card_masking": "123443*****8765", "issuer_bank": "Kasikornbank Public Limited" },
    "created": "20260301121944000", "status": "success", "reference_order": "20260301175600", "description": "Awesome Product",
    "approval_code": "123456", "ref_1": "reference_id123", "livemode": false, "failure_code": null, "failure_message": null,
    "mpi": { "eci": "05", "xid": "30", "cavv": "000001087033360000000008633333000000000000", "kbank_mpi": true },
    "checksum": "b0b6c76e9b6165829d4204a86c8cda47c6dc1b12f036d0b6ff189a085a735fe3" }`;
  const qr = `{
    "id": "chrg_test_qr00000000000000000000002", "order_id": "order_test_12345678", "object": "qr", "amount": 1234.5,
    "currency": "THB", "transaction_state": "Authorized", "source": { "id": "qr_test_12345678", "object": "qr", "brand": "ThaiQR" },
    "created": "20260301121944000", "status": "success", "reference_order": "WT123456", "description": "TestDescription",
    "livemode": false, "failure_code": "", "failure_message": "",
    "checksum": "4b7f9f1fe39d0be432b51c33b147d19368530033e9b641bda4111ab56015491e" }`;
  const alipay = `{
    "id": "chrg_test_1796dc2004414f8297c3825d0982cde3", "object": "charge", "amount": 1.0, "currency": "THB",
    "transaction_state": "Declined", "source": { "id": "redr_test_42f00571ac396ad600ce8e72b0e58def1", "object": "redirect", "brand": "Alipay" },
    "created": "20260301212842000", "status": "fail", "reference_order": "QT5663363", "description": "TestDescription",
    "redirect_url": null, "ref_1": "reference_1", "ref_2": "reference_2", "ref_3": "reference_3", "livemode": false,
    "failure_code": "05", "failure_message": "Do not honor",
    "checksum": "e9bd4deecd022228f4df2d6a7a2d52994b8d91418d1423ee609a780fd7ba4a1d" }`;

  it.each([
    ['card', card],
    ['QR', qr],
    ['Alipay', alipay],
  ])('verifies the %s body, and no longer once a checksummed field changes', (_shape, text) => {
    const body = parseJsonBody(text) as Record<string, unknown>;
    expect(verifyWebhookBody(body, K)).toBe(true);
    expect(verifyWebhookBody(body, `${K}0`)).toBe(false);
    for (const field of ['id', 'currency', 'status', 'transaction_state']) {
      expect(verifyWebhookBody({ ...body, [field]: `${String(body[field])}x` }, K), field).toBe(false);
    }
    expect(verifyWebhookBody({ ...body, amount: '1000.00' }, K)).toBe(false);
  });

  it('writes the amount from its decimal digits, past what a binary float holds', () => {
    // 18 significant digits: JSON.parse would round it to 12345678901234.568.
    const text = '{"id": "chrg_test_big00000000000000000001", "amount": 12345678901234.5678, "currency": "THB", "status": "success", "transaction_state": "Authorized", "checksum": "2121dd42ec797895739203a62d0b1a4d4acfd986a29939dc95ee66469edc0030"}';
    expect(verifyWebhookBody(parseJsonBody(text), K)).toBe(true);
    expect(verifyWebhookBody(JSON.parse(text), K)).toBe(false);
    expect(webhookChecksum({ id: 'chrg_test_big00000000000000000001', amount: money('12345678901234.5678'), currency: 'THB', status: 'success', transactionState: 'Authorized' }, K)).toBe(
      '2121dd42ec797895739203a62d0b1a4d4acfd986a29939dc95ee66469edc0030',
    );
  });
});
