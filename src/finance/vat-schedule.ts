import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import { datesBetween, shiftDate } from '../dates.ts';
import { formatMoney, money, sum, type Money } from '../money.ts';
import type { FinanceColumn, FinanceRecord, FinanceSheet } from './finance-sheet.ts';
import { writeFinanceFile } from './finance-file.ts';
import { DEFAULT_EXPORT_FORMAT, type ExportFormat } from './finance-format.ts';
import { collectFinanceCharges, financeCharges, uncoveredDates, type FinanceCharge } from './ledger-charges.ts';
import { feeLines, inMonth, midOf, reversalLines, type FeeLine, type UnknownReversal, type VatScope } from './vat-lines.ts';
import { tieOut, vatRateFor, type Invoice, type TieOut } from './vat-tie-out.ts';

/**
 * The schedule's columns: v2's, then `currency` (of `amount`; `settled_amount`, `mdr` and `vat`
 * are always THB) and `date_basis` (which date dates the row).
 */
export const VAT_REPORT_COLUMNS = [
  { name: 'date', kind: 'date' },
  { name: 'mid', kind: 'text' },
  { name: 'source_type', kind: 'text' },
  { name: 'charges', kind: 'count' },
  { name: 'settled_amount', kind: 'amount' },
  { name: 'mdr', kind: 'amount' },
  { name: 'vat', kind: 'amount' },
  { name: 'kind', kind: 'text' },
  { name: 'charge_id', kind: 'text' },
  { name: 'reference_order', kind: 'text' },
  { name: 'amount', kind: 'amount' },
  { name: 'reason', kind: 'text' },
  { name: 'currency', kind: 'text' },
  { name: 'date_basis', kind: 'text' },
] as const satisfies readonly FinanceColumn[];
type VatRecord = Partial<Record<(typeof VAT_REPORT_COLUMNS)[number]['name'], string>>;

export interface VatReportRequest {
  /** `YYYY-MM`. */
  readonly month: string;
  /** Only this merchant id (`''`: the charges with no mid at all). */
  readonly mid?: string | undefined;
  /** The mid of ledger rows without one: the merchant's (merchants file, else `RECON_MID`). */
  readonly merchantMid?: string | undefined;
  /** KBank's tax invoice for the month, to tie out to. */
  readonly invoice?: Invoice | undefined;
}

export interface VatReportResult {
  /** False when no finished run covers any day of the month: nothing is written. */
  readonly written: boolean;
  readonly mids: number;
  readonly feeCharges: number;
  /** Charges KBank notified and charged that no ledger charge row names (`not_in_ledger` rows). */
  readonly notInLedger: number;
  readonly refundReversals: number;
  readonly unknownFees: number;
  /** Days of the month no finished run covers. */
  readonly uncovered: readonly string[];
  readonly tieOut?: TieOut;
}

/** The first and last day of a `YYYY-MM` month. */
export function monthRange(month: string): { from: string; to: string } {
  const from = `${month}-01`;
  const [year, mm] = month.split('-').map(Number) as [number, number];
  const next = mm === 12 ? `${year + 1}-01-01` : `${year}-${String(mm + 1).padStart(2, '0')}-01`;
  return { from, to: shiftDate(next, -1) };
}

/**
 * Writes the month's MDR and VAT schedule (docs/reference.md §5.5), THB only: the
 * fees of the charges KBank created in the month, per mid × source type × day × currency; the
 * fee reversals of the refunds of the month, negative; every other charge of the month whose
 * fees are not known, one row each with the reason; the totals per mid, last; then, given
 * KBank's invoice, the invoice and the difference. Read in one snapshot of the database.
 */
