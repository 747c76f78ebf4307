import type { ColumnType, Generated, JSONColumnType } from 'kysely';
import type { DateText } from '../ingest/ledger.table.ts';
import type { GatewayCounts, RunCounts, StageTimings } from '../report/run-json.ts';

export type RunKind = 'run' | 'nightly' | 'rerun' | 'demo';
export type RunStatus = 'running' | 'finished' | 'aborted';

export interface ReconRunTable {
  /** Whose row this is: the merchant's mid, '' for a single merchant (sql/0012_merchant.sql). */
  merchant: Generated<string>;
  run_id: string;
  kind: RunKind;
  from_date: DateText;
  to_date: DateText;
  as_of: DateText;
  status: RunStatus;
  params_key: string;
  pid: number;
  host: string;
  started_at: Generated<Date>;
  finished_at: Date | null;
  abort_reason: string | null;
  exit_code: number | null;
  report_dir: string | null;
  counts: JSONColumnType<RunCounts> | null;
  gateway: JSONColumnType<GatewayCounts> | null;
  timings_ms: JSONColumnType<StageTimings> | null;
  duration_ms: number | null;
}

export interface GatewayInquiryTable {
  /** Whose row this is: the merchant's mid, '' for a single merchant (sql/0012_merchant.sql). */
  merchant: Generated<string>;
  id: Generated<string>;
  run_id: string;
  charge_key: string;
  request_path: string;
  outcome: 'found' | 'not_found' | 'failed';
  http_status: number | null;
  attempts: number;
  failure: string | null;
  /** The body exactly as received (text, never re-serialised): the audit trail. */
  body: string | null;
  fetched_at: ColumnType<Date, Date | undefined, never>;
  fetched_by_run: string;
}

/** The run's record, and its audit trail of KBank's answers. */
export interface RunTables {
  recon_runs: ReconRunTable;
  gateway_inquiries: GatewayInquiryTable;
}
