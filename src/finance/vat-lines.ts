import { sql, type Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import { isLive } from '../ingest/retracted.ts';
import { money, ZERO, type Money } from '../money.ts';

/** Which date a VAT schedule row is dated by (docs/reference.md §5.5). */
export type DateBasis = 'created' | 'transaction_date' | 'refund_date' | 'ledger_entry_date' | 'seen_on';

/**
 * A `fees` or `refund_reversal` row: the sums of one mid × source type × day × currency (× date
 * basis). `settled`, `mdr` and `vat` are KBank's THB figures, negative for a reversal; `amount`
 * is in the charges' own currency.
 */
export interface FeeLine {
  readonly kind: 'fees' | 'refund_reversal';
  readonly date: string;
  readonly basis: DateBasis;
  readonly mid: string;
  readonly sourceType: string;
  readonly currency: string;
  readonly charges: number;
  readonly amount: Money;
  readonly settled: Money;
  readonly mdr: Money;
  readonly vat: Money;
}

/** The month, the `--mid` filter, and the mid of ledger rows without one. */
export interface VatScope {
  readonly from: string;
  readonly to: string;
  readonly mid: string | undefined;
  readonly merchantMid: string | undefined;
}

/** A charge's mid as the schedule shows it: the ledger row's, else the merchant's. */
export function midOf(alias: string, scope: VatScope) {
  return sql<string>`coalesce(${sql.ref(`${alias}.mid`)}, ${scope.merchantMid ?? null}::text, '')`;
}

/** The day a charge's fee belongs to: KBank's `created` day (Bangkok), else the ledger's date. */
export const FEE_DATE = sql<string>`coalesce(created_date, transaction_date)`;

/** `fin_charges` rows of the month (by {@link FEE_DATE}) and of the `--mid`, if given. */
export function inMonth(scope: VatScope) {
  return sql<boolean>`${FEE_DATE} BETWEEN ${scope.from} AND ${scope.to}
    AND (${scope.mid ?? null}::text IS NULL OR ${midOf('fin_charges', scope)} = ${scope.mid ?? null}::text)`;
}

/** KBank's fees of the month's charges whose figures it reported, summed in SQL (`fin_charges` must be filled). */
export async function feeLines(trx: Transaction<Database>, scope: VatScope): Promise<FeeLine[]> {
  const { rows } = await sql<LineRow>`
    SELECT ${FEE_DATE} AS date, CASE WHEN created_date IS NULL THEN 'transaction_date' ELSE 'created' END AS basis,
      ${midOf('fin_charges', scope)} AS mid, source_type, currency, count(*)::int AS charges,
      sum(amount::numeric)::text AS amount, coalesce(sum(settled_amount::numeric), 0)::text AS settled,
      sum(mdr::numeric)::text AS mdr, sum(vat::numeric)::text AS vat
    FROM fin_charges WHERE fees_state = 'reported' AND NOT unbooked AND ${inMonth(scope)}
    GROUP BY 1, 2, 3, 4, 5`.execute(trx);
  return rows.map((r) => line('fees', r, 1));
}

/** A refund whose fees KBank gave back but did not say how much: its fees are not known. */
export interface UnknownReversal {
  readonly date: string;
  readonly basis: DateBasis;
  readonly mid: string;
  readonly sourceType: string;
  readonly currency: string;
  readonly chargeId: string | null;
  readonly referenceOrder: string | null;
  readonly amount: Money;
}

/**
 * The fee reversals of the refunds dated in the month, whatever the charge's own month: each
 * refund dated by its `refund_date`, else by the ledger refund matched to it, else by the as-of
 * day of the first finished run whose answer listed it, so none is ever left out. Read from each
 * charge's latest finished result in which KBank answered with the charge (a charge the ledger
 * books twice, once); a refund that failed
 * gave nothing back and is not there. Retracted charges are left out.
 */
export async function reversalLines(trx: Transaction<Database>, scope: VatScope): Promise<{ lines: FeeLine[]; unknown: UnknownReversal[] }> {
  const { rows } = await sql<RefundRow>`
    WITH latest AS (
      SELECT DISTINCT ON (coalesce(c.charge_id, c.entry_id)) coalesce(c.charge_id, c.entry_id) AS ck, c.entry_id, c.charge_id,
        c.reference_order, c.source_type, upper(c.currency) AS currency, c.mid, c.refunds
      FROM recon_charge_results c JOIN recon_runs r ON r.run_id = c.run_id AND r.status = 'finished'
      WHERE (c.transaction_date, c.entry_id) IN (SELECT transaction_date, entry_id FROM recon_charge_results WHERE refunds IS NOT NULL)
        AND c.transaction_state IS NOT NULL
      ORDER BY coalesce(c.charge_id, c.entry_id), r.finished_at DESC
    ), seen AS (
      SELECT coalesce(c.charge_id, c.entry_id) AS ck, x->>'key' AS key, min(r.as_of)::text AS seen_on
      FROM recon_charge_results c JOIN recon_runs r ON r.run_id = c.run_id AND r.status = 'finished'
      CROSS JOIN jsonb_array_elements(c.refunds) x
      WHERE c.refunds IS NOT NULL GROUP BY 1, 2
    ), dated AS (
      SELECT l.*, x->>'amount' AS refund_amount, x->>'thb' AS thb, x->>'mdr' AS mdr, x->>'vat' AS vat,
        coalesce(x->>'refund_date', x->>'ledger_entry_date', s.seen_on) AS date,
        CASE WHEN x->>'refund_date' IS NOT NULL THEN 'refund_date' WHEN x->>'ledger_entry_date' IS NOT NULL THEN 'ledger_entry_date' ELSE 'seen_on' END AS basis
      FROM latest l CROSS JOIN jsonb_array_elements(l.refunds) x
      LEFT JOIN seen s ON s.ck = l.ck AND s.key = x->>'key'
      WHERE l.refunds IS NOT NULL AND ${isLive('l')}
    )
    SELECT date, basis, ${midOf('dated', scope)} AS mid, source_type, currency, charge_id, reference_order,
      refund_amount, thb, mdr, vat
    FROM dated
    WHERE date::date BETWEEN ${scope.from} AND ${scope.to}
      AND (${scope.mid ?? null}::text IS NULL OR ${midOf('dated', scope)} = ${scope.mid ?? null}::text)
    ORDER BY 3, 1, 4, 5, 6`.execute(trx);
  const lines = new Map<string, FeeLine>();
  const unknown: UnknownReversal[] = [];
  for (const row of rows) {
    const amount = row.refund_amount === null ? ZERO : money(row.refund_amount);
    if (row.mdr === null || row.vat === null) {
      unknown.push({ date: row.date, basis: row.basis, mid: row.mid, sourceType: row.source_type, currency: row.currency, chargeId: row.charge_id, referenceOrder: row.reference_order, amount: amount.negated() });
      continue;
    }
    const key = [row.mid, row.date, row.source_type, row.currency, row.basis].join('\u0000');
    const sofar = lines.get(key);
    const one = line('refund_reversal', { ...row, charges: 1, amount: row.refund_amount ?? '0', settled: row.thb ?? '0', mdr: row.mdr, vat: row.vat }, -1);
    lines.set(key, sofar ? add(sofar, one) : one);
  }
  return { lines: [...lines.values()], unknown };
}

interface LineRow {
  date: string;
  basis: DateBasis;
  mid: string;
  source_type: string;
  currency: string;
  charges: number;
  amount: string;
  settled: string;
  mdr: string;
  vat: string;
}

interface RefundRow {
  date: string;
  basis: DateBasis;
  mid: string;
  source_type: string;
  currency: string;
  charge_id: string | null;
  reference_order: string | null;
  refund_amount: string | null;
  thb: string | null;
  mdr: string | null;
  vat: string | null;
}

function line(kind: FeeLine['kind'], r: LineRow, sign: 1 | -1): FeeLine {
  const signed = (text: string) => (sign === 1 ? money(text) : money(text).negated());
  return {
    kind,
    date: r.date,
    basis: r.basis,
    mid: r.mid,
    sourceType: r.source_type,
    currency: r.currency,
    charges: r.charges,
    amount: signed(r.amount),
    settled: signed(r.settled),
    mdr: signed(r.mdr),
    vat: signed(r.vat),
  };
}

function add(a: FeeLine, b: FeeLine): FeeLine {
  return { ...a, charges: a.charges + b.charges, amount: a.amount.plus(b.amount), settled: a.settled.plus(b.settled), mdr: a.mdr.plus(b.mdr), vat: a.vat.plus(b.vat) };
}
