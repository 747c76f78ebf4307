import { canonicalState, type GatewayCharge } from '../gateway/charge.ts';
import { formatMoney, isAboveZero, type Money } from '../money.ts';
import type { Mismatch } from './mismatch.ts';

/**
 * Expected state (docs/reference.md §4): a void row → `Voided`
 * (QR: `VOID`). Otherwise, with R the ledger's refund total: R ≥ amount → `Refunded` or
 * `Refund Sent`; 0 < R < amount → `Partial Refund` or `Refund Sent`; R = 0 → `Settled`, where
 * `Authorized` or `Captured` mean the money is still on its way (`SETTLEMENT_PENDING`). R is
 * compared exactly: one satang short of the amount is a partial refund; more than the amount is
 * checked as a full refund (v2, the excess itself is `REFUND_EXCEEDS_AMOUNT`). R is what the
 * gateway is expected to show already (`RefundCheck.refundedForState`). v2: `Refund Fail` when
 * the ledger books refunds is `REFUND_FAILED`, not a state mismatch. v3: a refund that failed at
 * the gateway is `REFUND_FAILED` and nothing else: R leaves it out, and neither the state that
 * still counts it nor `Refund Fail` is a second finding about it. With a partial capture,
 * `amount` is the captured amount: refunding all of it is a full refund. The finding, if any,
 * is added to `found`.
 */
export function checkState(found: Mismatch[], input: {
  gateway: GatewayCharge;
  entryId: string;
  amount: Money;
  refunded: Money;
  /**
   * Refunds booked within the grace days that the gateway does not show yet: its state may
   * already count them (`Refund Sent` comes before the refund is listed) or not yet, so both
   * states are accepted.
   */
  pendingRefunded: Money;
  /** Whether the ledger books any refund of the charge, pending ones included. */
  hasRefunds: boolean;
  /**
   * Ledger refunds matched to gateway refunds that failed, each `REFUND_FAILED` already. Left out
   * of `refunded`; the gateway's state may still count them, or say `Refund Fail`.
   */
  failedRefunded: Money;
  voided: boolean;
}): void {
  const { gateway, entryId, amount, refunded, pendingRefunded, failedRefunded, voided } = input;
  const state = canonicalState(gateway.transactionState);
  const expected = voided ? VOIDED : expectedStates(refunded, pendingRefunded, failedRefunded, amount);
  if (gateway.status.toLowerCase() === 'fail') {
    found.push({
      code: 'STATE_MISMATCH',
      entryId,
      field: 'status',
      ledgerValue: 'success',
      gatewayValue: gateway.status,
      message: `gateway reports the charge failed (${gateway.failureCode ?? 'no failure code'}${gateway.failureMessage ? `: ${gateway.failureMessage}` : ''}); the ledger books it as ${ledgerView(voided, refunded, amount)}`,
    });
    return;
  }
  if (expected.includes(state)) return;
  if (state === 'Refund Fail' && input.hasRefunds && !voided) {
    found.push({
      code: 'REFUND_FAILED',
      entryId,
      field: 'transaction_state',
      ledgerValue: expected.join(' or '),
      gatewayValue: gateway.transactionState,
      message: `the ledger books a refund; the gateway says the refund failed (${gateway.transactionState})`,
    });
    return;
  }
  const pending = expected[0] === 'Settled' && (state === 'Authorized' || state === 'Captured');
  found.push({
    code: pending ? 'SETTLEMENT_PENDING' : 'STATE_MISMATCH',
    entryId,
    field: 'transaction_state',
    ledgerValue: expected.join(' or '),
    gatewayValue: gateway.transactionState,
    message: pending
      ? `the ledger books the charge as settled; the gateway has it ${state}, not yet settled`
      : `the ledger books the charge as ${ledgerView(voided, refunded, amount)}, expecting ${expected.join(' or ')}; the gateway says ${gateway.transactionState}`,
  });
}

/** How the ledger books the charge, for a mismatch's message (built only when there is one). */
function ledgerView(voided: boolean, refunded: Money, amount: Money): string {
  return voided ? 'voided' : refunded.isZero() ? 'settled' : `refunded ${formatMoney(refunded)} of ${formatMoney(amount)}`;
}

// Shared and frozen: every charge expects one of these few lists.
const VOIDED: readonly string[] = Object.freeze(['Voided']);
const REFUNDED: readonly string[] = Object.freeze(['Refunded', 'Refund Sent']);
const SETTLED: readonly string[] = Object.freeze(['Settled']);
const PARTIAL: readonly string[] = Object.freeze(['Partial Refund', 'Refund Sent']);
const REFUND_FAIL: readonly string[] = Object.freeze(['Refund Fail']);

/**
 * The states of R = `refunded`, and those of R with the pending refunds, the failed ones, or
 * both: the gateway may or may not count either yet. Most charges have neither.
 */
function expectedStates(refunded: Money, pending: Money, failed: Money, amount: Money): readonly string[] {
  let states = statesFor(refunded, amount);
  if (!pending.isZero()) states = union(states, statesFor(refunded.plus(pending), amount));
  if (failed.isZero()) return states;
  states = union(union(states, statesFor(refunded.plus(failed), amount)), REFUND_FAIL);
  return pending.isZero() ? states : union(states, statesFor(refunded.plus(pending).plus(failed), amount));
}

function statesFor(refunded: Money, amount: Money): readonly string[] {
  // Nothing refunded, as for most charges: 0 ≥ amount only for an amount of zero or less.
  if (refunded.isZero()) return isAboveZero(amount) ? SETTLED : REFUNDED;
  return refunded.greaterThanOrEqualTo(amount) ? REFUNDED : PARTIAL;
}

/** `a`'s states, then those of `b` not in `a`, in order. */
function union(a: readonly string[], b: readonly string[]): readonly string[] {
  return a === b ? a : [...a, ...b.filter((s) => !a.includes(s))];
}
