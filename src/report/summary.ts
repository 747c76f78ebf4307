import { formatMoney, money, ZERO, type Money } from '../money.ts';
import type { FeeSchedule } from '../reconcile/fee-schedule.ts';
import { SEVERITY } from '../reconcile/mismatch.ts';
import { openReason } from '../followup/open-state.ts';
import { chargeKey } from '../reconcile/charge-case.ts';
import { refundedByGateway } from '../reconcile/reconcile-charge.ts';
import type { ChargeResult } from '../reconcile/charge-result.ts';
import type { Selectable } from 'kysely';
import { chargeFigures, feeEstimate, isFeesPending, refundFigures, type ChargeFigures, type FeesState } from './charge-figures.ts';
import type { ExportStatus, ReconChargeResultTable, ReconDailySummaryTable } from './results.table.ts';

/** `mismatches.csv`'s header, exactly (docs/reference.md §5.1); `recon_mismatches` has the same columns. */
export const MISMATCH_COLUMNS = [
  'run_id', 'transaction_date', 'source_type', 'charge_id', 'reference_order', 'entry_id', 'code',
  'severity', 'field', 'ledger_value', 'gateway_value', 'difference', 'message',
] as const;

/** One finding of a run as the run records it (empty where there is no value), with its charge. */
export type MismatchRow = Record<(typeof MISMATCH_COLUMNS)[number] | 'charge_key', string>;

/** Each finding's state across runs (docs/reference.md §4.22), after the first columns. */
export const FINDING_STATE_COLUMNS = ['finding_state', 'first_seen_on', 'acknowledged_by', 'ack_note'] as const;

/** One row of `summary.csv`: `recon_daily_summary` without its run id. */
export type SummaryRow = Omit<Selectable<ReconDailySummaryTable>, 'run_id' | 'merchant'>;

/**
 * `summary.csv`'s header, exactly: v3 appends `voided_amount` and `fees_pending`. The table
 * also keeps the estimate of the pending fees, which the CSV does not show.
 */
export const SUMMARY_COLUMNS = [
  'transaction_date', 'source_type', 'currency', 'charges', 'matched', 'mismatched', 'unverified',
  'gross_amount', 'settled_amount', 'mdr', 'vat', 'net_amount', 'refunded_amount', 'voided_amount', 'fees_pending',
] as const satisfies readonly (keyof SummaryRow)[];

/**
 * One charge's row as a run writes it to `recon_charge_results` (the finance export's source):
 * every charge of a run has a key and knows whether its fees are reported.
 */
export type ChargeRow = Omit<Selectable<ReconChargeResultTable>, 'merchant' | 'run_id' | 'charge_key' | 'fees_state'> & {
  charge_key: string;
  fees_state: FeesState;
};

/**
 * The finance export's status: a charge KBank notified and confirmed that no ledger charge row
 * names is `NOT_IN_LEDGER`; a charge with an error is `MISMATCH` whatever else; one whose
 * figures KBank has not reported yet (not settled, or settled without fees) is `PENDING`, never
 * `MATCHED` with fees of zero.
 */
