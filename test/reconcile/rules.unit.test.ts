import { describe, expect, it } from 'vitest';
import { money } from '../../src/money.ts';
import { inquiryRequestFor } from '../../src/reconcile/charge-case.ts';
import { planBook } from '../../src/reconcile/installment-check.ts';
import type { ReconcileContext } from '../../src/reconcile/charge-result.ts';
import { buildCharge, type LedgerRow } from '../../src/sample/charge-builder.ts';
import { ledgerEntry as entry, reconcileSample } from '../helpers/reconcile-sample.ts';

const context: ReconcileContext = { fees: undefined, plans: planBook([], []), tolerance: money('0'), asOf: '2026-12-31', refundGraceDays: 3 };

const reconcile = (sample: ReturnType<typeof buildCharge>, ctx = context) => reconcileSample(sample, ctx);
const codes = (r: ReturnType<typeof reconcile>) => r.mismatches.map((m) => m.code).sort();

describe('expected state from the ledger’s refunds', () => {
  it('expects Refunded when refunds total the amount exactly', () => {
    const sample = buildCharge({ key: 'full', date: '2026-05-01', amount: '100.00', refunds: ['60.00', '40.00'] });
    expect(sample.gateway.transaction_state).toBe('Refunded');
    expect(codes(reconcile(sample))).toEqual([]);
  });
  it('expects Partial Refund, not Refunded, one satang short of the amount', () => {
    const sample = buildCharge({ key: 'short', date: '2026-05-01', amount: '100.00', refunds: ['60.00', '39.99'] });
    expect(codes(reconcile(sample))).toEqual([]);
    sample.gateway.transaction_state = 'Refunded';
    expect(codes(reconcile(sample))).toEqual(['STATE_MISMATCH']);
  });
  it('accepts Refund Sent for a full or a partial refund', () => {
    for (const refunds of [['100.00'], ['10.00']]) {
      const sample = buildCharge({ key: 'sent', date: '2026-05-01', amount: '100.00', refunds });
      sample.gateway.transaction_state = 'Refund Sent';
      expect(codes(reconcile(sample))).toEqual([]);
    }
  });
  it('accepts the QR spelling VOID for a voided charge', () => {
    const sample = buildCharge({ key: 'qrvoid', date: '2026-05-01', amount: '100.00', sourceType: 'qr', voided: true });
    expect(sample.gateway.transaction_state).toBe('VOID');
    expect(codes(reconcile(sample))).toEqual([]);
  });
});

describe('refund matching', () => {
  it('matches refunds without refund_id by amount, first gateway refund in refund_date order', () => {
    const sample = buildCharge({ key: 'amt', date: '2026-05-01', amount: '100.00', refunds: ['10.00', '10.00'] });
    for (const row of sample.ledger) delete row.refund_id;
    const gatewayRefunds = sample.gateway.refund_info as Record<string, unknown>[];
    gatewayRefunds[1]!.error_code = 'OBAVL';
    const result = reconcile(sample);
    // Two ledger refunds of 10.00 take both gateway refunds; the second one failed.
    expect(codes(result)).toEqual(['REFUND_FAILED']);
  });
  it('a failed gateway refund left unmatched is not REFUND_NOT_IN_LEDGER', () => {
    const sample = buildCharge({ key: 'failed', date: '2026-05-01', amount: '100.00', refunds: ['10.00'] });
    sample.ledger.splice(1);
    sample.gateway.transaction_state = 'Settled';
    (sample.gateway.refund_info as Record<string, unknown>[])[0]!.error_code = 'OBAVL';
    expect(codes(reconcile(sample))).toEqual([]);
  });
});

describe('tolerance', () => {
  it('a difference within --tolerance is no mismatch; one satang more is', () => {
    const sample = buildCharge({ key: 'tol', date: '2026-05-01', amount: '100.00' });
    sample.gateway.amount = '100.01';
    expect(codes(reconcile(sample, { ...context, tolerance: money('0.01') }))).toEqual([]);
    sample.gateway.amount = '100.02';
    expect(codes(reconcile(sample, { ...context, tolerance: money('0.01') }))).toEqual(['AMOUNT_MISMATCH']);
  });
  it('compares after rounding both sides to 2 decimals (half-up)', () => {
    const sample = buildCharge({ key: 'round', date: '2026-05-01', amount: '100.00' });
    sample.gateway.amount = '100.0049';
    expect(codes(reconcile(sample))).toEqual([]);
    sample.gateway.amount = '100.005';
    expect(codes(reconcile(sample))).toEqual(['AMOUNT_MISMATCH']);
  });
});

describe('the inquiry request', () => {
  const charge = (source_type: string, date: string, ids: LedgerRow) =>
    entry({ entry_id: 'e', entry_type: 'charge', transaction_date: date, source_type, currency: 'THB', amount: '1.00', ...ids });
  it('adds the date segment to a card charge 181 days before --as-of, not to one 180 days before', () => {
    expect(inquiryRequestFor(charge('card', '2025-12-01', { charge_id: 'chrg_1' }), '2026-05-30')).not.toHaveProperty('transactionDate');
    expect(inquiryRequestFor(charge('card', '2025-11-30', { charge_id: 'chrg_1' }), '2026-05-30')).toMatchObject({ family: 'card', id: 'chrg_1', transactionDate: '2025-11-30' });
  });
  it('asks the card endpoint for alipay and unionpay by reference order when there is no charge id', () => {
    expect(inquiryRequestFor(charge('alipay', '2026-05-01', { reference_order: 'R1' }), '2026-05-02')).toMatchObject({ family: 'card', id: 'R1' });
  });
  it('asks the QR endpoint for qr and wechat by order id when there is no charge id, never with a date', () => {
    const request = inquiryRequestFor(charge('wechat', '2025-01-01', { order_id: 'ordr_1' }), '2026-05-02');
    expect(request).toMatchObject({ family: 'qr', id: 'ordr_1' });
    expect(request).not.toHaveProperty('transactionDate');
  });
  it('carries every id the ledger knows, so an answer about another charge can be told apart', () => {
    const request = inquiryRequestFor(charge('card', '2026-05-01', { charge_id: 'chrg_1', reference_order: 'R1' }), '2026-05-02');
    expect(request.known).toEqual({ chargeId: 'chrg_1', referenceOrder: 'R1', orderId: null });
  });
});
