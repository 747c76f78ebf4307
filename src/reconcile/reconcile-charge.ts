import { canonicalState, type GatewayCharge } from '../gateway/charge.ts';
import type { GatewayAnswer } from '../gateway/gateway-answer.ts';
import type { LedgerEntry } from '../ingest/ledger.table.ts';
import { money, moneyReusing, sum, ZERO, type Money } from '../money.ts';
import { isQrFamily } from '../vocabulary.ts';
import type { ChargeCase } from './charge-case.ts';
import type { ChargeResult, ReconcileContext } from './charge-result.ts';
import { compareAmount } from './compare.ts';
import { checkState } from './expected-state.ts';
import { checkConvfee } from './convfee-check.ts';
import { chargeMdr, expectedFees, expectedRefundFees } from './expected-fees.ts';
import { checkInstallment } from './installment-check.ts';
import { checkLivemode } from './livemode-check.ts';
import { isError, type Mismatch } from './mismatch.ts';
import { notifyContradiction, reconcileNotifiedOnly } from './notification-check.ts';
import { checkQrRefunds, checkRefunds, checkRefundTotal, NO_REFUNDS, refundTotal, type RefundCheck } from './refund-check.ts';
import { checkSettlement } from './settlement-check.ts';

/**
 * Every rule of docs/reference.md §4, for one charge. Pure: the same
 * case and answer give the same result. The checks add their findings to one list, in the order
 * the reference lists them; last, whether KBank's answer contradicts a notification of the
 * charge's (Notifications in the night).
 */
export function reconcileCharge(chargeCase: ChargeCase, answer: GatewayAnswer, context: ReconcileContext): ChargeResult {
  if (chargeCase.notifiedOnly) return reconcileNotifiedOnly(chargeCase, answer, context);
  const result = chargeCase.orphan ? reconcileOrphan(chargeCase, answer, context) : reconcileLedgerCharge(chargeCase, answer, context);
  // Most charges have no notification in the run: nothing to look at.
  const contradiction = chargeCase.notifications.length && result.gateway ? notifyContradiction(chargeCase, result.gateway) : undefined;
  return contradiction ? { ...result, status: 'mismatched', mismatches: [...result.mismatches, contradiction] } : result;
}

function reconcileLedgerCharge(chargeCase: ChargeCase, answer: GatewayAnswer, context: ReconcileContext): ChargeResult {
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
  if (answer.kind === 'failed') {
    mismatches.push({
      code: 'INQUIRY_FAILED',
      entryId: charge.entry_id,
      message: `no definite answer from the gateway: ${answer.reason}`,
    });
    checkInstallment(mismatches, charge, context.plans);
    return { case: chargeCase, status: 'unverified', mismatches, gateway: undefined };
  }
  const livemode = checkLivemode(answer.charge, context.keyMode, charge.entry_id);
  if (livemode) {
    // An answer from the other environment is about other money: none of its figures is used.
    mismatches.push(livemode);
    checkInstallment(mismatches, charge, context.plans);
    return { case: chargeCase, status: 'mismatched', mismatches, gateway: undefined };
  }
  checkAgainstGateway(mismatches, chargeCase, answer.charge, context);
  checkInstallment(mismatches, charge, context.plans);
  return {
    case: chargeCase,
    status: mismatches.some(isError) ? 'mismatched' : 'matched',
    mismatches,
    gateway: answer.charge,
  };
}

/**
 * docs/reference.md §4.19, orphans: refund and void rows whose charge is in no ledger `charge` row. When
 * the gateway does not know the charge either, every row is an `ORPHAN_LEDGER_ENTRY`, so it
 * shows in the report with its entry id. When it does, the rows are reconciled against its
 * answer: refund matching and the refund codes, and the state the refunds or voids imply, with
 * the gateway's own amount standing in for the charge's. The charge-level checks (amount,
 * date, settlement and fees, installment plan) are not made: each compares the ledger's charge
 * row with the gateway, and there is no charge row to compare.
 */
function reconcileOrphan(chargeCase: ChargeCase, answer: GatewayAnswer, context: ReconcileContext): ChargeResult {
  const rows = [...chargeCase.refunds, ...chargeCase.voids];
  if (answer.kind === 'not_found') {
    return { case: chargeCase, status: 'mismatched', mismatches: rows.map(orphanEntry), gateway: undefined };
  }
  if (answer.kind === 'failed') {
    const mismatches: Mismatch[] = [{
      code: 'INQUIRY_FAILED',
      entryId: chargeCase.charge.entry_id,
      message: `no definite answer from the gateway about a charge the ledger books no charge row for: ${answer.reason}`,
    }];
    return { case: chargeCase, status: 'unverified', mismatches, gateway: undefined };
  }
  const livemode = checkLivemode(answer.charge, context.keyMode, chargeCase.charge.entry_id);
  if (livemode) return { case: chargeCase, status: 'mismatched', mismatches: [livemode], gateway: undefined };
  const mismatches: Mismatch[] = [];
  // No charge row, so no expected MDR of the books: only KBank's own can be reversed pro rata.
  checkFollowUps(mismatches, chargeCase, answer.charge, answer.charge.amount, context, null);
  return { case: chargeCase, status: mismatches.some(isError) ? 'mismatched' : 'matched', mismatches, gateway: answer.charge };
}

