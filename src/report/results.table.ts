import type { ColumnType, Generated, Insertable } from 'kysely';
import type { DateText, Numeric } from '../ingest/ledger.table.ts';
import type { FeesState, RefundFigures } from './charge-figures.ts';

export interface ReconMismatchTable {
  /** Whose row this is: the merchant's mid, '' for a single merchant (sql/0012_merchant.sql). */
  merchant: Generated<string>;
  run_id: string;
  seq: number;
  transaction_date: DateText;
  source_type: string;
  charge_id: string | null;
  reference_order: string | null;
  entry_id: string | null;
  code: string;
  severity: 'error' | 'warning';
  field: string | null;
  ledger_value: string | null;
  gateway_value: string | null;
  difference: Numeric | null;
  message: string;
  /** docs/reference.md §4.22; null on rows written before findings were followed across runs. */
  charge_key: string | null;
  finding_state: 'new' | 'still_open' | 'acknowledged' | null;
  first_seen_on: DateText | null;
  acknowledged_by: string | null;
  ack_note: string | null;
}

export interface ReconDailySummaryTable {
  /** Whose row this is: the merchant's mid, '' for a single merchant (sql/0012_merchant.sql). */
  merchant: Generated<string>;
  run_id: string;
  transaction_date: DateText;
  source_type: string;
  currency: string;
  charges: number;
  matched: number;
  mismatched: number;
  unverified: number;
  gross_amount: Numeric;
  settled_amount: Numeric;
  mdr: Numeric;
  vat: Numeric;
  net_amount: Numeric;
  refunded_amount: Numeric;
  /** v3 (sql/0018_finance_totals.sql). */
  voided_amount: Numeric;
  fees_pending: number;
  /** The fees the schedule expects of the `fees_pending` charges: an estimate, never KBank's figure. */
  mdr_estimate: Numeric;
  vat_estimate: Numeric;
}

/** v3: `NOT_IN_LEDGER`, a charge KBank notified and confirmed that no ledger charge row names. */
export type ExportStatus = 'MATCHED' | 'MISMATCH' | 'UNVERIFIED' | 'PENDING' | 'NOT_IN_LEDGER';

export interface ReconChargeResultTable {
  /** Whose row this is: the merchant's mid, '' for a single merchant (sql/0012_merchant.sql). */
  merchant: Generated<string>;
  run_id: string;
  /** The ledger's charge row; null for a charge no ledger row names (v3, sql/0022). */
  entry_id: string | null;
  /** v3: the notification a charge no ledger row names stands on; null for a ledger charge. */
  notification_id: string | null;
  transaction_date: DateText;
  reference_order: string | null;
  charge_id: string | null;
  /** v3: KBank's order id, else the ledger's; null on older rows. */
  order_id: string | null;
  source_type: string;
  brand: string | null;
  currency: string;
  amount: Numeric;
  settled_amount: Numeric | null;
  mdr: Numeric | null;
  vat: Numeric | null;
  net_amount: Numeric | null;
  refunded_amount: Numeric;
  status: ExportStatus;
  codes: string[];
  approval_code: string | null;
  ref_1: string | null;
  ref_2: string | null;
  ref_3: string | null;
  convfee_amount: Numeric | null;
  convfee_vat: Numeric | null;
  /** Still open after this run (docs/reference.md §4.21): see `isOpen`. */
  open: boolean;
  /** Null on rows written before v2. */
  charge_key: string | null;
  open_reason: string | null;
  open_message: string | null;
  /** v3 (sql/0018_finance_totals.sql); null on older rows. */
  transaction_state: string | null;
  created_date: DateText | null;
  card_masking: string | null;
  mid: string | null;
  /** Whether KBank's fee figures are known (`FeesState`); `settled_amount`…`net_amount` are set only when 'reported'. */
  fees_state: FeesState | null;
  mdr_estimate: Numeric | null;
  vat_estimate: Numeric | null;
  /** `RefundFigures[]`, the refunds whose fees KBank gave back. */
  refunds: ColumnType<RefundFigures[] | null, string | null, string | null>;
}

export type NewMismatchRow = Insertable<ReconMismatchTable>;

export interface ResultTables {
  recon_mismatches: ReconMismatchTable;
  recon_daily_summary: ReconDailySummaryTable;
  recon_charge_results: ReconChargeResultTable;
}
