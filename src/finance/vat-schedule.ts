import { once } from 'node:events';
import { sql, type Kysely } from 'kysely';
import type { Stringifier } from 'csv-stringify';
import type { Database } from '../db/database.ts';
import { shiftDate } from '../dates.ts';
import { classifyResponse } from '../gateway/inquiry-response.ts';
import { formatMoney, money, sum, ZERO, type Money } from '../money.ts';
import { neutraliseFormula } from '../report/csv-cells.ts';
import { checkEncodable, DEFAULT_EXPORT_FORMAT, formatExportDate, writeFinanceCsv, type ExportFormat } from './finance-format.ts';
import { latestRunPerDate } from './finance-export.ts';

/**
 * Contract §10: the contract's columns first, in its order; then `kind`, which says what a row
 * is (a spreadsheet filters on it), and the columns only a `fees_unknown` row fills.
 */
export const VAT_REPORT_COLUMNS = [
  'date', 'mid', 'source_type', 'charges', 'settled_amount', 'mdr', 'vat',
  'kind', 'charge_id', 'reference_order', 'amount', 'reason',
] as const;
type VatColumn = (typeof VAT_REPORT_COLUMNS)[number];
type VatRecord = Partial<Record<VatColumn, string>>;

/** A row's kind, in the order a `mid`'s rows are listed within a day. */
const VAT_ROW_KINDS = ['fees', 'refund_reversal', 'total', 'fees_unknown'] as const;

export interface VatReportRequest {
  /** `YYYY-MM`. */
  readonly month: string;
  /** Only this merchant id (`''`: the charges whose ledger row has none). */
  readonly mid?: string;
}

export interface VatReportResult {
  readonly mids: number;
  readonly feeCharges: number;
  readonly refundReversals: number;
  readonly unknownFees: number;
}

/** The first and last day of a `YYYY-MM` month. */
export function monthRange(month: string): { from: string; to: string } {
  const from = `${month}-01`;
  const [year, mm] = month.split('-').map(Number) as [number, number];
  const next = mm === 12 ? `${year + 1}-01-01` : `${year}-${String(mm + 1).padStart(2, '0')}-01`;
  return { from, to: shiftDate(next, -1) };
}

/**
 * Writes the month's MDR and VAT schedule (contract §10) per `mid`: the fees of the month's
 * charges per source type and day, the fee reversals of the month's refunds as negative rows, a
 * total; then every charge of the month whose fees are not known yet, so the clerk sees why a
 * total may still move.
 */
export async function writeVatReport(
  db: Kysely<Database>,
  request: VatReportRequest,
  file: string,
  format: ExportFormat = DEFAULT_EXPORT_FORMAT,
): Promise<VatReportResult> {
  const range = monthRange(request.month);
  const runs = await latestRunPerDate(db, range);
  const scope = { dates: [...runs.keys()], since: [...runs.values()].map((r) => r.finishedAt), mid: request.mid };
  const fees = await feeRows(db, scope);
  const reversals = await refundReversals(db, request.month, request.mid);
  const unknown = await unknownFeeCharges(db, scope);

  const byMid = new Map<string, FeeLine[]>();
  for (const { mid } of [...fees, ...reversals, ...unknown]) if (!byMid.has(mid)) byMid.set(mid, []);
  for (const line of [...fees, ...reversals]) byMid.get(line.mid)!.push(line);
  const mids = [...byMid.keys()].sort();

  const records: VatRecord[] = [];
  for (const mid of mids) {
    const lines = byMid.get(mid)!.sort(
      (a, b) => a.date.localeCompare(b.date) || a.sourceType.localeCompare(b.sourceType) || VAT_ROW_KINDS.indexOf(a.kind) - VAT_ROW_KINDS.indexOf(b.kind),
    );
    records.push(...lines.map((line) => feeRecord(line, format)));
    records.push({
      mid,
      kind: 'total',
      charges: String(lines.filter((l) => l.kind === 'fees').reduce((n, l) => n + l.charges, 0)),
      settled_amount: formatMoney(sum(lines.map((l) => l.settled))),
      mdr: formatMoney(sum(lines.map((l) => l.mdr))),
      vat: formatMoney(sum(lines.map((l) => l.vat))),
    });
  }
  for (const charge of unknown) {
    records.push({
      date: formatExportDate(charge.date, format.dates),
      mid: charge.mid,
      source_type: charge.sourceType,
      charges: '1',
      settled_amount: charge.settled === null ? '' : formatMoney(money(charge.settled)),
      kind: 'fees_unknown',
      charge_id: charge.chargeId ?? '',
      reference_order: charge.referenceOrder ?? '',
      amount: formatMoney(money(charge.amount)),
      reason: charge.reason,
    });
  }

  await writeFinanceCsv(file, VAT_REPORT_COLUMNS, format.encoding, (csv) => writeRecords(csv, records, format));
  return {
    mids: mids.length,
    feeCharges: fees.reduce((n, l) => n + l.charges, 0),
    refundReversals: reversals.reduce((n, l) => n + l.charges, 0),
    unknownFees: unknown.length,
  };
}

