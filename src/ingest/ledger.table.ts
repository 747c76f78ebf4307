import type { ColumnType, Generated, Selectable } from 'kysely';
import type { SourceType } from '../vocabulary.ts';

/** numeric columns come back as text (exact), and accept text on the way in. */
export type Numeric = ColumnType<string, string, string>;
/** date columns are `YYYY-MM-DD` text both ways. */
export type DateText = ColumnType<string, string, string>;

export interface LedgerEntryTable {
  /** Whose row this is: the merchant's mid, '' for a single merchant (sql/0012_merchant.sql). */
  merchant: Generated<string>;
  entry_id: string;
  entry_type: 'charge' | 'refund' | 'void';
  reference_order: string | null;
  charge_id: string | null;
  order_id: string | null;
  transaction_date: DateText;
  entry_date: DateText;
  source_type: SourceType;
  currency: string;
  amount: Numeric;
  mdr: Numeric | null;
  vat: Numeric | null;
  net_amount: Numeric | null;
  refund_id: string | null;
  mid: string | null;
  plan_id: string | null;
  ipan_mode: string | null;
  term: number | null;
  supplier_no: string | null;
  model_no: string | null;
  product_type: string | null;
  /** v2: the convenience fee and its VAT the customer paid on top of `amount`. */
  convfee_amount: Numeric | null;
  convfee_vat: Numeric | null;
  /** v3: on a charge row, the amount settled when the merchant captured less than `amount` (a partial capture). */
  captured_amount: Numeric | null;
  source_file: string;
  source_line: number;
  ingested_at: Generated<Date>;
}

export type { SourceType };
export type LedgerEntry = Selectable<LedgerEntryTable>;

/**
 * A ledger row taken out of reconciliation (`retract`): an append-only audit trail, of which the
 * only change allowed is recording, once, that it was undone (sql/0015_retractions.sql).
 */
export interface LedgerRetractionTable {
  merchant: Generated<string>;
  id: Generated<number>;
  entry_id: string;
  reason: string;
  retracted_by: string;
  retracted_at: ColumnType<Date, Date | undefined, never>;
  undone_by: string | null;
  undone_at: Date | null;
}

export interface LedgerTables {
  ledger_entries: LedgerEntryTable;
  ledger_retractions: LedgerRetractionTable;
}
