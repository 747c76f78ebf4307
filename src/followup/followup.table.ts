import type { ColumnType, Generated } from 'kysely';
import type { DateText, Numeric } from '../ingest/ledger.table.ts';

/**
 * Why a charge is open (docs/reference.md §4.21): one of the open codes, `REFUND_SENT` (the gateway's state
 * says a refund is on its way) or `DEFERRED` (due, but the night's request budget ran out before
 * it was ever asked).
 */
export type OpenReason = 'INQUIRY_FAILED' | 'SETTLEMENT_PENDING' | 'FEES_NOT_REPORTED' | 'REFUND_PENDING' | 'REFUND_SENT' | 'DEFERRED';

export interface ChargeStateTable {
  /** Whose row this is: the merchant's mid, '' for a single merchant (sql/0012_merchant.sql). */
  merchant: Generated<string>;
  charge_key: string;
  entry_id: string;
  transaction_date: DateText;
  source_type: string;
  currency: string;
  amount: Numeric;
  charge_id: string | null;
  reference_order: string | null;
  open: boolean;
  open_reason: OpenReason | null;
  open_message: string | null;
  open_since: DateText | null;
  first_seen_on: DateText;
  last_asked_on: DateText | null;
  last_asked_at: Date | null;
  last_inquiry_id: number | null;
  last_run_id: string | null;
  next_ask_on: DateText | null;
}

export type FindingState = 'new' | 'still_open' | 'acknowledged';

export interface FindingTable {
  /** Whose row this is: the merchant's mid, '' for a single merchant (sql/0012_merchant.sql). */
  merchant: Generated<string>;
  charge_key: string;
  code: string;
  /** '' when the finding names no field. */
  field: string;
  /** '' when it names no ledger row. */
  entry_id: string;
  transaction_date: DateText;
  source_type: string;
  charge_id: string | null;
  reference_order: string | null;
  severity: 'error' | 'warning';
  ledger_value: string | null;
  gateway_value: string | null;
  difference: Numeric | null;
  message: string;
  first_seen_on: DateText;
  first_run_id: string;
  last_run_id: string;
  /** Set when resolved; a finding is unresolved while this is null. */
  resolved_on: DateText | null;
  /** The run that no longer found it; null when a retraction resolved it. */
  resolved_run_id: string | null;
  resolved_reason: ResolvedReason | null;
}

/**
 * Why a finding was resolved: a run reconciled its charge or its ledger row and no longer found
 * it, or its ledger row was retracted (`retract`).
 */
export type ResolvedReason = 'reconciled' | 'retracted';

export interface FindingAcknowledgementTable {
  /** Whose row this is: the merchant's mid, '' for a single merchant (sql/0012_merchant.sql). */
  merchant: Generated<string>;
  id: Generated<number>;
  charge_key: string;
  code: string;
  field: string;
  entry_id: string;
  ledger_value: string | null;
  gateway_value: string | null;
  note: string;
  acked_by: string;
  acked_at: ColumnType<Date, Date | undefined, never>;
  undone_by: string | null;
  undone_at: Date | null;
}

export interface FollowupTables {
  charge_state: ChargeStateTable;
  findings: FindingTable;
  finding_acknowledgements: FindingAcknowledgementTable;
}