export function exportStatus(result: ChargeResult, figures: ChargeFigures): ExportStatus {
  if (result.mismatches.some((m) => m.code === 'NOT_IN_LEDGER')) return 'NOT_IN_LEDGER';
  if (result.status === 'unverified') return 'UNVERIFIED';
  if (result.status === 'mismatched') return 'MISMATCH';
  return figures.state === 'pending' ? 'PENDING' : 'MATCHED';
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

/** What the totals and a charge's row say of its fees, worked out once per charge. */
export interface ChargeFees {
  readonly figures: ChargeFigures;
  /** The fees expected while KBank's are not known: an estimate. */
  readonly estimate: { readonly mdr: Money; readonly vat: Money } | undefined;
}

export function chargeFees(result: ChargeResult, schedule: FeeSchedule | undefined): ChargeFees {
  const figures = chargeFigures(result);
  return { figures, estimate: feeEstimate(result, figures.state, schedule) };
}

/** A charge's row in `recon_charge_results`. */
export function chargeRow(result: ChargeResult, fees: ChargeFees): ChargeRow {
  const { charge } = result.case;
  const open = openReason(result);
  const { figures, estimate } = fees;
  const reported = figures.figures;
  const notifiedOnly = result.case.notifiedOnly;
  return {
    entry_id: notifiedOnly ? null : charge.entry_id,
    notification_id: notifiedOnly ? (result.case.notifications[0]?.notificationId ?? null) : null,
    transaction_date: charge.transaction_date,
    reference_order: charge.reference_order ?? result.gateway?.referenceOrder ?? null,
    charge_id: result.gateway?.id ?? charge.charge_id,
    order_id: result.gateway?.orderId ?? charge.order_id,
    source_type: charge.source_type,
    brand: result.gateway?.source?.brand ?? null,
    currency: charge.currency,
    // A charge no ledger row names is listed with KBank's amount; the totals count no gross for it.
    amount: formatMoney(notifiedOnly ? (result.gateway?.amount ?? money(charge.amount)) : bookedAmount(result)),
    settled_amount: text(reported?.settled),
    mdr: text(reported?.mdr),
    vat: text(reported?.vat),
    net_amount: text(reported?.net),
    refunded_amount: formatMoney(refundedByGateway(result.gateway)),
    status: exportStatus(result, figures),
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
    transaction_state: result.gateway?.transactionState || null,
    created_date: result.gateway?.createdDate ?? null,
    card_masking: result.gateway?.source?.cardMasking ?? null,
    mid: charge.mid,
    fees_state: figures.state,
    mdr_estimate: text(estimate?.mdr),
    vat_estimate: text(estimate?.vat),
    refunds: refundFigures(result),
  };
}

interface Totals {
  charges: number;
  matched: number;
  mismatched: number;
  unverified: number;
  gross: Money;
  voided: Money;
  settled: Money;
  mdr: Money;
  vat: Money;
  net: Money;
  refunded: Money;
  feesPending: number;
  mdrEstimate: Money;
  vatEstimate: Money;
}

const NO_TOTALS = (): Totals => ({
  charges: 0, matched: 0, mismatched: 0, unverified: 0, gross: ZERO, voided: ZERO, settled: ZERO, mdr: ZERO, vat: ZERO, net: ZERO,
  refunded: ZERO, feesPending: 0, mdrEstimate: ZERO, vatEstimate: ZERO,
});

/**
 * The charge amount the ledger books. An orphan case (refund or void rows, no charge row) books
 * none: its stand-in row's amount is a refund's, and counting it would inflate the gross; nor
 * does a charge only KBank's notifications name.
 */
export function bookedAmount(result: ChargeResult): Money {
  return result.case.orphan || result.case.notifiedOnly ? ZERO : money(result.case.charge.amount);
}

/**
 * Per date × source type × currency (docs/reference.md §5.3): counts from the results; the
 * gross from the ledger in its own currency, voided charges apart (`voided_amount`); settled,
 * MDR, VAT and net as KBank reports them, in THB, for the charges whose figures are reported;
 * `fees_pending` counts the others whose fees are unknown, with the estimate of their fees kept
 * beside (table only); refunded as the gateway reports it. An orphan case (refund or void rows,
 * no charge row) is a charge of the run like any other, counted under its rows' date, source
 * type and currency, with no gross amount since the ledger books no charge row.
 * Results are added as they come; only the groups are held.
 */
export function summaryTotals(): { add(result: ChargeResult, fees: ChargeFees): void; rows(): SummaryRow[] } {
  const groups = new Map<string, { key: [string, string, string]; totals: Totals }>();
  return {
    add(result, { figures, estimate }) {
      const { charge } = result.case;
      const key: [string, string, string] = [charge.transaction_date, charge.source_type, charge.currency.toUpperCase()];
      const id = key.join('|');
      let group = groups.get(id);
      if (!group) {
        group = { key, totals: NO_TOTALS() };
        groups.set(id, group);
      }
      const t = group.totals;
      t.charges += 1;
      t[result.status] += 1;
      if (figures.state === 'voided') t.voided = t.voided.plus(bookedAmount(result));
      else t.gross = t.gross.plus(bookedAmount(result));
      const reported = figures.figures;
      if (reported) {
        t.settled = t.settled.plus(reported.settled ?? ZERO);
        t.mdr = t.mdr.plus(reported.mdr);
        t.vat = t.vat.plus(reported.vat);
        t.net = t.net.plus(reported.net ?? ZERO);
      } else if (isFeesPending(figures.state)) {
        t.feesPending += 1;
        if (estimate) {
          t.mdrEstimate = t.mdrEstimate.plus(estimate.mdr);
          t.vatEstimate = t.vatEstimate.plus(estimate.vat);
        }
      }
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
          voided_amount: formatMoney(t.voided),
          fees_pending: t.feesPending,
          mdr_estimate: formatMoney(t.mdrEstimate),
          vat_estimate: formatMoney(t.vatEstimate),
        })),
  };
}