export async function writeVatReport(
  db: Kysely<Database>,
  request: VatReportRequest,
  file: string,
  format: ExportFormat = DEFAULT_EXPORT_FORMAT,
): Promise<VatReportResult> {
  const range = monthRange(request.month);
  return db.transaction().setIsolationLevel('repeatable read').execute(async (trx) => {
    const uncovered = await uncoveredDates(trx, range.from, range.to);
    if (uncovered.length === datesBetween(range.from, range.to).length) {
      return { written: false, mids: 0, feeCharges: 0, notInLedger: 0, refundReversals: 0, unknownFees: 0, uncovered };
    }
    await collectFinanceCharges(trx, { ...range, createdInRange: true });
    const scope: VatScope = { ...range, mid: request.mid, merchantMid: request.merchantMid };
    const fees = sortLines(await feeLines(trx, scope));
    const reversals = await reversalLines(trx, scope);
    const reversalRows = sortLines(reversals.lines);
    const unbooked = await unbookedCharges(trx, scope, request.merchantMid);
    const totals = midTotals([...fees, ...reversalRows], unbooked, await unknownMids(trx, scope), reversals.unknown);
    const grand = { mdr: sum(totals.map((t) => t.mdr)), vat: sum(totals.map((t) => t.vat)) };
    const tie = request.invoice ? tieOut(grand, request.invoice, await vatRateFor(trx, range.to)) : undefined;

    let unknownFees = 0;
    async function* records(): AsyncGenerator<FinanceRecord> {
      for (const l of [...fees, ...reversalRows]) yield lineRecord(l);
      for (const u of unbooked) yield unbookedRecord(u);
      for await (const charge of financeCharges(trx, sql`(run_id IS NULL OR fees_state NOT IN ('reported', 'voided')) AND NOT unbooked AND ${inMonth(scope)}`)) {
        unknownFees += 1;
        yield unknownRecord(charge, request.merchantMid);
      }
      for (const r of reversals.unknown) yield unknownReversalRecord(r);
      for (const t of totals) yield totalRecord(t);
      if (request.invoice && tie) yield* invoiceRecords(request.invoice, tie, request.mid ?? (totals.length === 1 ? totals[0]!.mid : ''));
    }
    const sheet: FinanceSheet = {
      name: 'vat-schedule',
      columns: VAT_REPORT_COLUMNS,
      rows: records(),
      describe: (record, n) => `vat-report row ${n} (${record.kind}, mid '${record.mid}'${record.date ? `, ${record.date}` : ''})`,
    };
    await writeFinanceFile(file, sheet, format);
    return {
      written: true,
      mids: totals.length,
      feeCharges: fees.reduce((n, l) => n + l.charges, 0),
      notInLedger: unbooked.length,
      refundReversals: reversalRows.reduce((n, l) => n + l.charges, 0) + reversals.unknown.length,
      unknownFees: unknownFees + reversals.unknown.length,
      uncovered,
      ...(tie ? { tieOut: tie } : {}),
    };
  });
}

const text = (value: Money) => formatMoney(value);

function sortLines(lines: FeeLine[]): FeeLine[] {
  const key = (l: FeeLine) => [l.mid, l.date, l.sourceType, l.currency, l.basis].join('\u0000');
  return lines.sort((a, b) => key(a).localeCompare(key(b)));
}

function lineRecord(l: FeeLine): VatRecord {
  return {
    date: l.date, mid: l.mid, source_type: l.sourceType, charges: String(l.charges), settled_amount: text(l.settled), mdr: text(l.mdr),
    vat: text(l.vat), kind: l.kind, amount: text(l.amount), currency: l.currency, date_basis: l.basis,
  };
}

/** Why a charge of the month has no fee row (docs/reference.md §5.5). */
function unknownReason(charge: FinanceCharge): string {
  if (!charge.run_id) return 'not reconciled';
  switch (charge.fees_state) {
    case 'unverified':
      return 'unverified';
    case 'not_reported':
      return charge.mdr_estimate && charge.vat_estimate ? 'not reported by the gateway (mdr and vat: estimate from the fee schedule)' : 'not reported by the gateway';
    case 'none':
      return 'not charged by the gateway (unknown to it, or the payment failed)';
    default:
      return 'open';
  }
}

function unknownRecord(charge: FinanceCharge, merchantMid: string | undefined): VatRecord {
  const estimate = charge.run_id && charge.fees_state === 'not_reported' && charge.mdr_estimate && charge.vat_estimate;
  return {
    date: charge.created_date ?? charge.transaction_date,
    mid: charge.mid ?? merchantMid ?? '',
    source_type: charge.source_type,
    charges: '1',
    mdr: estimate ? text(money(charge.mdr_estimate!)) : '',
    vat: estimate ? text(money(charge.vat_estimate!)) : '',
    kind: 'fees_unknown',
    charge_id: charge.charge_id ?? '',
    reference_order: charge.reference_order ?? '',
    amount: charge.amount,
    reason: unknownReason(charge),
    currency: charge.currency,
    date_basis: charge.created_date ? 'created' : 'transaction_date',
  };
}

function unknownReversalRecord(r: UnknownReversal): VatRecord {
  return {
    date: r.date, mid: r.mid, source_type: r.sourceType, charges: '1', kind: 'fees_unknown', charge_id: r.chargeId ?? '',
    reference_order: r.referenceOrder ?? '', amount: text(r.amount), reason: 'refund fees not reported by the gateway', currency: r.currency, date_basis: r.basis,
  };
}

/**
 * A charge of the month that KBank notified, charged and confirmed while no ledger charge row
 * names it (`NOT_IN_LEDGER`): a row of its own, kind `not_in_ledger`, never a `fees` row, so
 * that every ledger charge stays in exactly one place. KBank's fees on it are on its invoice,
 * so the mid's total counts them when KBank reported them; a Thai QR or WeChat charge's are not
 * reported, and its row shows the fee schedule's estimate, said so, outside the total.
 */
interface UnbookedCharge {
  readonly charge: FinanceCharge;
  readonly mid: string;
  /** KBank's figures, when it reported them; `undefined`: unknown. */
  readonly reported: { readonly settled: Money; readonly mdr: Money; readonly vat: Money } | undefined;
}

