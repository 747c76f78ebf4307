import { shiftDate } from '../dates.ts';
import type { GatewayRefund } from '../gateway/charge.ts';
import type { LedgerEntry } from '../ingest/ledger.table.ts';
import { formatMoney, moneyReusing, sameAmount, sum, ZERO, type Money } from '../money.ts';
import { amountMismatch, compareAmount, differs, ledgerMoney } from './compare.ts';
import type { ExpectedCharge } from './expected-fees.ts';
import type { Mismatch } from './mismatch.ts';

/** What the gateway's state is expected to reflect, after the refund checks (their findings go to the caller's list). */
export interface RefundCheck {
  /**
   * The ledger refund total the expected state is computed from: without the refunds that are
   * still pending (within the grace days), that failed at the gateway (v3: they moved no money)
   * or, for the QR family, that the API cannot show.
   */
  readonly refundedForState: Money;
  /** The refunds left out of {@link refundedForState} because they are pending. */
  readonly pendingRefunded: Money;
  /** The refunds left out of {@link refundedForState} because they failed at the gateway (`REFUND_FAILED`). */
  readonly failedRefunded: Money;
}

/** When a booked refund may still be unknown to the gateway (docs/reference.md §4.16, `REFUND_PENDING`). */
export interface RefundGrace {
  /** The day the run pretends it is (`--as-of`). */
  readonly asOf: string;
  /** `RECON_REFUND_GRACE_DAYS`. */
  readonly days: number;
}

/**
 * docs/reference.md §4.13, refund matching: ledger refunds with a `refund_id` take the gateway refund with
 * that id; then each ledger refund without one takes the first still unmatched gateway refund
 * of equal amount, in `refund_date` order, preferring one that did not fail (v2: a refund that
 * failed with `OBAVL` and was made again is matched to the one that went through). A ledger
 * refund the gateway does not show is pending within the grace days, missing after them.
 * Successful gateway refunds left over are not in the ledger. Findings are added to `found`.
 */
export function checkRefunds(found: Mismatch[], input: {
  ledgerRefunds: readonly LedgerEntry[];
  /** `refundTotal(ledgerRefunds)`, which the caller works out once for every check that needs it. */
  ledgerTotal: Money;
  gatewayRefunds: readonly GatewayRefund[];
  chargeEntryId: string;
  tolerance: Money;
  grace: RefundGrace;
  /** The fees a matched refund should return (`expectedRefundFees`). */
  expectedFees: (row: LedgerEntry, refund: GatewayRefund) => ExpectedCharge;
}): RefundCheck {
  const { ledgerRefunds, tolerance, grace, expectedFees } = input;
  const unmatched = [...input.gatewayRefunds].sort((a, b) => (a.refundDate ?? '').localeCompare(b.refundDate ?? ''));
  const pending: LedgerEntry[] = [];
  const failed: LedgerEntry[] = [];
  const byAmount: LedgerEntry[] = [];

  for (const row of ledgerRefunds) {
    if (!row.refund_id) {
      byAmount.push(row);
      continue;
    }
    const match = unmatched.find((g) => g.refundId === row.refund_id);
    if (!match) {
      notShown(found, pending, row, grace);
      continue;
    }
    take(unmatched, match);
    if (match.amount !== null) {
      // The gateway's Money when the ledger writes the same amount; field and message written only when they differ.
      const amount = moneyReusing(row.amount, match.amount);
      if (differs(amount, match.amount, tolerance)) {
        found.push(amountMismatch('REFUND_AMOUNT_MISMATCH', row.entry_id, `refund_info[${row.refund_id}].refund_amount`, amount, match.amount, `refund ${row.refund_id} amount`));
      }
    }
    matchedRefund(found, failed, row, match, tolerance, expectedFees);
  }
  for (const row of byAmount) {
    const amount = ledgerMoney(row.amount)!;
    const equal = unmatched.filter((g) => g.amount !== null && sameAmount(g.amount, amount));
    const match = equal.find((g) => !g.errorCode) ?? equal[0];
    if (!match) {
      notShown(found, pending, row, grace);
      continue;
    }
    take(unmatched, match);
    matchedRefund(found, failed, row, match, tolerance, expectedFees);
  }
  for (const refund of unmatched) {
    if (refund.errorCode) continue; // a refund that failed moved no money
    found.push({
      code: 'REFUND_NOT_IN_LEDGER',
      entryId: input.chargeEntryId,
      field: `refund_info[${refund.refundId ?? '?'}]`,
      gatewayValue: refund.amount ? formatMoney(refund.amount) : undefined,
      message: `the gateway refunded ${refund.amount ? formatMoney(refund.amount) : 'an unknown amount'} (${refund.refundId ?? 'no refund id'}) that the ledger does not book`,
    });
  }
  const shown = failed.length ? [...pending, ...failed] : pending;
  return { refundedForState: totalWithout(ledgerRefunds, input.ledgerTotal, shown), pendingRefunded: refundTotal(pending), failedRefunded: refundTotal(failed) };
}

