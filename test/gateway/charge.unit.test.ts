import { describe, expect, it } from 'vitest';
import { canonicalState, parseCharge, parseGatewayError, type GatewayCharge } from '../../src/gateway/charge.ts';
import { classifyResponse } from '../../src/gateway/inquiry-response.ts';
import { money, type Money } from '../../src/money.ts';
import { guideSample } from './helpers.ts';

function parsed(body: unknown): GatewayCharge {
  const result = parseCharge(body);
  if (!result.ok) throw new Error(`did not parse: ${result.reason}`);
  return result.charge;
}

/** Decimal(14,4) as the guide types it: compared as text with four places. */
const d4 = (value: Money | null | undefined) => (value == null ? value : value.toFixed(4));

describe('guide samples parse to the values printed in the guide', () => {
  it('§6.1.2 Inquiry Transaction (refunded card charge with settlement and refund)', () => {
    const charge = parsed(guideSample('6.1.2-inquiry.json'));
    expect(charge).toMatchObject({
      id: 'chrg_prod_208adcd781192334b1eab9c626a287cc18e',
      object: 'charge',
      orderId: null,
      currency: 'THB',
      transactionState: 'Refunded',
      status: 'success',
      source: {
        id: 'card_prod_20868ec30f8460d763d6a3bc70dd35f477f',
        object: 'card',
        brand: 'mastercard',
        cardMasking: '540488*****0808',
        issuerBank: 'KASIKORN BANK PUBLIC COMPANY LIMITED',
      },
      created: '20190604161947000',
      createdDate: '2019-06-04',
      referenceOrder: 'JUASU95Q4F',
      approvalCode: '123456',
      failureCode: null,
      failureMessage: null,
      livemode: true,
      warnings: [],
    });
    expect(charge.amount.toString()).toBe('11');
    const s = charge.settlement!;
    expect([s.settleAmount, s.bahtAmount, s.exchangeRate, s.origAmount, s.origMdr, s.origVat, s.origNetAmount].map(d4)).toEqual(
      ['11.0000', '11.0000', '1.0000', '11.0000', '0.2800', '0.0200', '10.7000'],
    );
    expect(s.origNetAmount!.eq(money('10.7000'))).toBe(true);
    expect(s.origNetAmount!.toString()).toBe('10.7');
    expect(charge.refunds).toHaveLength(1);
    const r = charge.refunds[0]!;
    expect(r.refundId).toBe('refd_prod_00000012345678901234567890123456789');
    // The sample has no refund_amount: the amount comes from settle_amount.
    expect([r.amount, r.bahtAmount, r.exchangeRate, r.origAmount, r.origMdr, r.origVat, r.origNetAmount].map(d4)).toEqual(
      ['11.0000', '11.0000', '1.0000', '11.0000', '0.2800', '0.0200', '10.7000'],
    );
    expect([r.errorCode, r.errorMessage, r.refundDate]).toEqual([null, null, null]);
    expect([charge.ref1, charge.ref2, charge.ref3]).toEqual(['Ref123', '123456', null]);
    expect(charge.extra).toMatchObject({ description: 'Test Product', dcc_data: null });
  });

  it('§6.1.1 Create Charge (authorized, not yet settled)', () => {
    const charge = parsed(guideSample('6.1.1-create-charge.json'));
    expect(charge).toMatchObject({
      id: 'chrg_prod_6024360e68682f247f082b7fdcdac803c2f',
      currency: 'THB',
      transactionState: 'Authorized',
      status: 'success',
      source: {
        id: 'card_prod_60248630ce8860422e9f7226644eb2772b8',
        object: 'card',
        brand: 'visa',
        cardMasking: '441770*****1827',
        issuerBank: 'Kasikornbank Public Company Limited',
      },
      created: '20220307212451000',
      createdDate: '2022-03-07',
      referenceOrder: 'AP220307314388053',
      approvalCode: '000941',
      livemode: true,
      settlement: null,
      refunds: [],
    });
    expect(charge.amount.toString()).toBe('305');
    expect(charge.extra).toMatchObject({ description: 'Testmerchant', campaign_id: null, mpi: { eci: '05' } });
  });

  it('§6.1.3 Void Transaction', () => {
    const charge = parsed(guideSample('6.1.3-void.json'));
    expect(charge).toMatchObject({
      id: 'chrg_prod_208e7eb1773b5f84587bf6689644027520f',
      transactionState: 'Voided',
      status: 'success',
      source: { brand: 'visa', cardMasking: '492141*****4242' },
      created: '20190606134355773',
      createdDate: '2019-06-06',
      referenceOrder: 'INV1234567',
      approvalCode: '123456',
      livemode: true,
      settlement: null,
      refunds: [],
    });
    expect(charge.amount.toString()).toBe('11.5');
    expect(charge.extra).toMatchObject({ redirect_url: '', campaign_id: '00000001' });
    expect(charge.ref1).toBe('1');
  });

  it('§6.1.4 Settle Transaction', () => {
    const charge = parsed(guideSample('6.1.4-settle.json'));
    expect(charge).toMatchObject({
      id: 'chrg_prod_29f1cf15af3e554e00950ced9bdcd4b69b',
      transactionState: 'Captured',
      created: '20190606140512000',
      createdDate: '2019-06-06',
      referenceOrder: 'INV1234567',
      source: { id: 'card_prod_29ac5ac5a548fa18e47275b29e3235437e', brand: 'visa' },
      settlement: null,
    });
    expect(charge.amount.toString()).toBe('5');
  });

  it('§6.1.5 Refund Transaction: zeros in settlement_info are values, not absence', () => {
    const charge = parsed(guideSample('6.1.5-refund.json'));
    expect(charge).toMatchObject({
      id: 'chrg_prod_2082d5d99e4bb90422fa3fcfe2ba3714234',
      transactionState: 'Refund Sent',
      status: 'success',
      created: '20210920175324000',
      createdDate: '2021-09-20',
      referenceOrder: 'SmartpayTest202109004',
      approvalCode: null,
      livemode: true,
      source: { brand: 'visa', cardMasking: '441770*****0915' },
      refunds: [],
    });
    expect(charge.amount.toFixed(1)).toBe('60.0');
    const s = charge.settlement!;
    expect([s.settleAmount, s.bahtAmount, s.exchangeRate, s.origAmount, s.origMdr, s.origVat, s.origNetAmount].map(d4)).toEqual(
      ['92.2000', '92.2000', '1.0000', '0.0000', '0.0000', '0.0000', '0.0000'],
    );
    expect(charge.extra.refund_id).toBe('refd_prod_2081713a23c14b5033adb074b5464fb6c66');
  });

  it('§6.1.5 error sample is an error body, not a charge', () => {
    const body = guideSample('6.1.5-refund-error.json');
    expect(parseCharge(body).ok).toBe(false);
    expect(parseGatewayError(body)).toEqual({ code: 'amount_exceed', message: 'Refund amount cannot exceed the available limit' });
  });

  it('§6.4.1 Inquiry QR Transaction', () => {
    const charge = parsed(guideSample('6.4.1-inquiry-qr.json'));
    expect(charge).toMatchObject({
      id: 'chrg_test_192f3dac0c01a3048a19678d13c180e2d21',
      orderId: 'order_test_1927d35fb9b9cf943a19963e5387678db60',
      currency: 'THB',
      transactionState: 'Authorized',
      status: 'success',
      source: { id: 'qr_test_192840aaed9a01a402893fc99026cee5021', object: 'qr', brand: 'ThaiQR', cardMasking: null, issuerBank: null },
      created: '20190610220533000',
      createdDate: '2019-06-10',
      referenceOrder: 'c2676e3f99283143a7d9',
      livemode: false,
      settlement: null,
      refunds: [],
    });
    expect(charge.amount.toFixed(2)).toBe('1.07');
  });

  it('§6.4.2 Void QR Transaction: state VOID kept as sent, canonically Voided', () => {
    const charge = parsed(guideSample('6.4.2-void-qr.json'));
    expect(charge).toMatchObject({
      id: 'chrg_test_2092372cd2a07d3e14414b697288904f84df8',
      orderId: 'order_test_2092319d5fa92414646c89ef1aed547274e3d',
      transactionState: 'VOID',
      created: '20220311163558675',
      createdDate: '2022-03-11',
      livemode: false,
      referenceOrder: null,
      source: { id: 'qr_test_20923e21726b5c17445b3b12aa4c639f15816', object: 'charge', brand: 'ThaiQR', cardMasking: null },
    });
    expect(charge.amount.toFixed(1)).toBe('200.0');
    expect(canonicalState(charge.transactionState)).toBe('Voided');
  });
});

