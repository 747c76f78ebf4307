import { sql, type Kysely } from 'kysely';
import type { Config } from '../config/config.ts';
import { anyText } from '../db/any-text.ts';
import type { Database } from '../db/database.ts';
import { nightOf } from '../dates.ts';
import type { Deferred } from '../followup/carry-over.ts';
import { addDueCases } from '../followup/due-charges.ts';
import type { GatewayAnswer } from '../gateway/gateway-answer.ts';
import { ingestLedgers, loadLedgerMap } from '../ingest/ledger-ingest.ts';
import type { LedgerEntry } from '../ingest/ledger.table.ts';
import { ingestPlanReports } from '../ingest/plan-ingest.ts';
import type { RejectedRow } from '../ingest/rejected.ts';
import { isLive } from '../ingest/retracted.ts';
import type { Logger } from '../log.ts';
import { attachByGatewayIds, buildCases, buildOrphanCases, identifiers, type ChargeCase, type NumberedCase } from '../reconcile/charge-case.ts';
import type { FeeSchedule } from '../reconcile/fee-schedule.ts';
import { loadFeeSchedule } from '../reconcile/fee-schedule-parse.ts';
import { latestFeeSchedule, storeFeeSchedule } from '../reconcile/fee-schedule-store.ts';
import { planBook, type PlanBook } from '../reconcile/installment-check.ts';
import { readCases, selectOwnCases } from './ingest-cases.ts';
import { addNotifiedCases, type NotificationScope } from './ingest-notified.ts';
import type { FeeSource, RunRequest } from './run-request.ts';

/*
 * The ingest stage (run.json's `ingest` timing): the run's files into PostgreSQL, then the cases
 * it asks about selected from what is stored, with the fee schedule and the plans they are
 * judged by. The charges outside the run that its unlinked refund and void rows name are found
 * here too, after the inquiry's first pass.
 */

export interface IngestedInputs {
  /** Ledger data rows read, rejected ones included: run.json's `ledger_rows` (plan report rows are not counted). */
  ledgerRows: number;
  rejected: RejectedRow[];
}

/** The run's plan reports and ledger files into PostgreSQL (a `rerun` has none). */
export async function ingestInputs(
  database: { url: string; db: Kysely<Database> },
  request: { ledgers: readonly string[]; plans: readonly string[]; ledgerMap?: string },
  options: { logger: Logger; signal: AbortSignal; onProgress?: (rows: number) => void },
): Promise<IngestedInputs> {
  const rejected: RejectedRow[] = [];
  let ledgerRows = 0;
  // Plan reports first: they are small, and one that cannot be used stops the run before the
  // ledger is ingested.
  if (request.plans.length) {
    const plans = await ingestPlanReports(database.db, [...request.plans], { logger: options.logger });
    rejected.push(...plans.rejected);
    options.logger.info({ files: plans.files, rows: plans.rows, suppliers: plans.suppliers, rejected: plans.rejected.length }, 'plan reports ingested');
  }
  if (request.ledgers.length) {
    const ledgerMap = request.ledgerMap ? await loadLedgerMap(request.ledgerMap) : undefined;
    const ledger = await ingestLedgers(database, [...request.ledgers], { ledgerMap, ...options });
    ledgerRows = ledger.rows;
    rejected.push(...ledger.rejected);
    options.logger.info(
      { files: ledger.files, rows: ledger.rows, inserted: ledger.inserted, replaced: ledger.replaced, unchanged: ledger.unchanged, rejected: ledger.rejected.length },
      'ledger ingested',
    );
  }
  return { ledgerRows, rejected };
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
 * (docs/reference.md §4.19) and by the run of its `transaction_date`, so no run leaves out a row of its
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
    await storeFeeSchedule(db, source.file, json);
    return schedule;
  }
  const latest = await latestFeeSchedule(db);
  if (!latest) logger.info('no fee schedule has been given yet; fees are checked against ledger figures only');
  return latest;
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

export interface Selection {
  /** The cases to ask about, a page at a time, in order: the dates' own, then the due ones. */
  pages(): AsyncIterable<NumberedCase[]>;
  /** How many cases `pages()` gives. */
  readonly asked: number;
  /** Refund and void rows of the dates whose charge is in none of the cases (yet). */
  readonly unlinked: readonly LedgerEntry[];
  /** Cases due but not asked (the request budget); the late round may add to `held`. */
  readonly deferred: Deferred;
  /** How many more charges the budget allows after `pages()`. */
  readonly budgetLeft: number;
  /** The number the next case (of the late round) takes. */
  readonly nextNo: number;
  readonly due: { readonly revisit: number; readonly recheck: number };
  /** Charges asked because KBank notified them, and those waiting for the ledger (their grace hours). */
  readonly notified: { readonly asked: number; readonly waiting: number };
}

