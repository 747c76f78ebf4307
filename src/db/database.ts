import type { FollowupTables } from '../followup/followup.table.ts';
import type { LedgerTables } from '../ingest/ledger.table.ts';
import type { PlanTables } from '../ingest/plan.table.ts';
import type { NotifyTables } from '../notify/notify.table.ts';
import type { ResultTables } from '../report/results.table.ts';
import type { FeeScheduleTables } from '../reconcile/fee-schedule.table.ts';
import type { RunWorkTables } from '../run/run-work.table.ts';
import type { RunTables } from '../run/run.table.ts';

/** The whole schema as kysely sees it; each part is declared beside the code that owns it. */
export interface Database extends LedgerTables, PlanTables, RunTables, RunWorkTables, ResultTables, FeeScheduleTables, FollowupTables, NotifyTables {}
