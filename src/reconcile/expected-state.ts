import { canonicalState, type GatewayCharge } from '../gateway/charge.ts';
import { formatMoney, type Money } from '../money.ts';
import type { Mismatch } from './mismatch.ts';

/**
 * Contract §4, expected state: a void row → `Voided` (QR: `VOID`). Otherwise, with R the
 * ledger's refund total: R ≥ amount → `Refunded` or `Refund Sent`; 0 < R < amount →
 * `Partial Refund` or `Refund Sent`; R = 0 → `Settled`, where `Authorized` or `Captured` mean
 * the money is still on its way (`SETTLEMENT_PENDING`). R is compared exactly: one satang short
 * of the amount is a partial refund.
 */
export function checkState(input: {
  gateway: GatewayCharge;
  entryId: string;
  amount: Money;
  refunded: Money;
  voided: boolean;
}): Mismatch[] {
  const { gateway, entryId, amount, refunded, voided } = input;
  const state = canonicalState(gateway.transactionState);
  const expected = voided
    ? ['Voided']
    : refunded.greaterThanOrEqualTo(amount)
      ? ['Refunded', 'Refund Sent']
      : refunded.isPositive() && !refunded.isZero()
        ? ['Partial Refund', 'Refund Sent']
        : ['Settled'];
  const ledgerView = voided ? 'voided' : refunded.isZero() ? 'settled' : `refunded ${formatMoney(refunded)} of ${formatMoney(amount)}`;
  if (gateway.status.toLowerCase() === 'fail') {
    return [{
      code: 'STATE_MISMATCH',
      entryId,
      field: 'status',
      ledgerValue: 'success',
      gatewayValue: gateway.status,
      message: `gateway reports the charge failed (${gateway.failureCode ?? 'no failure code'}${gateway.failureMessage ? `: ${gateway.failureMessage}` : ''}); the ledger books it as ${ledgerView}`,
    }];
  }
  if (expected.includes(state)) return [];
  const pending = expected[0] === 'Settled' && (state === 'Authorized' || state === 'Captured');
  return [{
    code: pending ? 'SETTLEMENT_PENDING' : 'STATE_MISMATCH',
    entryId,
    field: 'transaction_state',
    ledgerValue: expected.join(' or '),
    gatewayValue: gateway.transactionState,
    message: pending
      ? `the ledger books the charge as settled; the gateway has it ${state}, not yet settled`
      : `the ledger books the charge as ${ledgerView}, expecting ${expected.join(' or ')}; the gateway says ${gateway.transactionState}`,
  }];
}
