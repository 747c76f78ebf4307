import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import type { LedgerEntry } from '../ingest/ledger.table.ts';
import { isLive } from '../ingest/retracted.ts';
import type { ReconChargeResultTable } from '../report/run.table.ts';

/**
 * The charges a finance output covers (docs/reference.md, "Finance export"): every ledger charge
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
 * field of which is null when no finished run reconciled it (`run_id` null).
 */
export type FinanceCharge = Pick<LedgerEntry, 'entry_id' | 'transaction_date' | 'reference_order' | 'charge_id' | 'source_type' | 'currency' | 'amount' | 'mid'>
  & { [K in ResultField]: Selectable<ReconChargeResultTable>[K] | null };

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
      res.mdr_estimate::text AS mdr_estimate, res.vat_estimate::text AS vat_estimate
    FROM fin_rows f
    JOIN ledger_entries l ON l.entry_id = f.entry_id
    LEFT JOIN (
      SELECT DISTINCT ON (p.row_id) p.row_id, x.* FROM fin_pairs p JOIN fin_results x ON x.entry_id = p.kin_id
      ORDER BY p.row_id, x.unverified, x.finished_at DESC
    ) res ON res.row_id = f.entry_id
    WHERE NOT EXISTS (
      SELECT 1 FROM fin_pairs p WHERE p.row_id = f.entry_id
        AND (p.kin_date < f.transaction_date OR (p.kin_date = f.transaction_date AND p.kin_id COLLATE "C" < f.entry_id COLLATE "C")))`.execute(trx);
  await sql`CREATE INDEX ON fin_charges (transaction_date, entry_id)`.execute(trx);
  const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM fin_charges`.execute(trx);
  return rows[0]!.n;
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