function orphanEntry(row: LedgerEntry): Mismatch {
  const [field, id] = row.charge_id ? ['charge_id', row.charge_id] : row.reference_order ? ['reference_order', row.reference_order] : ['order_id', row.order_id ?? ''];
  return {
    code: 'ORPHAN_LEDGER_ENTRY',
    entryId: row.entry_id,
    field,
    ledgerValue: id,
    message: `ledger ${row.entry_type} row ${row.entry_id} (${row.source_file}:${row.source_line}) belongs to charge ${id}, which is in no ledger charge row and unknown to the gateway`,
  };
}

/**
 * Refunds and voids against the gateway's answer: the ledger's refund total, refund matching,
 * then the state they imply (docs/reference.md §4.12: matching is done before the state check, since a
 * refund still pending or failed is left out of the expected state). `settled` is what a full
 * refund gives back: the charge's amount, or its captured amount after a partial capture.
 * `expectedMdr` is the charge's expected MDR, for refund fees under `pro_rata` when KBank reports
 * none. Findings are added to `found`.
 */
function checkFollowUps(
  found: Mismatch[],
  chargeCase: ChargeCase,
  gateway: GatewayCharge,
  settled: Money,
  context: ReconcileContext,
  expectedMdr: Money | null,
): void {
  const { charge, refunds, voids } = chargeCase;
  const id = charge.entry_id;
  // Each refund row's amount is parsed once here for the total, not again by each check using it.
  const ledgerTotal = refundTotal(refunds);
  checkRefundTotal(found, { ledgerRefunds: refunds, ledgerTotal, chargeEntryId: id, amount: settled });
  const refundCheck = matchRefunds(found, chargeCase, ledgerTotal, gateway, settled, context, expectedMdr);
  checkState(found, {
    gateway,
    entryId: id,
    amount: settled,
    refunded: refundCheck.refundedForState,
    pendingRefunded: refundCheck.pendingRefunded,
    hasRefunds: refunds.length > 0,
    failedRefunded: refundCheck.failedRefunded,
    voided: voids.length > 0,
  });
}

/** The refund checks of the charge's family (card or QR). */
function matchRefunds(
  found: Mismatch[],
  chargeCase: ChargeCase,
  ledgerTotal: Money,
  gateway: GatewayCharge,
  settled: Money,
  context: ReconcileContext,
  expectedMdr: Money | null,
): RefundCheck {
  const { charge, refunds } = chargeCase;
  // Most charges have no refund on either side: nothing to match, and no fee function or grace to make for it.
  if (refunds.length === 0 && gateway.refunds.length === 0) return NO_REFUNDS;
  const id = charge.entry_id;
  const grace = { asOf: context.asOf, days: context.refundGraceDays };
  if (isQrFamily(charge.source_type)) {
    return checkQrRefunds(found, { ledgerRefunds: refunds, ledgerTotal, chargeEntryId: id, amount: settled, gatewayState: canonicalState(gateway.transactionState), grace });
  }
  const share = chargeMdr(gateway, settled, expectedMdr);
  return checkRefunds(found, {
    ledgerRefunds: refunds,
    ledgerTotal,
    gatewayRefunds: gateway.refunds,
    chargeEntryId: id,
    tolerance: context.tolerance,
    grace,
    expectedFees: (row, refund) =>
      expectedRefundFees({ row, refund, chargeDate: charge.transaction_date, charge: share, schedule: context.fees }),
  });
}

/** Every check of a charge row against the gateway's answer, its findings added to `found`. */
function checkAgainstGateway(found: Mismatch[], chargeCase: ChargeCase, gateway: GatewayCharge, context: ReconcileContext): void {
  const { charge } = chargeCase;
  const id = charge.entry_id;
  // Parsed once: the amount, settlement and fee checks all use it. When the ledger writes the
  // gateway's amount, as it nearly always does, the gateway's Money is that amount already.
  const amount = moneyReusing(charge.amount, gateway.amount);
  // v3, partial capture: the settlement, the fees and a full refund are of the captured amount.
  const settled = charge.captured_amount === null ? amount : money(charge.captured_amount);
  const sameCurrency = gateway.currency === charge.currency.toUpperCase();
  // For the settlement check, and for refund fees under pro_rata when KBank reports no MDR.
  const expected = sameCurrency && gateway.settlement ? expectedFees(charge, settled, gateway, context.fees) : undefined;

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
  checkFollowUps(found, chargeCase, gateway, settled, context, expected?.mdr ?? null);
  if (!sameCurrency) {
    found.push({
      code: 'CURRENCY_MISMATCH',
      entryId: id,
      field: 'currency',
      ledgerValue: charge.currency,
      gatewayValue: gateway.currency,
      message: `the ledger books ${charge.currency}, the gateway charged ${gateway.currency}; amounts and fees not compared`,
    });
  } else {
    compareAmount(found, 'AMOUNT_MISMATCH', id, 'amount', amount, gateway.amount, context.tolerance, 'charge amount');
    checkConvfee(found, charge, gateway.convfee, context.tolerance);
    if (gateway.settlement && expected) {
      checkSettlement(found, { charge, settled, settlement: gateway.settlement, expected, tolerance: context.tolerance });
    }
  }
}

/** What the gateway says was refunded successfully (failed refunds moved no money). */
export function refundedByGateway(gateway: GatewayCharge | undefined): Money {
  if (!gateway) return ZERO;
  return sum(gateway.refunds.filter((r) => !r.errorCode && r.amount).map((r) => r.amount!));
}