/** Neither side has a refund: nothing refunded, nothing pending. */
export const NO_REFUNDS: RefundCheck = Object.freeze({ refundedForState: ZERO, pendingRefunded: ZERO, failedRefunded: ZERO });

/**
 * docs/reference.md §4.17, QR family refunds: the QR inquiry (guide §6.4.1) has no `refund_info` and knows
 * only Authorized, Voided, Settled and Refunded, so there is nothing to match and no refund fee
 * to compare. A full refund shows as `Refunded`; a partial one cannot be seen at all
 * (`REFUND_UNVERIFIABLE`, the state stays `Settled`). Refunds booked within the grace days while
 * the gateway does not say `Refunded` yet are pending, as for a card refund the gateway does not
 * show yet. Findings are added to `found`.
 */
export function checkQrRefunds(found: Mismatch[], input: {
  ledgerRefunds: readonly LedgerEntry[];
  /** `refundTotal(ledgerRefunds)`. */
  ledgerTotal: Money;
  chargeEntryId: string;
  amount: Money;
  gatewayState: string;
  grace: RefundGrace;
}): RefundCheck {
  const { ledgerRefunds, amount, grace } = input;
  const pending = input.gatewayState === 'Refunded' ? [] : ledgerRefunds.filter((row) => isWithinGrace(row, grace));
  for (const row of pending) found.push(pendingRefund(row, grace));
  const shown = totalWithout(ledgerRefunds, input.ledgerTotal, pending);
  const pendingRefunded = refundTotal(pending);
  if (shown.isZero() || shown.greaterThanOrEqualTo(amount)) return { refundedForState: shown, pendingRefunded, failedRefunded: ZERO };
  found.push({
    code: 'REFUND_UNVERIFIABLE',
    entryId: input.chargeEntryId,
    field: 'refund_info',
    ledgerValue: formatMoney(shown),
    message: `the ledger books a partial refund of ${formatMoney(shown)} of ${formatMoney(amount)}; the QR inquiry shows neither refunds nor a partial refund state, so it cannot be verified (the gateway is expected to say Settled)`,
  });
  return { refundedForState: ZERO, pendingRefunded, failedRefunded: ZERO };
}

/** docs/reference.md §4.12: ledger refunds that add up to more than the charge are an error in the books (added to `found`). */
export function checkRefundTotal(
  found: Mismatch[],
  input: { ledgerRefunds: readonly LedgerEntry[]; /** `refundTotal(ledgerRefunds)`. */ ledgerTotal: Money; chargeEntryId: string; amount: Money },
): void {
  // No refunds add up to 0, which exceeds no amount of 0 or more.
  if (input.ledgerRefunds.length === 0 && !input.amount.isNegative()) return;
  const total = input.ledgerTotal;
  if (!total.greaterThan(input.amount)) return;
  found.push({
    code: 'REFUND_EXCEEDS_AMOUNT',
    entryId: input.chargeEntryId,
    field: 'refunded_amount',
    ledgerValue: formatMoney(total),
    message: `the ledger's refunds add up to ${formatMoney(total)}, more than the charge's ${formatMoney(input.amount)}; the state is checked as for a full refund`,
  });
}

export function refundTotal(rows: readonly LedgerEntry[]): Money {
  return rows.length === 0 ? ZERO : sum(rows.map((row) => ledgerMoney(row.amount)!));
}

/** The total of `rows` but `left` (a subset), given `total`, theirs all: nothing left out, as usual, is that total. */
function totalWithout(rows: readonly LedgerEntry[], total: Money, left: readonly LedgerEntry[]): Money {
  return left.length === 0 ? total : refundTotal(rows.filter((row) => !left.includes(row)));
}

