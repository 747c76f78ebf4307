import { formatMoney, money, sum, ZERO, type Money } from '../money.ts';
import { SEVERITY } from '../reconcile/mismatch.ts';
import { openReason } from '../reconcile/open-state.ts';
import { chargeKey } from '../reconcile/charge-case.ts';
import { refundedByGateway, type ChargeResult } from '../reconcile/reconcile-charge.ts';
import type { Selectable } from 'kysely';
import type { ExportStatus, ReconDailySummaryTable } from './run.table.ts';

/** `mismatches.csv`'s header, exactly (contract §5); `recon_mismatches` has the same columns. */
export const MISMATCH_COLUMNS = [
  'run_id', 'transaction_date', 'source_type', 'charge_id', 'reference_order', 'entry_id', 'code',
  'severity', 'field', 'ledger_value', 'gateway_value', 'difference', 'message',
] as const;

/** One finding of a run as the run records it (empty where there is no value), with its charge. */
export type MismatchRow = Record<(typeof MISMATCH_COLUMNS)[number] | 'charge_key', string>;

/** v2 (contract §9): each finding's state across runs, after the v1 columns. */
export const FINDING_STATE_COLUMNS = ['finding_state', 'first_seen_on', 'acknowledged_by', 'ack_note'] as const;

/** One row of `summary.csv`: `recon_daily_summary` without its run id. */
export type SummaryRow = Omit<Selectable<ReconDailySummaryTable>, 'run_id' | 'merchant'>;

/** `summary.csv`'s header, exactly (contract §5). */
export const SUMMARY_COLUMNS = [
  'transaction_date', 'source_type', 'currency', 'charges', 'matched', 'mismatched', 'unverified',
  'gross_amount', 'settled_amount', 'mdr', 'vat', 'net_amount', 'refunded_amount',
] as const satisfies readonly (keyof SummaryRow)[];

/** One row per charge for the finance export (`recon_charge_results`). */
export interface ChargeRow {
  entry_id: string;
  transaction_date: string;
  reference_order: string | null;
  charge_id: string | null;
  source_type: string;
  brand: string | null;
  currency: string;
  amount: string;
  settled_amount: string | null;
  mdr: string | null;
  vat: string | null;
  net_amount: string | null;
  refunded_amount: string;
  status: ExportStatus;
  codes: string[];
  approval_code: string | null;
  ref_1: string | null;
  ref_2: string | null;
  ref_3: string | null;
  convfee_amount: string | null;
  convfee_vat: string | null;
  open: boolean;
  charge_key: string;
  open_reason: string | null;
  open_message: string | null;
}

/** The finance export's status (contract §6). */
export function exportStatus(result: ChargeResult): ExportStatus {
  if (result.status === 'unverified') return 'UNVERIFIED';
  if (result.status === 'mismatched') return 'MISMATCH';
  return result.mismatches.some((m) => m.code === 'SETTLEMENT_PENDING') ? 'PENDING' : 'MATCHED';
}

export function mismatchRows(runId: string, result: ChargeResult): MismatchRow[] {
  const { charge } = result.case;
  const key = chargeKey(charge);
  return result.mismatches.map((m) => ({
    run_id: runId,
    charge_key: key,
    transaction_date: charge.transaction_date,
    source_type: charge.source_type,
    charge_id: result.gateway?.id ?? charge.charge_id ?? '',
    reference_order: charge.reference_order ?? result.gateway?.referenceOrder ?? '',
    entry_id: m.entryId ?? '',
    code: m.code,
    severity: SEVERITY[m.code],
    field: m.field ?? '',
    ledger_value: m.ledgerValue ?? '',
    gateway_value: m.gatewayValue ?? '',
    difference: m.difference ? m.difference.toFixed(2) : '',
    message: m.message,
  }));
}

const text = (value: Money | null | undefined) => (value ? value.toFixed(4) : null);

