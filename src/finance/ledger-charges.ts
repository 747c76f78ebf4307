import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import { firstRowBefore } from '../ingest/first-row.ts';
import type { LedgerEntry } from '../ingest/ledger.table.ts';
import { isLive } from '../ingest/retracted.ts';

/**
 * The charges a finance output covers (docs/reference.md §5.4): every ledger charge
 * row of the dates, retracted rows aside, each charge once, by its first row (the earliest by
 * `transaction_date`, then `entry_id`: a later row sharing one of its ids books it again, on any
 * date), with what the latest finished run that reconciled it says (the latest with a definite
 * answer, when a later one had none). Built in the session's
 * temporary table `fin_charges`, so an output of any size is read back a page at a time: call it
 * in a transaction, which the table lasts.
 */
export interface FinanceScope {
  readonly from: string;
  readonly to: string;
  /** Also the charges KBank created in the range that the ledger books on another day (the VAT schedule's month). */
  readonly createdInRange?: boolean;
}

/** What a finance output reads of a charge's latest result. */
type ResultField =
  | 'run_id' | 'brand' | 'settled_amount' | 'mdr' | 'vat' | 'net_amount' | 'refunded_amount' | 'status' | 'codes'
  | 'approval_code' | 'ref_1' | 'ref_2' | 'ref_3' | 'convfee_amount' | 'convfee_vat' | 'open' | 'transaction_state'
  | 'created_date' | 'card_masking' | 'fees_state' | 'mdr_estimate' | 'vat_estimate';

/**
 * One row of `fin_charges`: the first ledger row (`mid` is its own), and its latest result, every
 * field of which is null when no finished run reconciled it (`run_id` null). Or (`unbooked`) a
 * charge KBank notified and confirmed that no live ledger charge row names (`NOT_IN_LEDGER`),
 * with KBank's amount; its `entry_id` is `notification N`, only to order it.
 */
export type FinanceCharge = Pick<LedgerEntry, 'entry_id' | 'transaction_date' | 'reference_order' | 'charge_id' | 'source_type' | 'currency' | 'amount' | 'mid'>
  & { [K in ResultField]: Selectable<Database['recon_charge_results']>[K] | null }
  & { readonly unbooked: boolean };