describe('field quirks', () => {
  const base = { id: 'chrg_test_q', object: 'charge', amount: '1234.50', currency: 'thb', transaction_state: 'Settled', status: 'success', created: '20240229235959999' };

  it('reads amounts sent as numeric strings exactly, and upper-cases the currency', () => {
    const charge = parsed({ ...base, settlement_info: { settlement_amount: '12345678.1234', orig_mdr: '0.1' } });
    expect(charge.amount.toFixed(2)).toBe('1234.50');
    expect(charge.currency).toBe('THB');
    expect(charge.createdDate).toBe('2024-02-29');
    // The guide's table name settlement_amount is read when settle_amount is absent.
    expect(charge.settlement?.settleAmount?.toFixed(4)).toBe('12345678.1234');
    expect(charge.settlement?.origMdr?.toFixed(4)).toBe('0.1000');
    expect(charge.settlement?.origVat).toBeNull();
  });

  it.each([
    ['empty string', ''],
    ['null', null],
    ['absent', undefined],
  ])('settlement_info and refund_info as %s mean none', (_label, value) => {
    const charge = parsed({ ...base, settlement_info: value, refund_info: value });
    expect(charge.settlement).toBeNull();
    expect(charge.refunds).toEqual([]);
    expect(charge.warnings).toEqual([]);
  });

  it('takes the first settlement of a list, and a single refund object as one refund', () => {
    const charge = parsed({
      ...base,
      settlement_info: [{ settle_amount: 100, orig_net_amount: '97.0000' }, { settle_amount: 5 }],
      refund_info: { refund_amount: '40.00', settle_amount: 100, refund_id: 'refd_test_1', refund_date: '20240301101010000', error_code: 'OBAVL', error_message: 'Insufficient Balance' },
    });
    expect(charge.settlement?.settleAmount?.toString()).toBe('100');
    expect(charge.settlement?.origNetAmount?.toFixed(4)).toBe('97.0000');
    expect(charge.refunds).toHaveLength(1);
    expect(charge.refunds[0]).toMatchObject({ refundId: 'refd_test_1', refundDate: '20240301101010000', errorCode: 'OBAVL', errorMessage: 'Insufficient Balance' });
    // refund_amount wins over settle_amount.
    expect(charge.refunds[0]!.amount?.toFixed(2)).toBe('40.00');
  });

  it('refund amount falls back to settle_amount, then orig_amount', () => {
    const charge = parsed({ ...base, refund_info: [{ settle_amount: 7, orig_amount: 9 }, { orig_amount: '9.5' }, { refund_id: 'refd_x' }] });
    expect(charge.refunds.map((r) => r.amount?.toString() ?? null)).toEqual(['7', '9.5', null]);
  });

  it.each([
    [true, true], ['true', true], ['false', false], [false, false], ['FALSE', false], ['maybe', null], [undefined, null],
  ])('livemode %j reads as %j', (value, expected) => {
    expect(parsed({ ...base, livemode: value }).livemode).toBe(expected);
  });

  it('keeps unknown states and extra fields, and warns about unreadable amounts without failing', () => {
    const charge = parsed({ ...base, transaction_state: 'Auhtorized', brand_new_field: { x: 1 }, settlement_info: { settle_amount: 'n/a', orig_mdr: 1 } });
    expect(charge.transactionState).toBe('Auhtorized');
    expect(canonicalState(charge.transactionState)).toBe('Authorized');
    expect(canonicalState('Chargeback Pending')).toBe('Chargeback Pending');
    expect(charge.extra.brand_new_field).toEqual({ x: 1 });
    expect(charge.settlement?.settleAmount).toBeNull();
    expect(charge.settlement?.origMdr?.toString()).toBe('1');
    expect(charge.warnings).toEqual(['settlement_info.settle_amount: not a number "n/a"']);
  });

  it('reads convfee and ref_1..ref_3; a convfee that is not an object is a warning', () => {
    const charge = parsed({ ...base, convfee: { convfee_amount: '15.00', convfee_vat_amount: 1.05, net_amount: 'x' }, ref_1: 'A', ref_2: 42, ref_3: '' });
    expect([charge.convfee?.amount?.toFixed(2), charge.convfee?.vat?.toFixed(2), charge.convfee?.net]).toEqual(['15.00', '1.05', null]);
    expect([charge.ref1, charge.ref2, charge.ref3]).toEqual(['A', '42', null]);
    expect(charge.warnings).toEqual(['convfee.net_amount: not a number "x"']);
    expect(parsed({ ...base }).convfee).toBeNull();
    const odd = parsed({ ...base, convfee: 'abc' });
    expect(odd.convfee).toBeNull();
    expect(odd.warnings).toEqual(['convfee: unreadable "abc"']);
  });

  it('reads a numeric reference_order as text and a bad created date as no date', () => {
    const charge = parsed({ ...base, reference_order: 20180530175600, created: '20181332000000000' });
    expect(charge.referenceOrder).toBe('20180530175600');
    expect(charge.createdDate).toBeNull();
  });

  it('refuses bodies without an id or a readable amount', () => {
    expect(parseCharge({ ...base, id: '' })).toEqual({ ok: false, reason: 'response has no charge id' });
    expect(parseCharge({ ...base, amount: 'ten' }).ok).toBe(false);
    expect(parseCharge([base]).ok).toBe(false);
    expect(parseCharge('{}').ok).toBe(false);
  });

  it('tells error bodies from charges', () => {
    expect(parseGatewayError({ object: 'error', code: 'charge_id_not_exist', message: 'x' })).toEqual({ code: 'charge_id_not_exist', message: 'x' });
    expect(parseGatewayError({ code: 'pending_state' })).toEqual({ code: 'pending_state', message: '' });
    expect(parseGatewayError(base)).toBeNull();
    expect(parseGatewayError('<html>')).toBeNull();
  });
});