async function unbookedCharges(trx: Transaction<Database>, scope: VatScope, merchantMid: string | undefined): Promise<UnbookedCharge[]> {
  const found: UnbookedCharge[] = [];
  // Few: a charge the books lack is an exception, found one by one.
  for await (const charge of financeCharges(trx, sql`unbooked AND ${inMonth(scope)}`)) {
    const reported = charge.fees_state === 'reported' && charge.mdr !== null && charge.vat !== null
      ? { settled: money(charge.settled_amount ?? '0'), mdr: money(charge.mdr), vat: money(charge.vat) }
      : undefined;
    found.push({ charge, mid: charge.mid ?? merchantMid ?? '', reported });
  }
  // By mid, then (as read) by date.
  return found.sort((a, b) => a.mid.localeCompare(b.mid));
}

function unbookedRecord({ charge, mid, reported }: UnbookedCharge): VatRecord {
  const estimate = !reported && charge.fees_state === 'not_reported' && charge.mdr_estimate && charge.vat_estimate;
  const why = reported
    ? "not in the ledger (NOT_IN_LEDGER): KBank charged it, and its fees are on KBank's invoice"
    : `not in the ledger (NOT_IN_LEDGER): its fees ${charge.fees_state === 'not_reported' ? `are not reported by the gateway${estimate ? ' (mdr and vat: estimate from the fee schedule)' : ''}` : 'are not known yet'}`;
  return {
    date: charge.created_date ?? charge.transaction_date,
    mid,
    source_type: charge.source_type,
    charges: '1',
    settled_amount: reported ? text(reported.settled) : '',
    mdr: reported ? text(reported.mdr) : estimate ? text(money(charge.mdr_estimate!)) : '',
    vat: reported ? text(reported.vat) : estimate ? text(money(charge.vat_estimate!)) : '',
    kind: 'not_in_ledger',
    charge_id: charge.charge_id ?? '',
    reference_order: charge.reference_order ?? '',
    amount: charge.amount,
    reason: why,
    currency: charge.currency,
    date_basis: charge.created_date ? 'created' : 'transaction_date',
  };
}

interface MidTotal {
  readonly mid: string;
  readonly charges: number;
  readonly settled: Money;
  readonly mdr: Money;
  readonly vat: Money;
}

/**
 * One total per mid of the schedule, in THB: its fee rows, reversals and the fees KBank reported
 * on charges the ledger lacks (a mid with fees unknown only totals 0.00).
 */
function midTotals(lines: readonly FeeLine[], unbooked: readonly UnbookedCharge[], otherMids: readonly string[], unknown: readonly UnknownReversal[]): MidTotal[] {
  const mids = [...new Set([...lines.map((l) => l.mid), ...unbooked.map((u) => u.mid), ...otherMids, ...unknown.map((u) => u.mid)])].sort();
  return mids.map((mid) => {
    const own = lines.filter((l) => l.mid === mid);
    const charged = unbooked.flatMap((u) => (u.mid === mid && u.reported ? [u.reported] : []));
    return {
      mid,
      charges: own.filter((l) => l.kind === 'fees').reduce((n, l) => n + l.charges, 0) + charged.length,
      settled: sum([...own.map((l) => l.settled), ...charged.map((c) => c.settled)]),
      mdr: sum([...own.map((l) => l.mdr), ...charged.map((c) => c.mdr)]),
      vat: sum([...own.map((l) => l.vat), ...charged.map((c) => c.vat)]),
    };
  });
}

function totalRecord(t: MidTotal): VatRecord {
  return { mid: t.mid, charges: String(t.charges), settled_amount: text(t.settled), mdr: text(t.mdr), vat: text(t.vat), kind: 'total', currency: 'THB' };
}

function* invoiceRecords(invoice: Invoice, tie: TieOut, mid: string): Generator<VatRecord> {
  const named = ['KBank tax invoice', invoice.number, invoice.date ? `of ${invoice.date}` : undefined].filter(Boolean).join(' ');
  yield { date: invoice.date ?? '', mid, mdr: text(invoice.mdr), vat: text(invoice.vat), kind: 'invoice', reason: named, currency: 'THB' };
  yield { mid, mdr: text(tie.mdrDifference), vat: text(tie.vatDifference), kind: 'difference', reason: tie.reason, currency: 'THB' };
}

/** The mids of the month's charges whose fees are not known, so each has its total. */
async function unknownMids(trx: Kysely<Database>, scope: VatScope): Promise<string[]> {
  const { rows } = await sql<{ mid: string }>`
    SELECT DISTINCT ${midOf('fin_charges', scope)} AS mid FROM fin_charges
    WHERE (run_id IS NULL OR fees_state NOT IN ('reported', 'voided')) AND NOT unbooked AND ${inMonth(scope)}`.execute(trx);
  return rows.map((r) => r.mid);
}
