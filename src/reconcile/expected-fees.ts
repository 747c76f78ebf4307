import type { GatewayCharge, GatewayRefund } from '../gateway/charge.ts';
import type { LedgerEntry } from '../ingest/ledger.table.ts';
import type { Money } from '../money.ts';
import { ledgerMoney } from './compare.ts';
import { findRule, proRataMdr, ruleMdr, vatOn, vatRateOn, type FeeRule, type FeeSchedule } from './fee-schedule.ts';

/** Each fee as the ledger or the fee schedule expects it; `null` where neither says (check skipped). */
export interface ExpectedCharge {
  mdr: Money | null;
  vat: Money | null;
  net: Money | null;
  /** Set when `net` was worked out as `netBase` − `mdr` − `vat` rather than given by the ledger. */
  netBase?: Money;
}

/** The fee rule of a charge: matched on the ledger row, the gateway's card and the charge's date. */
export function chargeRule(charge: LedgerEntry, gateway: GatewayCharge, schedule: FeeSchedule): FeeRule | undefined {
  return findRule(schedule, {
    sourceType: charge.source_type,
    brand: gateway.source?.brand,
    issuerBank: gateway.source?.issuerBank,
    mid: charge.mid,
    currency: charge.currency,
    ipanMode: charge.ipan_mode,
    term: charge.term,
    date: charge.transaction_date,
  });
}

/**
 * Contract §4, expected fees: each of `mdr`, `vat`, `net_amount` from the ledger row when given,
 * otherwise from the charge's fee rule on the ledger amount (`amount`, parsed by the caller, which
 * compares it too; for a non-THB charge, on the gateway's `settlement_info.baht_amount`, since
 * fees are charged in baht). VAT and net follow
 * the *expected* MDR, which is the ledger's own when it gives one (v2: v1 took the rule's MDR
 * there and reported a ledger that books its own MDR as wrong twice over).
 */
export function expectedFees(charge: LedgerEntry, amount: Money, gateway: GatewayCharge, schedule: FeeSchedule | undefined): ExpectedCharge {
  const rule = schedule && chargeRule(charge, gateway, schedule);
  const base = charge.currency.toUpperCase() === 'THB' ? amount : (gateway.settlement?.bahtAmount ?? null);
  return completeFees(charge, base, rule && schedule ? { vatRate: vatRateOn(schedule, charge.transaction_date), rule, mdr: ruleMdr } : undefined);
}

/**
 * Contract §3.3 `refund_fee_reversal`: the fees a matched refund is expected to return. Under
 * `none` only the ledger refund row's own figures; under `pro_rata` the missing ones from the
 * charge's rule, MDR = round_half_up(refund amount × rate, 2) (no fixed fee, no bounds: the
 * guide's 11 THB refund returns 0.28 / 0.02 / 10.70 at 2.5 %), VAT at the rate of the charge's
 * date (the fees reversed are the ones charged then).
 */
export function expectedRefundFees(input: {
  row: LedgerEntry;
  refund: GatewayRefund;
  charge: LedgerEntry;
  gateway: GatewayCharge;
  schedule: FeeSchedule | undefined;
}): ExpectedCharge {
  const { row, refund, charge, gateway, schedule } = input;
  // A refund that failed (`OBAVL`) reversed no fee: only the ledger's own figures apply to it.
  const rule = schedule?.refundFeeReversal === 'pro_rata' && !refund.errorCode ? chargeRule(charge, gateway, schedule) : undefined;
  // Without a rule only the row's own figures count: its amount is not needed (nor parsed).
  if (!rule || !schedule) return completeFees(row, null, undefined);
  const base = row.currency.toUpperCase() === 'THB' ? ledgerMoney(row.amount) : refund.bahtAmount;
  return completeFees(row, base, { vatRate: vatRateOn(schedule, charge.transaction_date), rule, mdr: proRataMdr });
}

/**
 * The ledger row's figures, and the missing ones from the rule: MDR from `computed.mdr` (a
 * function of the rule, not a closure over it: this runs for every charge),
 * VAT = round_half_up(expected MDR × vat_rate, 2), net = base − expected MDR − expected VAT.
 */
function completeFees(
  row: LedgerEntry,
  base: Money | null,
  computed: { vatRate: Money | undefined; rule: FeeRule; mdr: (rule: FeeRule, base: Money) => Money } | undefined,
): ExpectedCharge {
  const ledger = { mdr: ledgerMoney(row.mdr), vat: ledgerMoney(row.vat), net: ledgerMoney(row.net_amount) };
  if (!computed) return ledger;
  const mdr = ledger.mdr ?? (base ? computed.mdr(computed.rule, base) : null);
  const vat = ledger.vat ?? (mdr && computed.vatRate ? vatOn(mdr, computed.vatRate) : null);
  if (ledger.net !== null || !base || !mdr || !vat) return { mdr, vat, net: ledger.net };
  return { mdr, vat, net: base.minus(mdr).minus(vat), netBase: base };
}
