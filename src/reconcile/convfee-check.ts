import type { GatewayConvfee } from '../gateway/charge.ts';
import type { LedgerEntry } from '../ingest/ledger.table.ts';
import { ZERO, type Money } from '../money.ts';
import { compareAmount, ledgerMoney } from './compare.ts';
import type { Mismatch } from './mismatch.ts';

/**
 * Contract §4, v2 convenience fee: when the gateway's answer has `convfee` or the ledger row books
 * `convfee_amount`/`convfee_vat`, the fee and its VAT are compared, a side that says nothing
 * counting as 0.00 (a fee one side charged and the other did not is exactly what to report).
 * The charge's `amount` never includes the fee (guide §6.1.2: `convfee.net_amount` is the total
 * with the fee and its VAT).
 */
export function checkConvfee(charge: LedgerEntry, convfee: GatewayConvfee | null, tolerance: Money): Mismatch[] {
  const ledger = { amount: ledgerMoney(charge.convfee_amount), vat: ledgerMoney(charge.convfee_vat) };
  if (!convfee && !ledger.amount && !ledger.vat) return [];
  const id = charge.entry_id;
  return [
    ...compareAmount('CONVFEE_MISMATCH', id, 'convfee_amount', ledger.amount ?? ZERO, convfee?.amount ?? ZERO, tolerance, 'convenience fee'),
    ...compareAmount('CONVFEE_MISMATCH', id, 'convfee_vat_amount', ledger.vat ?? ZERO, convfee?.vat ?? ZERO, tolerance, 'VAT on the convenience fee'),
  ];
}