/**
 * The charges the dates cover, then (for `nightly` and the demo) the charges KBank notified that
 * none of those cases has, then (for `nightly`) the open charges and re-checks that are due, cut
 * at the night's request budget in that order (docs/reference.md §1.3). Every due
 * charge not asked is deferred: recorded so that the next night asks it (a notified one stays
 * pending, and the next night takes it again). All of them are cases in the database
 * (`run_case_rows`), numbered in that order and read a page at a time, asked or not: a case not
 * asked still holds its rows, so no other case takes them.
 *
 * Notified charges come before the open ones and the re-checks: they are few (a notification
 * whose charge the night's own cases have is dealt with there, at no cost), each may be money
 * the books lack or a payment that failed after the shop was told it succeeded, and nothing else
 * would ever ask about them; an open charge or a re-check waiting a night loses nothing.
 */
export async function selectCases(db: Kysely<Database>, request: RunRequest, config: Config, notify: NotificationScope): Promise<Selection> {
  const own = await selectOwnCases(db, request.from, request.to);
  const notified = notify.join ? await addNotifiedCases(db, notify, own.count + 1) : { count: 0, waiting: 0 };
  const beforeDue = own.count + notified.count;
  const due = request.followUp
    ? await addDueCases(db, { night: nightOf(request.asOf), openMaxDays: config.recon.openMaxDays }, beforeDue + 1)
    : { count: 0, revisit: 0, recheck: 0 };
  const budget = request.followUp?.maxRequests ?? Number.POSITIVE_INFINITY;
  const ownAsked = Math.min(own.count, budget);
  const notifiedAsked = Math.min(notified.count, budget - ownAsked);
  const dueAsked = Math.min(due.count, budget - ownAsked - notifiedAsked);
  // Revisits come first: the budget cuts re-checks before them.
  const revisit = Math.min(due.revisit, dueAsked);
  const pageOptions = { notifications: notify };
  return {
    async *pages() {
      yield* readCases(db, 1, ownAsked, pageOptions);
      yield* readCases(db, own.count + 1, own.count + notifiedAsked, pageOptions);
      yield* readCases(db, beforeDue + 1, beforeDue + dueAsked, pageOptions);
    },
    asked: ownAsked + notifiedAsked + dueAsked,
    // A refund row of the dates may belong to a due charge, which has it in its case already.
    unlinked: notified.count || due.count ? await notInCases(db, own.unlinked) : own.unlinked,
    deferred: {
      ranges: [
        [ownAsked + 1, own.count],
        [own.count + notifiedAsked + 1, beforeDue],
        [beforeDue + dueAsked + 1, beforeDue + due.count],
      ],
      held: [],
    },
    budgetLeft: budget - ownAsked - notifiedAsked - dueAsked,
    nextNo: beforeDue + due.count + 1,
    due: { revisit, recheck: dueAsked - revisit },
    notified: { asked: notifiedAsked, waiting: notified.waiting },
  };
}

/** `rows` less those in one of the run's cases. */
async function notInCases(db: Kysely<Database>, rows: readonly LedgerEntry[]): Promise<LedgerEntry[]> {
  if (!rows.length) return [];
  const inCases = await db.selectFrom('run_case_rows').select('entry_id').where('entry_id', '=', anyText(rows.map((r) => r.entry_id))).execute();
  const taken = new Set(inCases.map((r) => r.entry_id));
  return rows.filter((r) => !taken.has(r.entry_id));
}

/**
 * Refund and void rows that name their charge only by an id the gateway told us. A case whose
 * answer carries one of their ids is held back from reconciling until every answer is in; then
 * the last such case (in case order) takes the rows, as if all answers had been looked at
 * together, and the held cases are reconciled with them. Only those cases are held.
 */
export function gatewayIdLinks(unlinked: readonly LedgerEntry[]) {
  const wanted = new Set(unlinked.flatMap(identifiers));
  const held: { numbered: NumberedCase; answer: GatewayAnswer }[] = [];
  const idsOf = (answer: GatewayAnswer) => (answer.kind === 'found' ? [answer.charge.id, answer.charge.referenceOrder, answer.charge.orderId] : []);
  return {
    holds(numbered: NumberedCase, answer: GatewayAnswer): boolean {
      // A charge no ledger row names has no case to take ledger rows into: they go as orphans.
      if (!wanted.size || numbered.chargeCase.notifiedOnly || !idsOf(answer).some((id) => id && wanted.has(id))) return false;
      held.push({ numbered, answer });
      return true;
    },
    /** Links the rows; the cases of the late round are not held. */
    link() {
      wanted.clear();
      held.sort((a, b) => a.numbered.no - b.numbered.no);
      const byGatewayId = new Map<string, ChargeCase>();
      for (const { numbered, answer } of held) for (const id of idsOf(answer)) if (id) byGatewayId.set(id, numbered.chargeCase);
      const stillUnlinked = attachByGatewayIds([...unlinked], byGatewayId);
      const left = new Set(stillUnlinked);
      return { held, stillUnlinked, attached: unlinked.filter((r) => !left.has(r)).map((r) => r.entry_id) };
    },
  };
}

export async function* onePage<T>(page: T[]): AsyncGenerator<T[]> {
  yield page;
}
