import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import type { LedgerEntry } from '../ingest/ledger.table.ts';
import { isLive } from '../ingest/retracted.ts';
import type { Logger } from '../log.ts';
import { buildCases, buildOrphanCases, identifiers, type ChargeCase } from '../reconcile/charge-case.ts';
import type { FeeSchedule } from '../reconcile/fee-schedule.ts';
import { loadFeeSchedule, parseFeeSchedule } from '../reconcile/fee-schedule-parse.ts';
import { planBook, type PlanBook } from '../reconcile/installment-check.ts';
import type { FeeSource } from './ingest-inputs.ts';

function splitByType(rows: LedgerEntry[]): { charges: LedgerEntry[]; followUps: LedgerEntry[] } {
  return {
    charges: rows.filter((r) => r.entry_type === 'charge'),
    // Refunds in the order they happened: matching by amount takes the earliest first.
    followUps: rows.filter((r) => r.entry_type !== 'charge').sort((a, b) => a.entry_date.localeCompare(b.entry_date)),
  };
}

/**
 * The cases for refund and void rows that name no charge of the run, even by the gateway's ids.
 * Their charge rows are looked for by id anywhere in the ledger, whatever the date: a charge
 * found this way is reconciled like any other, with all its rows; rows whose charge is in no
 * `charge` row at all make orphan cases (their charge's ids are the only thing left to ask the
 * gateway about). Either way every row the run selected, by its `transaction_date` or by its
 * `entry_date`, is in a case: an orphan is reported by the run that covers its `entry_date`
 * (contract §4 v2) and by the run of its `transaction_date`, so no run leaves out a row of its
 * dates.
 *
 * No row is reconciled twice: rows of the run's cases in `run_case_rows` (its own and a night's
 * due ones) are left out, and so are `linked`, the rows the gateway's ids gave to one of them.
 */
export async function casesForUnlinked(db: Kysely<Database>, unlinked: readonly LedgerEntry[], linked: ReadonlySet<string>): Promise<ChargeCase[]> {
  if (!unlinked.length) return [];
  const ids = [...new Set(unlinked.flatMap(identifiers))];
  const { rows } = await sql<LedgerEntry>`
    SELECT * FROM ledger_entries l
    WHERE (charge_id = ANY(${ids}::text[]) OR reference_order = ANY(${ids}::text[]) OR order_id = ANY(${ids}::text[]))
      AND NOT EXISTS (SELECT 1 FROM run_case_rows r WHERE r.entry_id = l.entry_id) AND ${isLive('l')}
    ORDER BY ingested_at, source_file, source_line`.execute(db);
  const { charges, followUps } = splitByType(rows.filter((r) => !linked.has(r.entry_id)));
  const seen = new Set(followUps.map((r) => r.entry_id));
  const rowsOfCharges = [...followUps, ...unlinked.filter((r) => !seen.has(r.entry_id))].sort((a, b) => a.entry_date.localeCompare(b.entry_date));
  const { cases, unlinked: orphans } = buildCases(charges, rowsOfCharges);
  return [...cases, ...buildOrphanCases(orphans)];
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
  // Checked as strictly as a file: a schedule stored by an older version may no longer be clear.
  return parseFeeSchedule(latest.schedule, `the stored fee schedule (given as ${latest.source_file})`);
}

/** Every version of every supplier's plans, each with the day (in `tz`) it was imported. */
export async function loadPlans(db: Kysely<Database>, tz: string): Promise<PlanBook> {
  const [plans, reports] = await Promise.all([
    db.selectFrom('installment_plans').selectAll().execute(),
    db
      .selectFrom('installment_plan_reports')
      .select(['report_id', 'supplier_no', sql<string>`to_char(imported_at AT TIME ZONE ${tz}, 'YYYY-MM-DD')`.as('imported_on')])
      .orderBy('imported_at')
      .orderBy('report_id')
      .execute(),
  ]);
  return planBook(plans, reports);
}
