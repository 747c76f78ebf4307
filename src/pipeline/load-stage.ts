import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import type { LedgerEntry } from '../ingest/ledger.table.ts';
import type { Logger } from '../log.ts';
import { loadFeeSchedule, parseFeeSchedule, type FeeSchedule } from '../reconcile/fee-schedule.ts';
import { planBook, type PlanBook } from '../reconcile/installment-check.ts';
import type { FeeSource } from './ingest-stage.ts';

/**
 * The run's ledger rows: `charge` rows dated in [from, to], in ledger order (so the first row of
 * a charge is the one kept and later ones are duplicates), and the refund and void rows that may
 * belong to them (dated in the range, or naming one of the charges by any id).
 */
export async function selectLedger(db: Kysely<Database>, from: string, to: string): Promise<{ charges: LedgerEntry[]; followUps: LedgerEntry[] }> {
  const charges = await db
    .selectFrom('ledger_entries')
    .selectAll()
    .where('entry_type', '=', 'charge')
    .where('transaction_date', '>=', from)
    .where('transaction_date', '<=', to)
    .orderBy('ingested_at')
    .orderBy('source_file')
    .orderBy('source_line')
    .execute();
  const ids = (pick: (e: LedgerEntry) => string | null) => [...new Set(charges.map(pick).filter((v): v is string => !!v))];
  const chargeIds = ids((e) => e.charge_id);
  const references = ids((e) => e.reference_order);
  const orderIds = ids((e) => e.order_id);
  const followUps = await db
    .selectFrom('ledger_entries')
    .selectAll()
    .where('entry_type', 'in', ['refund', 'void'])
    .where((eb) =>
      eb.or([
        eb.and([eb('transaction_date', '>=', from), eb('transaction_date', '<=', to)]),
        ...(chargeIds.length ? [eb('charge_id', '=', eb.fn.any(eb.val(chargeIds)))] : []),
        ...(references.length ? [eb('reference_order', '=', eb.fn.any(eb.val(references)))] : []),
        ...(orderIds.length ? [eb('order_id', '=', eb.fn.any(eb.val(orderIds)))] : []),
      ]),
    )
    .orderBy('entry_date')
    .orderBy('source_file')
    .orderBy('source_line')
    .execute();
  return { charges, followUps };
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
