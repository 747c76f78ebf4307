import type { GatewayCharge, GatewayRefund, GatewaySettlement } from '../gateway/charge.ts';
import type { LedgerEntry } from '../ingest/ledger.table.ts';
import { isAboveZero, type Money } from '../money.ts';
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
 * Expected fees (docs/reference.md §4): each of `mdr`, `vat`,
 * `net_amount` from the ledger row when given, otherwise from the charge's fee rule on `settled`:
 * the amount, or the captured amount of a partial capture, parsed by the caller, which compares
 * it too; for a non-THB charge, the gateway's `settlement_info.baht_amount`, since fees are
 * charged in baht. VAT and net follow the *expected* MDR, which is the ledger's own when it gives
 * one (v2: v1 took the rule's MDR there and reported a ledger that books its own MDR as wrong
 * twice over).
 */
export function expectedFees(charge: LedgerEntry, settled: Money, gateway: GatewayCharge, schedule: FeeSchedule | undefined): ExpectedCharge {
  const rule = schedule && chargeRule(charge, gateway, schedule);
  const base = charge.currency.toUpperCase() === 'THB' ? settled : (gateway.settlement?.bahtAmount ?? null);
  if (!rule || !schedule) return completeFees(charge, base, undefined);
  // The rule's MDR only where the ledger gives none: this runs for every charge.
  const mdr = charge.mdr === null && base ? ruleMdr(rule, base) : null;
  return completeFees(charge, base, { vatRate: vatRateOn(schedule, charge.transaction_date), mdr });
}

/**
 * What a refund gives back a share of under `pro_rata`: the charge's MDR and the amount it was
 * charged on. The MDR is KBank's own `orig_mdr` when it reports the charge's figures (so a
 * fixed fee, a minimum or a maximum is reversed in proportion, as KBank does), else the
 * charge's expected MDR; `null` when neither is known.
 */
export interface ChargeMdr {
  readonly mdr: Money | null;
  /** The captured amount of a partial capture, else the charge's amount; in the charge's currency. */
  readonly amount: Money;
}

/** The {@link ChargeMdr} of a charge whose expected MDR (from the books or the fee rule) is `expected`. */
export function chargeMdr(gateway: GatewayCharge, amount: Money, expected: Money | null): ChargeMdr {
  const settlement = gateway.settlement;
  const reported = settlement && figuresReported(settlement) ? settlement.origMdr : null;
  return { mdr: reported ?? expected, amount };
}

/**
 * The fee schedule's `refund_fee_reversal`: the fees a matched refund is expected to return. Under
 * `none` only the ledger refund row's own figures; under `pro_rata` the missing ones in proportion
 * to the charge's: MDR = round_half_up(charge MDR × refund amount ÷ charge amount, 2), VAT at the
 * rate of the charge's date (the fees reversed are the ones charged then), net = refund − MDR −
 * VAT. The guide's 11 THB refund of a charge with MDR 0.28 returns 0.28 / 0.02 / 10.70.
 */
export function expectedRefundFees(input: {
  row: LedgerEntry;
  refund: GatewayRefund;
  /** The charge's `transaction_date`. */
  chargeDate: string;
  /** Worked out by the caller once per charge, and only for a charge with refunds to check. */
  charge: ChargeMdr;
  schedule: FeeSchedule | undefined;
}): ExpectedCharge {
  const { row, refund, charge, schedule } = input;
  // Without pro_rata only the row's own figures count: its amount is not needed (nor parsed).
  if (schedule?.refundFeeReversal !== 'pro_rata') return completeFees(row, null, undefined);
  const amount = ledgerMoney(row.amount)!;
  const base = row.currency.toUpperCase() === 'THB' ? amount : refund.bahtAmount;
  const mdr = row.mdr === null && charge.mdr && isAboveZero(charge.amount) ? proRataMdr(charge.mdr, amount, charge.amount) : null;
  return completeFees(row, base, { vatRate: vatRateOn(schedule, input.chargeDate), mdr });
}

/**
 * The ledger row's figures, and the missing ones worked out: MDR as `computed.mdr` (null where
 * the row gives its own), VAT = round_half_up(expected MDR × vat_rate, 2), net = base − expected
 * MDR − expected VAT.
 */
function completeFees(row: LedgerEntry, base: Money | null, computed: { vatRate: Money | undefined; mdr: Money | null } | undefined): ExpectedCharge {
  const ledger = { mdr: ledgerMoney(row.mdr), vat: ledgerMoney(row.vat), net: ledgerMoney(row.net_amount) };
  if (!computed) return ledger;
  const mdr = ledger.mdr ?? computed.mdr;
  const vat = ledger.vat ?? (mdr && computed.vatRate ? vatOn(mdr, computed.vatRate) : null);
  if (ledger.net !== null || !base || !mdr || !vat) return { mdr, vat, net: ledger.net };
  return { mdr, vat, net: base.minus(mdr).minus(vat), netBase: base };
}

/**
 * Whether KBank reports the fee figures: any of `orig_amount`, `orig_mdr`, `orig_vat`,
 * `orig_net_amount` is not zero, or is sent but unreadable (reported, and wrong: a finding, not
 * "not yet").
 */
export function figuresReported(settlement: GatewaySettlement): boolean {
  if (settlement.unreadable && FEE_FIGURES.some((field) => settlement.unreadable![field] !== undefined)) return true;
  const { origAmount, origMdr, origVat, origNetAmount } = settlement;
  return !isNoFigure(origAmount) || !isNoFigure(origMdr) || !isNoFigure(origVat) || !isNoFigure(origNetAmount);
}

function isNoFigure(value: Money | null): boolean {
  return value === null || value.isZero();
}

/** KBank's fee figures of a settlement, by their field names. */
export const FEE_FIGURES = ['orig_amount', 'orig_mdr', 'orig_vat', 'orig_net_amount'] as const;
