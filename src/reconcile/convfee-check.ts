import type { GatewayConvfee } from '../gateway/charge.ts';
import type { LedgerEntry } from '../ingest/ledger.table.ts';
import { ZERO, type Money } from '../money.ts';
import { compareAmount, ledgerMoney } from './compare.ts';
import type { Mismatch } from './mismatch.ts';

/**
 * docs/reference.md §4.11, convenience fee: when the gateway's answer has `convfee` or the ledger row books
 * `convfee_amount`/`convfee_vat`, the fee and its VAT are compared, a side that says nothing
 * counting as 0.00 (a fee one side charged and the other did not is exactly what to report).
 * The charge's `amount` never includes the fee (guide §6.1.2: `convfee.net_amount` is the total
 * with the fee and its VAT). Findings are added to `found`.
 */
export function checkConvfee(found: Mismatch[], charge: LedgerEntry, convfee: GatewayConvfee | null, tolerance: Money): void {
  // Most charges have no convenience fee on either side: nothing to parse or compare.
  if (!convfee && charge.convfee_amount === null && charge.convfee_vat === null) return;
  const ledger = { amount: ledgerMoney(charge.convfee_amount), vat: ledgerMoney(charge.convfee_vat) };
  const id = charge.entry_id;
  compareAmount(found, 'CONVFEE_MISMATCH', id, 'convfee_amount', ledger.amount ?? ZERO, convfee?.amount ?? ZERO, tolerance, 'convenience fee');
  compareAmount(found, 'CONVFEE_MISMATCH', id, 'convfee_vat_amount', ledger.vat ?? ZERO, convfee?.vat ?? ZERO, tolerance, 'VAT on the convenience fee');
}