describe('numbers read exactly and within range (bodies as text, through classifyResponse)', () => {
  const answer = (fields: string) =>
    classifyResponse('card', 200, `{"id":"chrg_1","object":"charge","currency":"THB","transaction_state":"Settled",${fields}}`, null);

  it('keeps the digits sent: 10.7000 stays 10.7000, a 20-digit numeric reference order stays text', () => {
    const result = answer('"amount":10.7000,"reference_order":12345678901234567890,"settlement_info":{"orig_mdr":0.2800}');
    expect(result.kind).toBe('found');
    if (result.kind !== 'found') return;
    expect(result.charge.amount.toFixed(4)).toBe('10.7000');
    expect(result.charge.referenceOrder).toBe('12345678901234567890');
    expect(result.charge.settlement?.origMdr?.toFixed(4)).toBe('0.2800');
  });

  it.each(['999999999999.99', '0', '-0', '0.0001', '"123.45"', '"000000000000001.5"'])('amount %s is read', (text) => {
    const result = answer(`"amount":${text}`);
    expect(result.kind === 'found' && result.charge.amount.toFixed(4)).toBe(money(text.replaceAll('"', '')).toFixed(4));
  });

  it.each(['1e400', '1e+300', '1E2', '-1e-400', '1000000000000', '-1000000000000.5', '-0.01', '"-999999999999"', '1234567890123456789012345678901234567890', '"NaN"', '"Infinity"', '"1e5"', '" "', 'true', '[]', '{}'])(
    'amount %s makes the charge unreadable (failed, never retried)',
    (text) => {
      expect(answer(`"amount":${text}`)).toMatchObject({ kind: 'failed', reason: expect.stringMatching(/^unreadable charge: charge chrg_1 has no readable amount/) });
    },
  );

  it('any other absurd figure is a warning and null', () => {
    const result = answer('"amount":1,"settlement_info":{"settle_amount":1e400,"orig_mdr":99999999999999999999,"orig_vat":"NaN"},"refund_info":[{"refund_amount":-1e300}]');
    expect(result.kind).toBe('found');
    if (result.kind !== 'found') return;
    expect([result.charge.settlement?.settleAmount, result.charge.settlement?.origMdr, result.charge.settlement?.origVat, result.charge.refunds[0]?.amount]).toEqual([null, null, null, null]);
    expect(result.charge.warnings).toEqual([
      'settlement_info.settle_amount: not a number 1e400',
      'settlement_info.orig_mdr: not a number 99999999999999999999',
      'settlement_info.orig_vat: not a number "NaN"',
      'refund_info[0].refund_amount: not a number -1e300',
    ]);
  });

  it('JS numbers (a body read back from the database) obey the same range', () => {
    expect(parseCharge({ id: 'chrg_1', amount: 1e21 })).toMatchObject({ ok: false });
    expect(parseCharge({ id: 'chrg_1', amount: 1e12 })).toMatchObject({ ok: false });
    expect(parseCharge({ id: 'chrg_1', amount: 999999999999.5 })).toMatchObject({ ok: true });
  });

  it('a body that is not JSON (bare NaN) or repeats a key with another value is malformed: retried', () => {
    expect(answer('"amount":NaN')).toMatchObject({ kind: 'retry' });
    expect(answer('"amount":1,"amount":2')).toMatchObject({ kind: 'retry' });
  });
});
