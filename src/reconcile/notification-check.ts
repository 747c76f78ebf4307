import { canonicalState, type GatewayCharge } from '../gateway/charge.ts';
import type { GatewayAnswer } from '../gateway/gateway-answer.ts';
import { formatMoney } from '../money.ts';
import type { ChargeCase, NotifiedPayment } from './charge-case.ts';
import { checkLivemode } from './livemode-check.ts';
import type { Mismatch } from './mismatch.ts';
import type { ChargeResult, ReconcileContext } from './charge-result.ts';

/** The states in which KBank says a payment failed, whatever its notification said. */
const FAILED_STATES: ReadonlySet<string> = new Set(['Declined', 'Reversed']);

/** Whether KBank's answer says the payment failed: `status` `fail`, or the state `Declined` or `Reversed`. */
export function paymentFailed(gateway: GatewayCharge): boolean {
  return gateway.status.toLowerCase() === 'fail' || FAILED_STATES.has(canonicalState(gateway.transactionState));
}

/**
 * `NOTIFY_STATE_MISMATCH` (docs/reference.md §6): a verified
 * notification said the payment succeeded and KBank's inquiry, answering with the charge, says it
 * failed. For a ledger charge too: the shop may have shipped on the notification. `undefined`
 * when the case has no notification or KBank agrees.
 */
export function notifyContradiction(chargeCase: ChargeCase, gateway: GatewayCharge): Mismatch | undefined {
  const first = chargeCase.notifications[0];
  if (!first || !paymentFailed(gateway)) return undefined;
  const failedStatus = gateway.status.toLowerCase() === 'fail';
  return {
    code: 'NOTIFY_STATE_MISMATCH',
    entryId: chargeCase.notifiedOnly ? null : chargeCase.charge.entry_id,
    field: failedStatus ? 'status' : 'transaction_state',
    gatewayValue: failedStatus ? gateway.status : gateway.transactionState,
    message: `KBank notified the payment of charge ${gateway.id} as successful (${notified(first)}); its inquiry now says ${gateway.status} (${gateway.transactionState}${gateway.failureCode ? `, ${gateway.failureCode}` : ''}): it was not paid, whatever the notification said`,
  };
}

/**
 * A charge KBank notified that no ledger row names, once its grace hours are over
 * (docs/reference.md §6): KBank's inquiry decides. Found and
 * successful: `NOT_IN_LEDGER`, with KBank's amount and reference. Found but failed, or not
 * known at all: `NOTIFY_STATE_MISMATCH`, since the verified notification said it was paid. No
 * definite answer: unverified (`INQUIRY_FAILED`), and the notification is taken again the next
 * night. An answer from the other environment is `LIVEMODE_MISMATCH` alone, as for any charge.
 */
export function reconcileNotifiedOnly(chargeCase: ChargeCase, answer: GatewayAnswer, context: ReconcileContext): ChargeResult {
  const first = chargeCase.notifications[0]!;
  const id = chargeCase.charge.charge_id ?? chargeCase.charge.order_id ?? chargeCase.charge.reference_order;
  if (answer.kind === 'failed') {
    const mismatches: Mismatch[] = [{ code: 'INQUIRY_FAILED', entryId: null, message: `no definite answer from the gateway about charge ${id}, which KBank notified and no ledger row names: ${answer.reason}` }];
    return { case: chargeCase, status: 'unverified', mismatches, gateway: undefined };
  }
  if (answer.kind === 'not_found') {
    const mismatches: Mismatch[] = [{
      code: 'NOTIFY_STATE_MISMATCH',
      entryId: null,
      field: 'status',
      gatewayValue: 'not found',
      message: `KBank notified the payment of charge ${id} as successful (${notified(first)}); its inquiry does not know the charge`,
    }];
    return { case: chargeCase, status: 'mismatched', mismatches, gateway: undefined };
  }
  const gateway = answer.charge;
  const livemode = checkLivemode(gateway, context.keyMode, null);
  if (livemode) return { case: chargeCase, status: 'mismatched', mismatches: [livemode], gateway: undefined };
  const contradiction = notifyContradiction(chargeCase, gateway);
  if (contradiction) return { case: chargeCase, status: 'mismatched', mismatches: [contradiction], gateway };
  const reference = [gateway.referenceOrder && `reference ${gateway.referenceOrder}`, gateway.orderId && `order ${gateway.orderId}`].filter(Boolean).join(', ');
  const mismatches: Mismatch[] = [{
    code: 'NOT_IN_LEDGER',
    entryId: null,
    field: 'amount',
    gatewayValue: formatMoney(gateway.amount),
    message: `KBank took ${formatMoney(gateway.amount)} ${gateway.currency} as charge ${gateway.id}${reference ? ` (${reference})` : ''}, created ${gateway.createdDate ?? gateway.created}, state ${gateway.transactionState}: notified ${notified(first)} and confirmed by its inquiry, and no ledger charge row names it`,
  }];
  return { case: chargeCase, status: 'mismatched', mismatches, gateway };
}

/** When and as what a notification came, for a finding's sentence. */
function notified(n: NotifiedPayment): string {
  return `${n.transactionState ?? 'success'} on ${n.receivedAt.toISOString().replace(/\.\d{3}Z$/, 'Z')}`;
}
