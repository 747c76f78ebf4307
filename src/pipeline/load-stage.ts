import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import type { LedgerEntry } from '../ingest/ledger.table.ts';
import type { Logger } from '../log.ts';
import type { FeeSchedule } from '../reconcile/fee-schedule.ts';
import { loadFeeSchedule, parseFeeSchedule } from '../reconcile/fee-schedule-parse.ts';
import { planBook, type PlanBook } from '../reconcile/installment-check.ts';
import type { FeeSource } from './ingest-stage.ts';

/**
 * The run's ledger rows dated in [from, to]: `charge` rows in ledger order (so the first row of a
 * charge is the one kept and later ones are duplicates), and the refund and void rows, which
 * carry their charge's transaction_date (contract §3.1).
 */
export async function selectLedger(db: Kysely<Database>, from: string, to: string): Promise<{ charges: LedgerEntry[]; followUps: LedgerEntry[] }> {
  const rows = await db
    .selectFrom('ledger_entries')
    .selectAll()
    .where('transaction_date', '>=', from)
    .where('transaction_date', '<=', to)
    .orderBy('ingested_at')
    .orderBy('source_file')
    .orderBy('source_line')
    .execute();
  return {
    charges: rows.filter((r) => r.entry_type === 'charge'),
    // Refunds in the order they happened: matching by amount takes the earliest first.
    followUps: rows.filter((r) => r.entry_type !== 'charge').sort((a, b) => a.entry_date.localeCompare(b.entry_date)),
  };
}

/** A fee schedule given now is stored, so a later `rerun` can use "the last one given". */
export async function loadFees(db: Kysely<Database>, source: FeeSource, logger: Logger): Promise<FeeSchedule | undefined> {
  if (source.kind === 'none') return undefined;
  if (source.kind === 'file') {
    const { schedule, json } = await loadFeeSchedule(source.file);
    await db.insertInto('fee_schedules').values({ source_file: source.file, schedule: JSON.stringify(json) }).execute();
    return schedule;
  }
  const latest = await db.selectFrom('fee_schedules').select(['schedule', 'source_file']).orderBy('id', 'desc').limit(1).executeTakeFirst();
  if (!latest) {
    logger.info('no fee schedule has been given yet; fees are checked against ledger figures only');
    return undefined;
  }
  return parseFeeSchedule(latest.schedule, latest.source_file);
}

export async function loadPlans(db: Kysely<Database>): Promise<PlanBook> {
  const [plans, reports] = await Promise.all([
    db.selectFrom('installment_plans').selectAll().execute(),
    db.selectFrom('installment_plan_reports').select('supplier_no').execute(),
  ]);
  return planBook(plans, reports.map((r) => r.supplier_no));
}
