import { describe, expect, it } from 'vitest';
import { parseCharge } from '../../src/gateway/charge.ts';
import type { GatewayAnswer } from '../../src/gateway/gateway-answer.ts';
import { money } from '../../src/money.ts';
import { buildCases, type ChargeCase, type NotifiedPayment } from '../../src/reconcile/charge-case.ts';
import { planBook } from '../../src/reconcile/installment-check.ts';
import { reconcileCharge } from '../../src/reconcile/reconcile-charge.ts';
import type { ReconcileContext } from '../../src/reconcile/charge-result.ts';
import { buildCharge, type GatewayBody } from '../../src/sample/charge-builder.ts';
import { ledgerEntry } from '../helpers/reconcile-sample.ts';

/** The rules of docs/reference.md §6, on one case and one answer. */
const D = '2026-06-01';
const context: ReconcileContext = { fees: undefined, plans: planBook([], []), tolerance: money('0'), asOf: '2026-06-03', refundGraceDays: 3, keyMode: 'test' };
const notified: NotifiedPayment = {
  notificationId: '7', receivedAt: new Date('2026-06-01T03:15:05Z'), chargeId: 'chrg_test_n1', orderId: null, referenceOrder: 'ORD-n1', transactionState: 'Authorized',
};
const sample = buildCharge({ key: 'n1', date: D, amount: '640.00' });

function found(body: GatewayBody): GatewayAnswer {
  const parsed = parseCharge(body);
  if (!parsed.ok) throw new Error(parsed.reason);
  return { kind: 'found', charge: parsed.charge, path: '/card/v2/charge/chrg_test_n1', attempts: 1, httpStatus: 200, bodyText: JSON.stringify(body) };
}
const asked = { path: '/card/v2/charge/chrg_test_n1', attempts: 1 };

/** The ledger's case of the sample charge, with its notification. */
function ledgerCase(): ChargeCase {
  const { cases } = buildCases([ledgerEntry(sample.ledger[0]!)], []);
  cases[0]!.notifications.push(notified);
  return cases[0]!;
}

/** The case of the sample charge when no ledger row names it: its notification stands in. */
function notifiedOnly(): ChargeCase {
  const standIn = { ...ledgerEntry(sample.ledger[0]!), entry_id: '' };
  return { charge: standIn, orphan: false, notifiedOnly: true, duplicates: [], refunds: [], voids: [], notifications: [notified] };
}
const said = (result: ReturnType<typeof reconcileCharge>) => result.mismatches.map((m) => `${m.code} ${m.entryId} ${m.field ?? ''} ${m.gatewayValue ?? ''}`);

describe('a ledger charge KBank notified', () => {
  it('is no finding when the inquiry agrees, and none without a notification', () => {
    expect(reconcileCharge(ledgerCase(), found(sample.gateway), context).mismatches).toEqual([]);
    const { cases } = buildCases([ledgerEntry(sample.ledger[0]!)], []);
    expect(reconcileCharge(cases[0]!, found({ ...sample.gateway, transaction_state: 'Declined' }), context).mismatches.map((m) => m.code)).toEqual(['STATE_MISMATCH']);
  });

  it('is NOTIFY_STATE_MISMATCH, besides the ledger’s own finding, when KBank says it failed: status fail, or Declined or Reversed', () => {
    for (const [over, field, value] of [
      [{ status: 'fail', transaction_state: 'Authorized' }, 'status', 'fail'],
      [{ transaction_state: 'Declined' }, 'transaction_state', 'Declined'],
      [{ transaction_state: 'reversed' }, 'transaction_state', 'reversed'],
    ] as const) {
      const result = reconcileCharge(ledgerCase(), found({ ...sample.gateway, ...over }), context);
      expect(result.status).toBe('mismatched');
      expect(said(result).at(-1)).toBe(`NOTIFY_STATE_MISMATCH E-n1 ${field} ${value}`);
    }
    // Voided is no failed payment: the ledger's rules say what it means.
    expect(said(reconcileCharge(ledgerCase(), found({ ...sample.gateway, transaction_state: 'Voided' }), context))).toEqual(['STATE_MISMATCH E-n1 transaction_state Voided']);
  });
});

describe('a charge only KBank’s notification names', () => {
  it('is NOT_IN_LEDGER with KBank’s amount when the inquiry confirms it', () => {
    const result = reconcileCharge(notifiedOnly(), found(sample.gateway), context);
    expect(result.status).toBe('mismatched');
    expect(said(result)).toEqual(['NOT_IN_LEDGER null amount 640.00']);
    expect(result.mismatches[0]!.message).toBe(
      'KBank took 640.00 THB as charge chrg_test_n1 (reference ORD-n1), created 2026-06-01, state Settled: notified Authorized on 2026-06-01T03:15:05Z and confirmed by its inquiry, and no ledger charge row names it',
    );
  });

  it('is NOTIFY_STATE_MISMATCH, not NOT_IN_LEDGER, when KBank says it failed or does not know it', () => {
    expect(said(reconcileCharge(notifiedOnly(), found({ ...sample.gateway, transaction_state: 'Reversed', status: 'fail' }), context))).toEqual(['NOTIFY_STATE_MISMATCH null status fail']);
    expect(said(reconcileCharge(notifiedOnly(), { kind: 'not_found', code: 'charge_id_not_exist', ...asked, httpStatus: 404, bodyText: '{}' }, context))).toEqual(['NOTIFY_STATE_MISMATCH null status not found']);
  });

  it('is unverified without a definite answer, and LIVEMODE_MISMATCH alone for an answer of the other environment', () => {
    const failed = reconcileCharge(notifiedOnly(), { kind: 'failed', reason: 'timeout', ...asked }, context);
    expect([failed.status, ...said(failed)]).toEqual(['unverified', 'INQUIRY_FAILED null  ']);
    expect(said(reconcileCharge(notifiedOnly(), found({ ...sample.gateway, livemode: true }), context))).toEqual(['LIVEMODE_MISMATCH null livemode true']);
  });
});
