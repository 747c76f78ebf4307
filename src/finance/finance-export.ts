import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { datesBetween } from '../dates.ts';
import type { FinanceColumn, FinanceRecord, FinanceSheet } from './finance-sheet.ts';
import { writeFinanceFile } from './finance-file.ts';
import { DEFAULT_EXPORT_FORMAT, type ExportFormat } from './finance-format.ts';
import { collectFinanceCharges, financeCharges, uncoveredDates, type FinanceCharge } from './ledger-charges.ts';

/**
 * The export's columns, in this order: v1's, then v2's, then v3's (`transaction_state`, `mid`,
 * `card_masking`), so a reader of an older version keeps its positions.
 */
export const EXPORT_COLUMNS = [
  { name: 'transaction_date', kind: 'date' },
  { name: 'reference_order', kind: 'text' },
  { name: 'charge_id', kind: 'text' },
  { name: 'source_type', kind: 'text' },
  { name: 'brand', kind: 'text' },
  { name: 'currency', kind: 'text' },
  { name: 'amount', kind: 'amount' },
  { name: 'settled_amount', kind: 'amount' },
  { name: 'mdr', kind: 'amount' },
  { name: 'vat', kind: 'amount' },
  { name: 'net_amount', kind: 'amount' },
  { name: 'refunded_amount', kind: 'amount' },
  { name: 'status', kind: 'text' },
  { name: 'codes', kind: 'text' },
  { name: 'approval_code', kind: 'text' },
  { name: 'ref_1', kind: 'text' },
  { name: 'ref_2', kind: 'text' },
  { name: 'ref_3', kind: 'text' },
  { name: 'convfee_amount', kind: 'amount' },
  { name: 'convfee_vat', kind: 'amount' },
  { name: 'open', kind: 'text' },
  { name: 'transaction_state', kind: 'text' },
  { name: 'mid', kind: 'text' },
  { name: 'card_masking', kind: 'text' },
] as const satisfies readonly FinanceColumn[];

export interface ExportResult {
  /** False when no finished run covers any date of the range: there is nothing to export. */
  readonly written: boolean;
  /** Charges written, one row each. */
  readonly rows: number;
  /** Finished runs the rows come from. */
  readonly runs: number;
  /** Charges no finished run reconciled (`NOT_RECONCILED`). */
  readonly notReconciled: number;
  /** Dates of the range no finished run covers. */
  readonly uncovered: readonly string[];
}

/**
 * Writes one row per ledger charge of [from, to] (docs/reference.md §5.4), each as
 * the latest finished run that reconciled it says, `NOT_RECONCILED` when none did. Read in one
 * snapshot of the database, a page at a time, so the range can be as long as the books.
 * `merchantMid` fills `mid` where the ledger row has none. Nothing is written when no finished
 * run covers any date of the range.
 */
export async function exportFinance(
  db: Kysely<Database>,
  range: { from: string; to: string },
  file: string,
  format: ExportFormat = DEFAULT_EXPORT_FORMAT,
  options: { merchantMid?: string | undefined } = {},
): Promise<ExportResult> {
  return db.transaction().setIsolationLevel('repeatable read').execute(async (trx) => {
    const uncovered = await uncoveredDates(trx, range.from, range.to);
    if (uncovered.length === datesBetween(range.from, range.to).length) return { written: false, rows: 0, runs: 0, notReconciled: 0, uncovered };
    await collectFinanceCharges(trx, range);
    const runs = new Set<string>();
    let rows = 0;
    let notReconciled = 0;
    async function* records(): AsyncGenerator<FinanceRecord> {
      for await (const charge of financeCharges(trx)) {
        rows += 1;
        if (charge.run_id) runs.add(charge.run_id);
        else notReconciled += 1;
        yield exportRecord(charge, options.merchantMid);
      }
    }
    const sheet: FinanceSheet = {
      name: 'export',
      columns: EXPORT_COLUMNS,
      rows: records(),
      describe: (record, n) => `export row ${n} (charge ${record.charge_id || record.reference_order}, ${record.transaction_date})`,
    };
    await writeFinanceFile(file, sheet, format);
    return { written: true, rows, runs: runs.size, notReconciled, uncovered };
  });
}

type ExportRecord = Record<(typeof EXPORT_COLUMNS)[number]['name'], string>;

/** A charge's row. Fees KBank has not reported are empty cells, never 0. */
function exportRecord(charge: FinanceCharge, merchantMid: string | undefined): ExportRecord {
  const reported = charge.fees_state === 'reported';
  const fee = (value: string | null) => (reported ? (value ?? '') : '');
  return {
    transaction_date: charge.transaction_date,
    reference_order: charge.reference_order ?? '',
    charge_id: charge.charge_id ?? '',
    source_type: charge.source_type,
    brand: charge.brand ?? '',
    currency: charge.currency,
    amount: charge.amount,
    settled_amount: fee(charge.settled_amount),
    mdr: fee(charge.mdr),
    vat: fee(charge.vat),
    net_amount: fee(charge.net_amount),
    refunded_amount: charge.refunded_amount ?? '',
    status: charge.status ?? 'NOT_RECONCILED',
    codes: (charge.codes ?? []).join(' '),
    approval_code: charge.approval_code ?? '',
    ref_1: charge.ref_1 ?? '',
    ref_2: charge.ref_2 ?? '',
    ref_3: charge.ref_3 ?? '',
    convfee_amount: charge.convfee_amount ?? '',
    convfee_vat: charge.convfee_vat ?? '',
    // A charge no run reconciled may still change.
    open: charge.open === false ? 'false' : 'true',
    transaction_state: charge.transaction_state ?? '',
    mid: charge.mid ?? merchantMid ?? '',
    card_masking: charge.card_masking ?? '',
  };
}
