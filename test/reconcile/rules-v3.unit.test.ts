import { describe, expect, it } from 'vitest';
import { money } from '../../src/money.ts';
import { compareFirstRows } from '../../src/ingest/first-row.ts';
import { groupCharges } from '../../src/reconcile/charge-case.ts';
import { parseFeeSchedule } from '../../src/reconcile/fee-schedule-parse.ts';
import { planBook } from '../../src/reconcile/installment-check.ts';
import type { ReconcileContext } from '../../src/reconcile/charge-result.ts';
import { cardAnswer, cardRow, refundEntry, settlement } from '../helpers/hand-books.ts';
import { reconcileSample } from '../helpers/reconcile-sample.ts';

const D = '2026-05-04';
const context: ReconcileContext = {
  fees: parseFeeSchedule({ vat_rate: '0.07', refund_fee_reversal: 'pro_rata', rules: [{ source_type: 'card', rate: '0.028', min: '5.60' }] }),
  plans: planBook([], []),
  tolerance: money('0'),
  asOf: '2026-05-30',
  refundGraceDays: 3,
};
const codes = (result: { mismatches: readonly { code: string }[] }) => result.mismatches.map((m) => m.code);

describe('a charge’s first row', () => {
  const row = (entry_id: string, transaction_date: string, ids: { charge_id?: string; reference_order?: string }) => ({
    entry_id, transaction_date, charge_id: ids.charge_id ?? null, reference_order: ids.reference_order ?? null, order_id: null,
  });

  it('is the earliest by transaction_date, then entry_id, whatever the ledger order; the groups keep the ledger order', () => {
    const rows = [
      row('E9', '2026-05-02', { charge_id: 'C1' }),
      row('E10', '2026-05-02', { reference_order: 'R2' }),
      row('A1', '2026-05-03', { charge_id: 'C1', reference_order: 'R1' }),
      row('E2', '2026-05-01', { reference_order: 'R1' }),
      row('E1', '2026-05-02', { charge_id: 'C2', reference_order: 'R2' }),
    ];
    const groups = groupCharges(rows).map((g) => [g.first.entry_id, ...g.duplicates.map((d) => d.entry_id)]);
    // In first-row order: E2 (05-01) claims R1; E1 (05-02, before E10 by entry_id though the
    // ledger has E10 first) claims C2 and R2, so E10 is its duplicate; E9 claims C1; A1 (05-03)
    // names C1 first, so it is E9's. The groups come in the ledger order of their first rows.
    expect(groups).toEqual([['E9', 'A1'], ['E2'], ['E1', 'E10']]);
  });

  it('compares entry ids by code point, as PostgreSQL’s COLLATE "C" does', () => {
    const order = (a: string, b: string) => Math.sign(compareFirstRows({ entry_id: a, transaction_date: D }, { entry_id: b, transaction_date: D }));
    expect(order('E10', 'E9')).toBe(-1);
    expect(order('E-a', 'E-B')).toBe(1); // 'a' (U+0061) after 'B' (U+0042)
    expect(order('E\u{10000}', 'E\uffff')).toBe(1); // a code point above U+FFFF sorts last
    expect(order('E', 'E1')).toBe(-1);
    expect(order('E1', 'E1')).toBe(0);
  });
});

describe('a refund that failed at KBank', () => {
  // A charge of 500.00 at 2.8 %: MDR 14.00, VAT 0.98, net 485.02; a refund of 100.00 failed.
  const sample = (state: string) => ({
    ledger: [
      cardRow('chrg_u1', D, { entry_id: 'U1', entry_type: 'charge', amount: '500.00' }),
      cardRow('chrg_u1', D, { entry_id: 'U1-R', entry_type: 'refund', amount: '100.00', refund_id: 'refd_u1' }),
    ],
    gateway: cardAnswer('chrg_u1', D, {
      amount: '500.00',
      transaction_state: state,
      settlement_info: settlement('500.00', '14.00', '0.98', '485.02'),
      refund_info: [refundEntry('refd_u1', D, '100.00', { mdr: '0.00', vat: '0.00', net: '100.00' }, 'OBAVL')],
    }),
  });

  it('is REFUND_FAILED alone whether KBank says Settled, Partial Refund or Refund Fail', () => {
    for (const state of ['Settled', 'Partial Refund', 'Refund Fail']) expect(codes(reconcileSample(sample(state), context)), state).toEqual(['REFUND_FAILED']);
  });

  it('but a state neither with nor without it is still a STATE_MISMATCH', () => {
    expect(codes(reconcileSample(sample('Refunded'), context))).toEqual(['REFUND_FAILED', 'STATE_MISMATCH']);
  });
});