/** Fills `fin_charges` (dropped when the transaction ends) and returns how many charges it holds. */
export async function collectFinanceCharges(trx: Transaction<Database>, scope: FinanceScope): Promise<number> {
  const { from, to } = scope;
  const ids = sql`entry_id, transaction_date, charge_id, reference_order, order_id`;
  await sql`
    CREATE TEMP TABLE fin_rows ON COMMIT DROP AS SELECT ${ids} FROM ledger_entries l
    WHERE l.entry_type = 'charge' AND l.transaction_date BETWEEN ${from}::date AND ${to}::date AND ${isLive('l')}`.execute(trx);
  if (scope.createdInRange) {
    await sql`
      INSERT INTO fin_rows SELECT DISTINCT ${sql.raw('l.entry_id, l.transaction_date, l.charge_id, l.reference_order, l.order_id')}
      FROM recon_charge_results c JOIN ledger_entries l ON l.entry_id = c.entry_id
      WHERE c.created_date BETWEEN ${from}::date AND ${to}::date AND c.created_date <> c.transaction_date
        AND l.entry_type = 'charge' AND ${isLive('l')} AND l.entry_id NOT IN (SELECT entry_id FROM fin_rows)`.execute(trx);
  }
  // Every live charge row that shares an id with one of them, whatever its date: one pass over
  // the ledger (it has no index on its ids) joined on each of a row's ids, then each row paired
  // with its kin, itself included. Joins, not `IN` lists: they spill to disk on a long period.
  await sql`ANALYZE fin_rows`.execute(trx);
  await sql`
    CREATE TEMP TABLE fin_kin ON COMMIT DROP AS
    SELECT DISTINCT ${sql.raw('l.entry_id, l.transaction_date, l.charge_id, l.reference_order, l.order_id')}
    FROM ledger_entries l CROSS JOIN LATERAL unnest(ARRAY[l.charge_id, l.reference_order, l.order_id]) AS u(id)
    WHERE l.entry_type = 'charge' AND ${isLive('l')}
      AND u.id IN (SELECT unnest(ARRAY[charge_id, reference_order, order_id]) FROM fin_rows)`.execute(trx);
  await sql`ANALYZE fin_kin`.execute(trx);
  await sql`
    CREATE TEMP TABLE fin_pairs ON COMMIT DROP AS
    SELECT r.entry_id AS row_id, r.transaction_date AS row_date, k.entry_id AS kin_id, k.transaction_date AS kin_date
    FROM fin_rows r JOIN fin_kin k ON k.charge_id = r.charge_id
    UNION SELECT r.entry_id, r.transaction_date, k.entry_id, k.transaction_date FROM fin_rows r JOIN fin_kin k ON k.reference_order = r.reference_order
    UNION SELECT r.entry_id, r.transaction_date, k.entry_id, k.transaction_date FROM fin_rows r JOIN fin_kin k ON k.order_id = r.order_id`.execute(trx);
  await sql`ANALYZE fin_pairs`.execute(trx);
  // Each kin row's latest finished result (a run reconciles a charge under its first row as that
  // run saw it, which may be any row of the charge). An unverified result says nothing new about
  // a charge: a definite one, if any, comes first.
  await sql`
    CREATE TEMP TABLE fin_results ON COMMIT DROP AS
    SELECT DISTINCT ON (c.entry_id) c.*, r.finished_at, c.status = 'UNVERIFIED' AS unverified
    FROM recon_charge_results c JOIN recon_runs r ON r.run_id = c.run_id AND r.status = 'finished'
    WHERE c.transaction_date IN (SELECT DISTINCT kin_date FROM fin_pairs) AND c.entry_id IN (SELECT kin_id FROM fin_pairs)
    ORDER BY c.entry_id, c.status = 'UNVERIFIED', r.finished_at DESC`.execute(trx);
  await sql`
    CREATE TEMP TABLE fin_charges ON COMMIT DROP AS
    SELECT l.entry_id, l.transaction_date::text AS transaction_date, coalesce(res.reference_order, l.reference_order) AS reference_order,
      coalesce(res.charge_id, l.charge_id) AS charge_id, l.source_type, upper(l.currency) AS currency, l.amount::text AS amount, l.mid,
      res.run_id, res.brand, res.settled_amount::text AS settled_amount, res.mdr::text AS mdr, res.vat::text AS vat,
      res.net_amount::text AS net_amount, res.refunded_amount::text AS refunded_amount, res.status, res.codes, res.approval_code,
      res.ref_1, res.ref_2, res.ref_3, res.convfee_amount::text AS convfee_amount, res.convfee_vat::text AS convfee_vat, res.open,
      res.transaction_state, res.created_date::text AS created_date, res.card_masking, res.fees_state,
      res.mdr_estimate::text AS mdr_estimate, res.vat_estimate::text AS vat_estimate, false AS unbooked
    FROM fin_rows f
    JOIN ledger_entries l ON l.entry_id = f.entry_id
    LEFT JOIN (
      SELECT DISTINCT ON (p.row_id) p.row_id, x.* FROM fin_pairs p JOIN fin_results x ON x.entry_id = p.kin_id
      ORDER BY p.row_id, x.unverified, x.finished_at DESC
    ) res ON res.row_id = f.entry_id
    WHERE NOT EXISTS (
      SELECT 1 FROM fin_pairs p WHERE p.row_id = f.entry_id
        AND ${firstRowBefore({ date: 'p.kin_date', id: 'p.kin_id' }, { date: 'f.transaction_date', id: 'f.entry_id' })})`.execute(trx);
  await addUnbooked(trx, scope);
  await sql`CREATE INDEX ON fin_charges (transaction_date, entry_id)`.execute(trx);
  const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM fin_charges`.execute(trx);
  return rows[0]!.n;
}

/**
 * Into `fin_charges`: the charges of the scope (by KBank's day) that KBank notified and its
 * inquiry confirmed while no ledger charge row named them (docs/reference.md §6.4), as the latest finished run that asked about them left them: still `NOT_IN_LEDGER`,
 * and no live ledger charge row names them now (by charge id, reference order or order id; once
 * the ledger books one, it is that ledger row's, in its place).
 */
async function addUnbooked(trx: Transaction<Database>, scope: FinanceScope): Promise<void> {
  await sql`
    CREATE TEMP TABLE fin_unbooked ON COMMIT DROP AS
    SELECT * FROM (
      SELECT DISTINCT ON (c.charge_id) c.*
      FROM recon_charge_results c JOIN recon_runs r ON r.run_id = c.run_id AND r.status = 'finished'
      WHERE c.notification_id IS NOT NULL AND coalesce(c.created_date, c.transaction_date) BETWEEN ${scope.from}::date AND ${scope.to}::date
      ORDER BY c.charge_id, c.status = 'UNVERIFIED', r.finished_at DESC
    ) latest
    WHERE status = 'NOT_IN_LEDGER'`.execute(trx);
  const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM fin_unbooked`.execute(trx);
  if (rows[0]!.n === 0) return;
  const ids = sql`(SELECT unnest(ARRAY[charge_id, reference_order, order_id]) FROM fin_unbooked)`;
  await sql`
    DELETE FROM fin_unbooked u USING (
      SELECT charge_id, reference_order, order_id FROM ledger_entries l
      WHERE l.entry_type = 'charge' AND ${isLive('l')} AND (l.charge_id IN ${ids} OR l.reference_order IN ${ids} OR l.order_id IN ${ids})
    ) booked
    WHERE booked.charge_id = u.charge_id OR booked.reference_order = u.reference_order OR booked.order_id = u.order_id`.execute(trx);
  await sql`
    INSERT INTO fin_charges
    SELECT 'notification ' || u.notification_id, u.transaction_date::text, u.reference_order, u.charge_id, u.source_type, upper(u.currency),
      u.amount::text, NULL, u.run_id, u.brand, u.settled_amount::text, u.mdr::text, u.vat::text, u.net_amount::text,
      u.refunded_amount::text, u.status, u.codes, u.approval_code, u.ref_1, u.ref_2, u.ref_3, u.convfee_amount::text,
      u.convfee_vat::text, u.open, u.transaction_state, u.created_date::text, u.card_masking, u.fees_state,
      u.mdr_estimate::text, u.vat_estimate::text, true
    FROM fin_unbooked u`.execute(trx);
}

