import type { GatewayCharge } from '../gateway/charge.ts';
import type { InquiryOutcome } from '../gateway/inquiry-client.ts';
import { money, sum, ZERO, type Money } from '../money.ts';
import type { ChargeCase } from './charge-case.ts';
import { compareAmount } from './compare.ts';
import { checkState } from './expected-state.ts';
import { checkConvfee } from './convfee-check.ts';
import { expectedFees, expectedRefundFees } from './expected-fees.ts';
import type { FeeSchedule } from './fee-schedule.ts';
import { checkInstallment, type PlanBook } from './installment-check.ts';
import { checkLivemode, type KeyMode } from './livemode-check.ts';
import { isError, type Mismatch } from './mismatch.ts';
import { checkRefunds } from './refund-check.ts';
import { checkSettlement } from './settlement-check.ts';

export interface ReconcileContext {
  readonly fees: FeeSchedule | undefined;
  readonly plans: PlanBook;
  readonly tolerance: Money;
  /** The secret key's environment (never the key itself); unset: `livemode` is not checked. */
  readonly keyMode?: KeyMode;
}

/** The gateway's answer as reconciliation needs it (the client's outcome without audit data). */
export type GatewayAnswer =
  | { readonly kind: 'found'; readonly charge: GatewayCharge }
  | { readonly kind: 'not_found' }
  | { readonly kind: 'failed'; readonly reason: string };

export type ChargeStatus = 'matched' | 'mismatched' | 'unverified';

export interface ChargeResult {
  readonly case: ChargeCase;
  readonly status: ChargeStatus;
  readonly mismatches: readonly Mismatch[];
  /** The gateway's view, when it answered with the charge. */
  readonly gateway: GatewayCharge | undefined;
}

export function answerOf(outcome: InquiryOutcome): GatewayAnswer {
  return outcome.kind === 'found' ? { kind: 'found', charge: outcome.charge } : outcome.kind === 'not_found' ? { kind: 'not_found' } : { kind: 'failed', reason: outcome.reason };
}

/** Every rule of contract §4 for one charge. Pure: the same case and answer give the same result. */
export function reconcileCharge(chargeCase: ChargeCase, answer: GatewayAnswer, context: ReconcileContext): ChargeResult {
  const { charge } = chargeCase;
  const mismatches: Mismatch[] = chargeCase.duplicates.map((dup) => ({
    code: 'DUPLICATE_IN_LEDGER',
    entryId: dup.entry_id,
    field: dup.charge_id && dup.charge_id === charge.charge_id ? 'charge_id' : 'reference_order',
    ledgerValue: dup.charge_id ?? dup.reference_order ?? undefined,
    message: `ledger row ${dup.entry_id} (${dup.source_file}:${dup.source_line}) books the same charge again as ${charge.entry_id} (${charge.source_file}:${charge.source_line})`,
  }));

  if (answer.kind === 'not_found') {
    mismatches.push({
      code: 'MISSING_AT_GATEWAY',
      entryId: charge.entry_id,
      message: `the gateway does not know charge ${charge.charge_id ?? charge.reference_order ?? charge.order_id}`,
    });
    return { case: chargeCase, status: 'mismatched', mismatches, gateway: undefined };
  }
  const installment = checkInstallment(charge, context.plans);
  if (answer.kind === 'failed') {
    mismatches.push({
      code: 'INQUIRY_FAILED',
      entryId: charge.entry_id,
      message: `no definite answer from the gateway: ${answer.reason}`,
    }, ...installment);
    return { case: chargeCase, status: 'unverified', mismatches, gateway: undefined };
  }
  const livemode = checkLivemode(answer.charge, context.keyMode, charge.entry_id);
  if (livemode) {
    // An answer from the other environment is about other money: none of its figures is used.
    mismatches.push(livemode, ...installment);
    return { case: chargeCase, status: 'mismatched', mismatches, gateway: undefined };
  }
  mismatches.push(...checkAgainstGateway(chargeCase, answer.charge, context), ...installment);
  return {
    case: chargeCase,
    status: mismatches.some(isError) ? 'mismatched' : 'matched',
    mismatches,
    gateway: answer.charge,
  };
}

function checkAgainstGateway(chargeCase: ChargeCase, gateway: GatewayCharge, context: ReconcileContext): Mismatch[] {
  const { charge, refunds, voids } = chargeCase;
  const id = charge.entry_id;
  const amount = money(charge.amount);
  const found: Mismatch[] = [];

  if (gateway.createdDate && gateway.createdDate !== charge.transaction_date) {
    found.push({
      code: 'DATE_MISMATCH',
      entryId: id,
      field: 'created',
      ledgerValue: charge.transaction_date,
      gatewayValue: gateway.createdDate,
      message: `the gateway created the charge on ${gateway.createdDate} (Bangkok time); the ledger books it on ${charge.transaction_date}`,
    });
  }
  found.push(
    ...checkState({
      gateway,
      entryId: id,
      amount,
      refunded: sum(refunds.map((r) => money(r.amount))),
      voided: voids.length > 0,
    }),
  );
  if (gateway.currency !== charge.currency.toUpperCase()) {
    found.push({
      code: 'CURRENCY_MISMATCH',
      entryId: id,
      field: 'currency',
      ledgerValue: charge.currency,
      gatewayValue: gateway.currency,
      message: `the ledger books ${charge.currency}, the gateway charged ${gateway.currency}; amounts and fees not compared`,
    });
  } else {
    found.push(
      ...compareAmount('AMOUNT_MISMATCH', id, 'amount', amount, gateway.amount, context.tolerance, 'charge amount'),
      ...checkConvfee(charge, gateway.convfee, context.tolerance),
    );
    if (gateway.settlement) {
      found.push(
        ...checkSettlement({
          charge,
          settlement: gateway.settlement,
          expected: expectedFees(charge, gateway, context.fees),
          tolerance: context.tolerance,
        }),
      );
    }
  }
  found.push(
    ...checkRefunds({
      ledgerRefunds: refunds,
      gatewayRefunds: gateway.refunds,
      chargeEntryId: id,
      tolerance: context.tolerance,
      expectedFees: (row, refund) => expectedRefundFees({ row, refund, charge, gateway, schedule: context.fees }),
    }),
  );
  return found;
}

/** What the gateway says was refunded successfully (failed refunds moved no money). */
export function refundedByGateway(gateway: GatewayCharge | undefined): Money {
  if (!gateway) return ZERO;
  return sum(gateway.refunds.filter((r) => !r.errorCode && r.amount).map((r) => r.amount!));
}
