import { canonicalState, dateOf17, type GatewayCharge, type GatewayRefund } from '../gateway/charge.ts';
import type { LedgerEntry } from '../ingest/ledger.table.ts';
import { ZERO, type Money } from '../money.ts';
import { expectedFees } from '../reconcile/expected-fees.ts';
import type { FeeSchedule } from '../reconcile/fee-schedule.ts';
import { checkRefunds, refundTotal } from '../reconcile/refund-check.ts';
import type { ChargeResult } from '../reconcile/charge-result.ts';
import { isQrFamily } from '../vocabulary.ts';

/**
 * Whether KBank's fee figures for a charge are known (docs/reference.md §5.3):
 * - `reported`: settled, with its MDR and VAT;
 * - `pending`: not settled yet, or settled without its figures: they will come;
 * - `not_reported`: the QR family, whose inquiry never carries fees;
 * - `unverified`: no answer that can be used (no definite answer, or one from the other environment);
 * - `voided`: voided, so no fee (left out of the gross);
 * - `none`: KBank charged nothing: it does not know the charge, or the payment failed.
 * The three middle ones are the charges whose fees are *pending* in the totals: unknown, never zero.
 */
export type FeesState = 'reported' | 'pending' | 'not_reported' | 'unverified' | 'voided' | 'none';

/** A charge's fees are not known yet (summary.csv's `fees_pending`). */
export function isFeesPending(state: FeesState): boolean {
  return state === 'pending' || state === 'not_reported' || state === 'unverified';
}

/** KBank's figures of a `reported` charge, in THB. */
export interface ReportedFigures {
  readonly settled: Money | null;
  readonly mdr: Money;
  readonly vat: Money;
  readonly net: Money | null;
}

export type ChargeFigures =
  | { readonly state: 'reported'; readonly figures: ReportedFigures }
  | { readonly state: Exclude<FeesState, 'reported'>; readonly figures?: undefined };

const FAILED_STATES = new Set(['Declined', 'Reversed', 'Initialize', 'Pre-Authorized']);

/** What KBank's answer says of the charge's fees, read once for the summary, the export and the VAT schedule. */
export function chargeFigures(result: ChargeResult): ChargeFigures {
  const gateway = result.gateway;
  const codes = result.mismatches;
  if (!gateway) {
    if (result.case.voids.length > 0 && !result.case.orphan) return { state: 'voided' };
    const unusable = result.status === 'unverified' || codes.some((m) => m.code === 'LIVEMODE_MISMATCH');
    return { state: unusable ? 'unverified' : 'none' };
  }
  const state = canonicalState(gateway.transactionState);
  if (state === 'Voided') return { state: 'voided' };
  if (gateway.status.toLowerCase() === 'fail' || FAILED_STATES.has(state)) return { state: 'none' };
  if (isQrFamily(result.case.charge.source_type)) return { state: 'not_reported' };
  const s = gateway.settlement;
  if (!s || s.origMdr === null || s.origVat === null || codes.some((m) => m.code === 'FEES_NOT_REPORTED' || m.code === 'SETTLEMENT_PENDING')) {
    return { state: 'pending' };
  }
  // Zeros where an amount was settled are figures not reported yet (guide §6.1.5), whether or
  // not the rules compared them (they do not when the currencies differ).
  if ((s.origAmount === null || s.origAmount.isZero()) && s.origMdr.isZero() && s.origVat.isZero()) return { state: 'pending' };
  const thb = gateway.currency === 'THB';
  return { state: 'reported', figures: { settled: thb ? (s.settleAmount ?? s.bahtAmount) : s.bahtAmount, mdr: s.origMdr, vat: s.origVat, net: s.origNetAmount } };
}

/**
 * The fees the ledger or the fee schedule expects of a charge whose figures KBank has not
 * reported (docs/reference.md §4.7): an estimate, shown as one. Only when KBank answered
 * (its card brand and, for another currency, its amount in baht pick the rule).
 */
export function feeEstimate(result: ChargeResult, state: FeesState, schedule: FeeSchedule | undefined): { mdr: Money; vat: Money } | undefined {
  const { gateway } = result;
  if (!gateway || result.case.orphan || (state !== 'pending' && state !== 'not_reported')) return undefined;
  const { charge } = result.case;
  const expected = expectedFees(charge, gateway.amount, gateway, schedule);
  return expected.mdr && expected.vat ? { mdr: expected.mdr, vat: expected.vat } : undefined;
}

/**
 * A refund whose fees KBank gave back, as the VAT schedule dates it: by its `refund_date`
 * (Bangkok), else by the ledger refund matched to it, else by the day a run first saw it (worked
 * out when the schedule is read). Amounts are text, as stored (JSON).
 */
export interface RefundFigures {
  /** `refund_id`, else `#n`, its place in `refund_info` (from 1): the same refund in every answer. */
  readonly key: string;
  /** The refund in the charge's currency, and in THB (its `baht_amount`; the amount itself for a THB charge). */
  readonly amount: string | null;
  readonly thb: string | null;
  /** What KBank gave back, `null` when it does not say. */
  readonly mdr: string | null;
  readonly vat: string | null;
  readonly refund_date: string | null;
  readonly ledger_entry_date: string | null;
}

/** The successful refunds of a card-family charge; `null` when there is none. */
export function refundFigures(result: ChargeResult): RefundFigures[] | null {
  const gateway = result.gateway;
  if (!gateway || gateway.refunds.length === 0) return null;
  const matched = gateway.refunds.some((r) => !r.errorCode && !r.refundDate) ? ledgerMatches(result, gateway) : new Map<GatewayRefund, LedgerEntry>();
  const thb = gateway.currency === 'THB';
  const figures = gateway.refunds.flatMap((refund, i): RefundFigures[] => {
    if (refund.errorCode) return []; // a refund that failed gave nothing back
    return [{
      key: refund.refundId ?? `#${i + 1}`,
      amount: text(refund.amount),
      thb: text(thb ? (refund.amount ?? refund.bahtAmount) : refund.bahtAmount),
      mdr: text(refund.origMdr),
      vat: text(refund.origVat),
      refund_date: refund.refundDate ? dateOf17(refund.refundDate) : null,
      ledger_entry_date: matched.get(refund)?.entry_date ?? null,
    }];
  });
  return figures.length ? figures : null;
}

/**
 * Each gateway refund with the ledger refund row reconciliation matches it to, by the very rule
 * that matches them (docs/reference.md §4); its findings are not wanted here.
 */
function ledgerMatches(result: ChargeResult, gateway: GatewayCharge): Map<GatewayRefund, LedgerEntry> {
  const matched = new Map<GatewayRefund, LedgerEntry>();
  const rows = result.case.refunds;
  if (rows.length === 0) return matched;
  checkRefunds([], {
    ledgerRefunds: rows,
    ledgerTotal: refundTotal(rows),
    gatewayRefunds: gateway.refunds,
    chargeEntryId: result.case.charge.entry_id,
    tolerance: ZERO,
    grace: { asOf: result.case.charge.transaction_date, days: 0 },
    expectedFees: (row, refund) => {
      matched.set(refund, row);
      return { mdr: null, vat: null, net: null };
    },
  });
  return matched;
}

const text = (value: Money | null | undefined) => (value ? value.toFixed(4) : null);