async function writeRecords(csv: Stringifier, records: readonly VatRecord[], format: ExportFormat): Promise<void> {
  let rowNumber = 0;
  for (const record of records) {
    rowNumber += 1;
    const cells: VatRecord = {};
    for (const column of VAT_REPORT_COLUMNS) {
      const value = record[column] ?? '';
      checkEncodable(value, format.encoding, () => `vat-report row ${rowNumber} (${record.kind}, mid '${record.mid}'${record.date ? `, ${record.date}` : ''})`, column);
      // Amounts are plain numbers and pass unchanged; a mid or reference that looks like a formula does not.
      cells[column] = neutraliseFormula(value);
    }
    if (!csv.write(cells)) await once(csv, 'drain');
  }
}

/** One `fees` or `refund_reversal` row: sums of one `mid` × `source_type` × day. */
interface FeeLine {
  readonly kind: 'fees' | 'refund_reversal';
  /** ISO date: the charge's `transaction_date`, or the refund's `refund_date` (Bangkok). */
  readonly date: string;
  readonly mid: string;
  readonly sourceType: string;
  readonly charges: number;
  readonly settled: Money;
  readonly mdr: Money;
  readonly vat: Money;
}

function feeRecord(line: FeeLine, format: ExportFormat): VatRecord {
  return {
    date: formatExportDate(line.date, format.dates),
    mid: line.mid,
    source_type: line.sourceType,
    charges: String(line.charges),
    settled_amount: formatMoney(line.settled),
    mdr: formatMoney(line.mdr),
    vat: formatMoney(line.vat),
    kind: line.kind,
  };
}

/** The month's dates, each with when its latest finished run finished, and the `--mid` filter. */
interface Scope {
  readonly dates: string[];
  readonly since: Date[];
  readonly mid: string | undefined;
}

/**
 * A charge whose fees are not known yet: unverified, not settled, or settled without its fee
 * figures (all zero, guide §6.1.5, or an MDR or VAT missing). A charge with no settlement for
 * good (voided; QR family, whose inquiry reports none) is final and in neither section.
 */
const FEES_UNKNOWN = sql<boolean>`(c.status = 'UNVERIFIED' OR c.codes && ARRAY['SETTLEMENT_PENDING', 'FEES_NOT_REPORTED']::text[]
  OR (c.settled_amount IS NOT NULL AND (c.mdr IS NULL OR c.vat IS NULL)))`;

/** Each charge of the month as its latest finished run says, as the export reads them. */
function chargesOfScope(scope: Scope) {
  return sql`(SELECT DISTINCT ON (c.transaction_date, c.entry_id) c.*
      FROM unnest(${scope.dates}::date[], ${scope.since}::timestamptz[]) AS l(date, since)
      JOIN recon_charge_results c ON c.transaction_date = l.date
      JOIN recon_runs r ON r.run_id = c.run_id AND r.status = 'finished' AND r.finished_at >= l.since
      ORDER BY c.transaction_date, c.entry_id, r.finished_at DESC) c
    LEFT JOIN ledger_entries e ON e.entry_id = c.entry_id
    WHERE (${scope.mid ?? null}::text IS NULL OR coalesce(e.mid, '') = ${scope.mid ?? null}::text)`;
}

/** The gateway's settled amount, MDR and VAT of the month's charges, summed in SQL per mid × source type × day. */
async function feeRows(db: Kysely<Database>, scope: Scope): Promise<FeeLine[]> {
  const { rows } = await sql<{ date: string; mid: string; source_type: string; charges: number; settled: string | null; mdr: string; vat: string }>`
    SELECT c.transaction_date::text AS date, coalesce(e.mid, '') AS mid, c.source_type, count(*)::int AS charges,
      sum(c.settled_amount)::text AS settled, sum(c.mdr)::text AS mdr, sum(c.vat)::text AS vat
    FROM ${chargesOfScope(scope)} AND c.mdr IS NOT NULL AND c.vat IS NOT NULL AND NOT ${FEES_UNKNOWN}
    GROUP BY 1, 2, 3`.execute(db);
  return rows.map((r) => ({
    kind: 'fees',
    date: r.date,
    mid: r.mid,
    sourceType: r.source_type,
    charges: r.charges,
    settled: r.settled === null ? ZERO : money(r.settled),
    mdr: money(r.mdr),
    vat: money(r.vat),
  }));
}

interface UnknownFeeCharge {
  readonly date: string;
  readonly mid: string;
  readonly sourceType: string;
  readonly chargeId: string | null;
  readonly referenceOrder: string | null;
  readonly amount: string;
  readonly settled: string | null;
  /** `UNVERIFIED`, `SETTLEMENT_PENDING` (not settled yet) or `FEES_NOT_REPORTED` (settled, figures zero or missing). */
  readonly reason: string;
}

