import type { ReconChargeResultTable, ReconMismatchTable } from '../report/results.table.ts';

/*
 * A run's working tables (sql/0013_run_work.sql and later): filled while it runs, emptied when it
 * starts and ends. One run at a time holds a schema's run lock, so they carry no run id and no
 * `merchant` (the schema is the merchant's).
 */

/** Every ledger row of the run's cases, in case order: the charge row first (`pos` 0, its `charge_key` set). */
export interface RunCaseRowTable {
  case_no: number;
  pos: number;
  /** Null for a charge no ledger row names: the case stands on `notification_id`. */
  entry_id: string | null;
  charge_key: string | null;
  orphan: boolean;
  /** Why a case beyond the run's own dates is asked: a `nightly`'s follow-ups and notified charges. */
  due: 'revisit' | 'recheck' | 'notified' | null;
  notification_id: string | null;
}

/** The notifications with a failing checksum the run reports. */
export interface RunNotificationTable {
  notification_id: string;
}

/** A finding as reconciled, before the final transaction numbers it (`seq`) in case order. */
export type RunDraftFindingTable = Omit<ReconMismatchTable, 'merchant' | 'seq'> & { seq: number | null; case_no: number; idx: number };

/** A charge's result as reconciled, with what the final transaction needs besides (see sql/0017, sql/0022). */
export type RunDraftChargeTable = Omit<ReconChargeResultTable, 'merchant'> & { other_entry_ids: string[] | null; notification_ids: string[] | null };

export interface RunWorkTables {
  run_case_rows: RunCaseRowTable;
  run_notifications: RunNotificationTable;
  run_draft_findings: RunDraftFindingTable;
  run_draft_charges: RunDraftChargeTable;
}