export function chargeRow(result: ChargeResult): ChargeRow {
  const { charge } = result.case;
  const open = openReason(result);
  const settlement = result.gateway?.settlement;
  return {
    entry_id: charge.entry_id,
    transaction_date: charge.transaction_date,
    reference_order: charge.reference_order ?? result.gateway?.referenceOrder ?? null,
    charge_id: result.gateway?.id ?? charge.charge_id,
    source_type: charge.source_type,
    brand: result.gateway?.source?.brand ?? null,
    currency: charge.currency,
    amount: formatMoney(bookedAmount(result)),
    settled_amount: text(settlement?.settleAmount),
    mdr: text(settlement?.origMdr),
    vat: text(settlement?.origVat),
    net_amount: text(settlement?.origNetAmount),
    refunded_amount: formatMoney(refundedByGateway(result.gateway)),
    status: exportStatus(result),
    codes: [...new Set(result.mismatches.map((m) => m.code))],
    approval_code: result.gateway?.approvalCode ?? null,
    ref_1: result.gateway?.ref1 ?? null,
    ref_2: result.gateway?.ref2 ?? null,
    ref_3: result.gateway?.ref3 ?? null,
    convfee_amount: text(result.gateway?.convfee?.amount),
    convfee_vat: text(result.gateway?.convfee?.vat),
    open: open !== undefined,
    charge_key: chargeKey(charge),
    open_reason: open?.reason ?? null,
    open_message: open?.message ?? null,
  };
}

interface Totals {
  charges: number;
  matched: number;
  mismatched: number;
  unverified: number;
  gross: Money;
  settled: Money;
  mdr: Money;
  vat: Money;
  net: Money;
  refunded: Money;
}

/**
 * The charge amount the ledger books. An orphan case (refund or void rows, no charge row) books
 * none: its stand-in row's amount is a refund's, and counting it would inflate the gross.
 */
export function bookedAmount(result: ChargeResult): Money {
  return result.case.orphan ? ZERO : money(result.case.charge.amount);
}

/**
 * Per date × source type × currency: counts from the results; gross from the ledger; settled,
 * MDR, VAT, net and refunded as the gateway reports them (what the bank actually moved).
 * An orphan case (contract §4 v2) is a charge of the run like any other, counted under its
 * rows' `transaction_date`, `source_type` and `currency` (which name the charge they refund or
 * void): one charge, mismatched when it is an `ORPHAN_LEDGER_ENTRY`, with no gross amount since
 * the ledger books no charge row; what the gateway reports for it, if it knows it, is counted.
 * Results are added as they come; only the groups are held.
 */
export function summaryTotals(): { add(result: ChargeResult): void; rows(): SummaryRow[] } {
  const groups = new Map<string, { key: [string, string, string]; totals: Totals }>();
  return {
    add(result) {
      const { charge } = result.case;
      const key: [string, string, string] = [charge.transaction_date, charge.source_type, charge.currency.toUpperCase()];
      const id = key.join('|');
      let group = groups.get(id);
      if (!group) {
        group = { key, totals: { charges: 0, matched: 0, mismatched: 0, unverified: 0, gross: ZERO, settled: ZERO, mdr: ZERO, vat: ZERO, net: ZERO, refunded: ZERO } };
        groups.set(id, group);
      }
      const t = group.totals;
      const s = result.gateway?.settlement;
      t.charges += 1;
      t[result.status] += 1;
      t.gross = t.gross.plus(bookedAmount(result));
      t.settled = sum([t.settled, s?.settleAmount ?? ZERO]);
      t.mdr = sum([t.mdr, s?.origMdr ?? ZERO]);
      t.vat = sum([t.vat, s?.origVat ?? ZERO]);
      t.net = sum([t.net, s?.origNetAmount ?? ZERO]);
      t.refunded = t.refunded.plus(refundedByGateway(result.gateway));
    },
    rows: () =>
      [...groups.values()]
        .sort((a, b) => a.key.join('|').localeCompare(b.key.join('|')))
        .map(({ key: [date, source, currency], totals: t }) => ({
          transaction_date: date,
          source_type: source,
          currency,
          charges: t.charges,
          matched: t.matched,
          mismatched: t.mismatched,
          unverified: t.unverified,
          gross_amount: formatMoney(t.gross),
          settled_amount: formatMoney(t.settled),
          mdr: formatMoney(t.mdr),
          vat: formatMoney(t.vat),
          net_amount: formatMoney(t.net),
          refunded_amount: formatMoney(t.refunded),
        })),
  };
}