const PAGE = 5000;

/** `fin_charges` in (transaction_date, entry_id) order, `where` narrowing it, a page at a time. */
export async function* financeCharges(trx: Transaction<Database>, where = sql`true`): AsyncGenerator<FinanceCharge> {
  let after: [string, string] = ['', ''];
  for (;;) {
    const { rows } = await sql<FinanceCharge>`
      SELECT * FROM fin_charges
      WHERE (transaction_date, entry_id) > (${after[0]}, ${after[1]}) AND ${where}
      ORDER BY transaction_date, entry_id LIMIT ${PAGE}`.execute(trx);
    yield* rows;
    if (rows.length < PAGE) return;
    const last = rows[rows.length - 1]!;
    after = [last.transaction_date, last.entry_id];
  }
}

/** The dates of [from, to] that no finished run covers, in order. */
export async function uncoveredDates(db: Kysely<Database>, from: string, to: string): Promise<string[]> {
  const { rows } = await sql<{ date: string }>`
    SELECT d.date::date::text AS date FROM generate_series(${from}::date, ${to}::date, interval '1 day') AS d(date)
    WHERE NOT EXISTS (SELECT 1 FROM recon_runs r WHERE r.status = 'finished' AND d.date BETWEEN r.from_date AND r.to_date)
    ORDER BY 1`.execute(db);
  return rows.map((r) => r.date);
}