/** Removes a matched gateway refund from those left to match. */
function take(unmatched: GatewayRefund[], refund: GatewayRefund): void {
  unmatched.splice(unmatched.indexOf(refund), 1);
}

/** A ledger refund the gateway does not show: pending within the grace days, missing after them. */
function notShown(found: Mismatch[], pending: LedgerEntry[], row: LedgerEntry, grace: RefundGrace): void {
  if (isWithinGrace(row, grace)) {
    pending.push(row);
    found.push(pendingRefund(row, grace));
  } else {
    found.push(missing(row));
  }
}

/** Booked less than the grace days before `asOf` (docs/reference.md §4.16). */
function isWithinGrace(row: LedgerEntry, grace: RefundGrace): boolean {
  return row.entry_date > graceStart(grace);
}

/** The last day outside the grace days; a run has one `asOf` and one grace, so the last answer is kept. */
let lastGrace: { asOf: string; days: number; start: string } | undefined;
function graceStart(grace: RefundGrace): string {
  if (lastGrace?.asOf !== grace.asOf || lastGrace.days !== grace.days) lastGrace = { asOf: grace.asOf, days: grace.days, start: shiftDate(grace.asOf, -grace.days) };
  return lastGrace.start;
}

function pendingRefund(row: LedgerEntry, grace: RefundGrace): Mismatch {
  const amount = formatMoney(ledgerMoney(row.amount)!);
  return {
    code: 'REFUND_PENDING',
    entryId: row.entry_id,
    field: row.refund_id ? `refund_info[${row.refund_id}]` : 'refund_info',
    ledgerValue: amount,
    message: `the ledger books a refund of ${amount}${row.refund_id ? ` (${row.refund_id})` : ''} on ${row.entry_date} that the gateway does not show yet; it is an error if it still does not after ${grace.days} days`,
  };
}

function missing(row: LedgerEntry): Mismatch {
  return {
    code: 'REFUND_MISSING_AT_GATEWAY',
    entryId: row.entry_id,
    field: row.refund_id ? `refund_info[${row.refund_id}]` : 'refund_info',
    ledgerValue: formatMoney(ledgerMoney(row.amount)!),
    message: `the ledger books a refund of ${formatMoney(ledgerMoney(row.amount)!)}${row.refund_id ? ` (${row.refund_id})` : ''} that the gateway does not show`,
  };
}

/**
 * A matched refund: one that failed at the gateway is `REFUND_FAILED` and nothing else (v3: it
 * moved no money and returned no fee, so its fees are not compared and it joins `failed`, left
 * out of the expected state); otherwise its fees against the expected ones (the fee schedule's
 * `refund_fee_reversal`). Findings are added to `found`.
 */
function matchedRefund(
  found: Mismatch[],
  failed: LedgerEntry[],
  row: LedgerEntry,
  refund: GatewayRefund,
  tolerance: Money,
  expectedFees: (row: LedgerEntry, refund: GatewayRefund) => ExpectedCharge,
): void {
  const label = refund.refundId ?? row.refund_id ?? '?';
  if (refund.errorCode) {
    failed.push(row);
    found.push({
      code: 'REFUND_FAILED',
      entryId: row.entry_id,
      field: refundField(label, 'error_code'),
      gatewayValue: refund.errorCode,
      message: `refund ${label} failed at the gateway: ${refund.errorCode}${refund.errorMessage ? ` (${refund.errorMessage})` : ''}`,
    });
    return;
  }
  const { mdr, vat, net } = expectedFees(row, refund);
  const unreadable = refund.unreadable ?? {};
  if (mdr) compareAmount(found, 'REFUND_MDR_MISMATCH', row.entry_id, refundField(label, 'orig_mdr'), mdr, refund.origMdr, tolerance, `refund ${label} MDR`, unreadable.orig_mdr);
  if (vat) compareAmount(found, 'REFUND_VAT_MISMATCH', row.entry_id, refundField(label, 'orig_vat'), vat, refund.origVat, tolerance, `refund ${label} VAT`, unreadable.orig_vat);
  if (net) compareAmount(found, 'REFUND_NET_MISMATCH', row.entry_id, refundField(label, 'orig_net_amount'), net, refund.origNetAmount, tolerance, `refund ${label} net`, unreadable.orig_net_amount);
}

function refundField(label: string, name: string): string {
  return `refund_info[${label}].${name}`;
}