describe('pro-rata refund fees', () => {
  // 100.00 at 2.8 % = 2.80, raised to the minimum 5.60. A refund of 25.00 gives back
  // 5.60 × 25 ÷ 100 = 1.40, VAT 1.40 × 7 % = 0.098 → 0.10, net 25.00 − 1.40 − 0.10 = 23.50.
  const sample = (chargeFigures: Record<string, unknown>, refund: { mdr: string; vat: string; net: string }) => ({
    ledger: [
      cardRow('chrg_u2', D, { entry_id: 'U2', entry_type: 'charge', amount: '100.00' }),
      cardRow('chrg_u2', D, { entry_id: 'U2-R', entry_type: 'refund', amount: '25.00', refund_id: 'refd_u2' }),
    ],
    gateway: cardAnswer('chrg_u2', D, { amount: '100.00', transaction_state: 'Partial Refund', settlement_info: chargeFigures, refund_info: [refundEntry('refd_u2', D, '25.00', refund)] }),
  });

  it('share the MDR KBank reports for the charge', () => {
    // KBank charged 6.00 (not the schedule's 5.60): the refund gives back 6.00 × 25 ÷ 100 = 1.50,
    // VAT 0.105 → 0.11, net 23.39; only the charge's own MDR is a finding.
    const result = reconcileSample(sample(settlement('100.00', '6.00', '0.42', '93.58'), { mdr: '1.50', vat: '0.11', net: '23.39' }), context);
    expect(result.mismatches.map((m) => [m.code, m.ledgerValue, m.gatewayValue])).toEqual([['MDR_MISMATCH', '5.60', '6.00'], ['VAT_MISMATCH', '0.39', '0.42'], ['NET_MISMATCH', '94.01', '93.58']]);
  });

  it('share the charge’s expected MDR while KBank reports none', () => {
    const unreported = { ...settlement('100.00', '0.00', '0.00', '0.00'), orig_amount: '0.00' };
    expect(codes(reconcileSample(sample(unreported, { mdr: '1.40', vat: '0.10', net: '23.50' }), context))).toEqual(['FEES_NOT_REPORTED']);
    // The rate's share alone (25.00 × 2.8 % = 0.70) is three findings.
    expect(codes(reconcileSample(sample(unreported, { mdr: '0.70', vat: '0.05', net: '24.25' }), context))).toEqual([
      'REFUND_MDR_MISMATCH', 'REFUND_VAT_MISMATCH', 'REFUND_NET_MISMATCH', 'FEES_NOT_REPORTED',
    ]);
  });

  it('of a partial capture share the MDR of the captured amount', () => {
    // Authorised 1,000.00, captured 400.00: 400.00 × 2.8 % = 11.20, VAT 0.784 → 0.78, net 388.02.
    // A refund of 100.00: 11.20 × 100 ÷ 400 = 2.80, VAT 0.196 → 0.20, net 97.00.
    const result = reconcileSample({
      ledger: [
        cardRow('chrg_u3', D, { entry_id: 'U3', entry_type: 'charge', amount: '1000.00', captured_amount: '400.00' }),
        cardRow('chrg_u3', D, { entry_id: 'U3-R', entry_type: 'refund', amount: '100.00', refund_id: 'refd_u3' }),
      ],
      gateway: cardAnswer('chrg_u3', D, {
        amount: '1000.00',
        transaction_state: 'Partial Refund',
        settlement_info: settlement('400.00', '11.20', '0.78', '388.02'),
        refund_info: [refundEntry('refd_u3', D, '100.00', { mdr: '2.80', vat: '0.20', net: '97.00' })],
      }),
    }, context);
    expect(codes(result)).toEqual([]);
  });
});
