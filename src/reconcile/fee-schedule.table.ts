import type { Generated, JSONColumnType } from 'kysely';

/** Every fee schedule given to a run, as given: a later run without one uses the last. */
export interface FeeScheduleTable {
  /** Whose row this is: the merchant's mid, '' for a single merchant (sql/0012_merchant.sql). */
  merchant: Generated<string>;
  id: Generated<string>;
  source_file: string;
  schedule: JSONColumnType<object>;
  loaded_at: Generated<Date>;
}

export interface FeeScheduleTables {
  fee_schedules: FeeScheduleTable;
}
