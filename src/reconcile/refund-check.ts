import type { GatewayRefund } from '../gateway/charge.ts';
import type { LedgerEntry } from '../ingest/ledger.table.ts';
import { formatMoney, type Money } from '../money.ts';
import { compareAmount, ledgerMoney } from './compare.ts';
import type { ExpectedCharge } from './expected-fees.ts';
import type { Mismatch } from './mismatch.ts';

/**
 * Contract §4, refund matching: ledger refunds with a `refund_id` take the gateway refund with
 * that id; then each ledger refund without one takes the first still unmatched gateway refund
 * of equal amount, in `refund_date` order. Successful gateway refunds left over are not in the
 * ledger.
 */
export function checkRefunds(input: {
  ledgerRefunds: readonly LedgerEntry[];
  gatewayRefunds: readonly GatewayRefund[];
  chargeEntryId: string;
  tolerance: Money;
  /** The fees a matched refund should return (`expectedRefundFees`). */
  expectedFees: (row: LedgerEntry, refund: GatewayRefund) => ExpectedCharge;
}): Mismatch[] {
  const { ledgerRefunds, tolerance, expectedFees } = input;
  const unmatched = [...input.gatewayRefunds].sort((a, b) => (a.refundDate ?? '').localeCompare(b.refundDate ?? ''));
  const take = (refund: GatewayRefund) => unmatched.splice(unmatched.indexOf(refund), 1);
  const found: Mismatch[] = [];
  const byAmount: LedgerEntry[] = [];

  for (const row of ledgerRefunds) {
    if (!row.refund_id) {
      byAmount.push(row);
      continue;
    }
    const match = unmatched.find((g) => g.refundId === row.refund_id);
    if (!match) {
      found.push(missing(row));
      continue;
    }
    take(match);
    const amount = ledgerMoney(row.amount)!;
    found.push(
      ...compareAmount('REFUND_AMOUNT_MISMATCH', row.entry_id, `refund_info[${row.refund_id}].refund_amount`, amount, match.amount, tolerance, `refund ${row.refund_id} amount`),
      ...matchedRefund(row, match, tolerance, expectedFees(row, match)),
    );
  }
  for (const row of byAmount) {
    const amount = ledgerMoney(row.amount)!;
    const match = unmatched.find((g) => g.amount !== null && g.amount.equals(amount));
    if (!match) {
      found.push(missing(row));
      continue;
    }
    take(match);
    found.push(...matchedRefund(row, match, tolerance, expectedFees(row, match)));
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
  return found;
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

/** A failed refund, and the refund's fees against the expected ones (contract §3.3 `refund_fee_reversal`). */
function matchedRefund(row: LedgerEntry, refund: GatewayRefund, tolerance: Money, expected: ExpectedCharge): Mismatch[] {
  const label = refund.refundId ?? row.refund_id ?? '?';
  const field = (name: string) => `refund_info[${label}].${name}`;
  const found: Mismatch[] = [];
  if (refund.errorCode) {
    found.push({
      code: 'REFUND_FAILED',
      entryId: row.entry_id,
      field: field('error_code'),
      gatewayValue: refund.errorCode,
      message: `refund ${label} failed at the gateway: ${refund.errorCode}${refund.errorMessage ? ` (${refund.errorMessage})` : ''}`,
    });
  }
  const { mdr, vat, net } = expected;
  if (mdr) found.push(...compareAmount('REFUND_MDR_MISMATCH', row.entry_id, field('orig_mdr'), mdr, refund.origMdr, tolerance, `refund ${label} MDR`));
  if (vat) found.push(...compareAmount('REFUND_VAT_MISMATCH', row.entry_id, field('orig_vat'), vat, refund.origVat, tolerance, `refund ${label} VAT`));
  if (net) found.push(...compareAmount('REFUND_NET_MISMATCH', row.entry_id, field('orig_net_amount'), net, refund.origNetAmount, tolerance, `refund ${label} net`));
  return found;
}