async function unknownFeeCharges(db: Kysely<Database>, scope: Scope): Promise<UnknownFeeCharge[]> {
  const { rows } = await sql<{ date: string; mid: string; source_type: string; charge_id: string | null; reference_order: string | null; amount: string; settled: string | null; reason: string }>`
    SELECT c.transaction_date::text AS date, coalesce(e.mid, '') AS mid, c.source_type, c.charge_id, c.reference_order,
      c.amount::text AS amount, c.settled_amount::text AS settled,
      CASE WHEN c.status = 'UNVERIFIED' THEN 'UNVERIFIED'
        WHEN c.codes && ARRAY['SETTLEMENT_PENDING']::text[] THEN 'SETTLEMENT_PENDING'
        -- settled: the figures are all zero (the finding) or one is missing, reported either way
        ELSE 'FEES_NOT_REPORTED' END AS reason
    FROM ${chargesOfScope(scope)} AND ${FEES_UNKNOWN}
    ORDER BY 2, 1, c.entry_id`.execute(db);
  return rows.map((r) => ({
    date: r.date,
    mid: r.mid,
    sourceType: r.source_type,
    chargeId: r.charge_id,
    referenceOrder: r.reference_order,
    amount: r.amount,
    settled: r.settled,
    reason: r.reason,
  }));
}

/**
 * The fee reversals of the refunds made in the month (by `refund_date`, Bangkok time), whatever
 * the charge's own date: from each charge's latest answer stored by a finished run, read through
 * the same classification a live answer goes through. A refund that failed (`error_code`) gave
 * nothing back.
 */
async function refundReversals(db: Kysely<Database>, month: string, mid: string | undefined): Promise<FeeLine[]> {
  const compactMonth = month.replace('-', '');
  // A body without the month's digits anywhere cannot hold one of its refund dates.
  const { rows } = await sql<{ charge_key: string; request_path: string; http_status: number; body: string }>`
    SELECT DISTINCT ON (gi.charge_key) gi.charge_key, gi.request_path, gi.http_status, gi.body
    FROM gateway_inquiries gi JOIN recon_runs r ON r.run_id = gi.run_id AND r.status = 'finished'
    WHERE gi.outcome = 'found' AND gi.body IS NOT NULL AND gi.http_status IS NOT NULL
      AND gi.charge_key IN (SELECT charge_key FROM gateway_inquiries WHERE body LIKE ${`%${compactMonth}%`})
    ORDER BY gi.charge_key, gi.fetched_at DESC, r.finished_at DESC`.execute(db);
  const ledger = await ledgerChargesByKey(db, rows.map((r) => r.charge_key));

  const lines = new Map<string, FeeLine>();
  for (const row of rows) {
    const family = row.request_path.startsWith('/qr/') ? 'qr' : 'card';
    const answer = classifyResponse(family, row.http_status, row.body, null);
    if (answer.kind !== 'found') continue;
    const charge = ledger.get(row.charge_key) ?? { mid: '', source_type: answer.charge.source?.object ?? '' };
    if (mid !== undefined && charge.mid !== mid) continue;
    for (const refund of answer.charge.refunds) {
      const when = refund.refundDate;
      if (refund.errorCode !== null || when === null || !/^\d{17}$/.test(when) || !when.startsWith(compactMonth)) continue;
      const date = `${when.slice(0, 4)}-${when.slice(4, 6)}-${when.slice(6, 8)}`;
      const key = `${charge.mid}\u0000${charge.source_type}\u0000${date}`;
      const line = lines.get(key) ?? { kind: 'refund_reversal', date, mid: charge.mid, sourceType: charge.source_type, charges: 0, settled: ZERO, mdr: ZERO, vat: ZERO };
      lines.set(key, {
        ...line,
        charges: line.charges + 1,
        settled: line.settled.minus(refund.amount ?? ZERO),
        mdr: line.mdr.minus(refund.origMdr ?? ZERO),
        vat: line.vat.minus(refund.origVat ?? ZERO),
      });
    }
  }
  return [...lines.values()];
}

/** The ledger's charge row per charge key (charge id, else reference order, else order id, as the inquiry stage keys it). */
async function ledgerChargesByKey(db: Kysely<Database>, keys: string[]): Promise<Map<string, { mid: string; source_type: string }>> {
  if (keys.length === 0) return new Map();
  const { rows } = await sql<{ key: string; mid: string; source_type: string }>`
    SELECT DISTINCT ON (key) coalesce(charge_id, reference_order, order_id, entry_id) AS key, coalesce(mid, '') AS mid, source_type
    FROM ledger_entries
    WHERE entry_type = 'charge' AND coalesce(charge_id, reference_order, order_id, entry_id) = ANY(${keys}::text[])
    ORDER BY key, entry_id`.execute(db);
  return new Map(rows.map((r) => [r.key, { mid: r.mid, source_type: r.source_type }]));
}
