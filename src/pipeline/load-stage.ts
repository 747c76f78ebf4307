import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import type { LedgerEntry } from '../ingest/ledger.table.ts';
import type { Logger } from '../log.ts';
import { buildCases, buildOrphanCases, identifiers, type ChargeCase } from '../reconcile/charge-case.ts';
import type { FeeSchedule } from '../reconcile/fee-schedule.ts';
import { loadFeeSchedule, parseFeeSchedule } from '../reconcile/fee-schedule-parse.ts';
import { planBook, type PlanBook } from '../reconcile/installment-check.ts';
import type { FeeSource } from './ingest-stage.ts';

/**
 * The ledger rows a run over [from, to] covers (contract §4, v2): every row with
 * `transaction_date` in the range (charge rows, and the refund and void rows of those charges,
 * which carry their charge's date, §3.1); every refund or void row booked (`entry_date`) in the
 * range, however old its charge; and the charge rows and other refund and void rows of those
 * older charges. Charge rows come in ledger order (so the first row of a charge is the one kept
 * and later ones are duplicates), follow-up rows in the order they were booked.
 *
 * An older charge is looked up on the dates its booked rows carry, through the date index, and
 * then by its ids; a booked row whose charge is not found that way (its date is wrong, or the
 * ledger has no charge row) is left unlinked for {@link casesForUnlinked}.
 */
export async function selectLedger(db: Kysely<Database>, from: string, to: string): Promise<{ charges: LedgerEntry[]; followUps: LedgerEntry[] }> {
  const inRange = await db
    .selectFrom('ledger_entries')
    .selectAll()
    .where('transaction_date', '>=', from)
    .where('transaction_date', '<=', to)
    .orderBy('ingested_at')
    .orderBy('source_file')
    .orderBy('source_line')
    .execute();
  const bookedForOlder = await db
    .selectFrom('ledger_entries')
    .selectAll()
    .where('entry_type', '<>', 'charge')
    .where('entry_date', '>=', from)
    .where('entry_date', '<=', to)
    .where((eb) => eb.or([eb('transaction_date', '<', from), eb('transaction_date', '>', to)]))
    .execute();
  const olderCharges = await rowsNamedBy(db, bookedForOlder, 'charge');
  const olderFollowUps = await rowsNamedBy(db, olderCharges, 'follow_up');
  const seen = new Set(olderFollowUps.map((r) => r.entry_id));
  return splitByType([...inRange, ...olderCharges, ...olderFollowUps, ...bookedForOlder.filter((r) => !seen.has(r.entry_id))]);
}

/**
 * The `charge` (or refund and void) rows on the dates `rows` carry that share an id with one of
 * them: one scan of the date index per date, each row checked against hashed id lists.
 */
async function rowsNamedBy(db: Kysely<Database>, rows: readonly LedgerEntry[], kind: 'charge' | 'follow_up'): Promise<LedgerEntry[]> {
  if (!rows.length) return [];
  const dates = [...new Set(rows.map((r) => r.transaction_date))];
  const ids = [...new Set(rows.flatMap(identifiers))];
  const { rows: found } = await sql<LedgerEntry>`
    SELECT * FROM ledger_entries
    WHERE transaction_date = ANY(${dates}::date[])
      AND ${kind === 'charge' ? sql`entry_type = 'charge'` : sql`entry_type <> 'charge'`}
      AND (charge_id = ANY(${ids}::text[]) OR reference_order = ANY(${ids}::text[]) OR order_id = ANY(${ids}::text[]))
    ORDER BY ingested_at, source_file, source_line`.execute(db);
  return found;
}

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
 * `linked` is every entry id already in one of the run's cases, so no row is reconciled twice.
 */
export async function casesForUnlinked(db: Kysely<Database>, unlinked: readonly LedgerEntry[], linked: ReadonlySet<string>): Promise<ChargeCase[]> {
  if (!unlinked.length) return [];
  const ids = [...new Set(unlinked.flatMap(identifiers))];
  const { rows } = await sql<LedgerEntry>`
    SELECT * FROM ledger_entries
    WHERE charge_id = ANY(${ids}::text[]) OR reference_order = ANY(${ids}::text[]) OR order_id = ANY(${ids}::text[])
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

export async function loadPlans(db: Kysely<Database>): Promise<PlanBook> {
  const [plans, reports] = await Promise.all([
    db.selectFrom('installment_plans').selectAll().execute(),
    db.selectFrom('installment_plan_reports').select('supplier_no').execute(),
  ]);
  return planBook(plans, reports.map((r) => r.supplier_no));
}
