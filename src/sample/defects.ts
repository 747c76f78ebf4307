import { shiftDate } from '../dates.ts';
import { money } from '../money.ts';
import type { MismatchCode } from '../reconcile/mismatch.ts';
import type { SampleCharge } from './charge-builder.ts';

/** What a generated charge looks like before it is broken (or not). */
export interface ChargeShape {
  qr: boolean;
  refunds: number;
  /** One refund of the whole amount. */
  fullRefund: boolean;
  voided: boolean;
  installment: boolean;
  /** Card brand (`visa`, `mastercard`, `jcb`); none for other sources. */
  brand?: string;
  /** Days from the charge's date to the day the sample is reconciled as of. */
  age: number;
}

/**
 * One way to break a clean charge, and the codes that breakage must produce. The sample
 * generator sprinkles these over its data, so the demo shows every kind of finding and the
 * 10,000-charge test knows the right answer for each charge.
 */
export interface Defect {
  readonly name: string;
  readonly codes: readonly MismatchCode[];
  /** Which charges it can be applied to. */
  fits(shape: ChargeShape): boolean;
  apply(charge: SampleCharge): void;
}

type Body = Record<string, unknown>;
const settlement = (c: SampleCharge) => c.gateway.settlement_info as Body;
const refunds = (c: SampleCharge) => c.gateway.refund_info as Body[];
const half = (amount: string | undefined) => money(amount!).times('0.5').toDecimalPlaces(2).toFixed(2);
const plus = (value: unknown, delta: string) => money(String(value)).plus(delta).toFixed(4);
const card = (s: ChargeShape) => !s.qr && !s.voided;
const plainCard = (s: ChargeShape) => card(s) && s.refunds === 0 && !s.installment;
const withRefund = (s: ChargeShape) => card(s) && s.refunds > 0;
/**
 * A refund the gateway does not show is `REFUND_PENDING` until RECON_REFUND_GRACE_DAYS (default
 * 3) after its booking; sample refunds are booked on the charge's date.
 */
const pastRefundGrace = (s: ChargeShape) => s.age >= 3;

export const DEFECTS: readonly Defect[] = [
  { name: 'missing', codes: ['MISSING_AT_GATEWAY'], fits: () => true, apply: (c) => void (c.gateway.__missing = true) },
  { name: 'amount', codes: ['AMOUNT_MISMATCH'], fits: (s) => !s.voided && s.refunds === 0, apply: (c) => void (c.gateway.amount = plus(c.gateway.amount, '1.00')) },
  {
    name: 'currency',
    codes: ['CURRENCY_MISMATCH'],
    fits: (s) => !s.voided && s.refunds === 0,
    apply: (c) => void Object.assign(c.gateway, { currency: 'USD', amount: '30.00' }),
  },
  { name: 'state', codes: ['STATE_MISMATCH'], fits: plainCard, apply: (c) => void (c.gateway.transaction_state = 'Voided') },
  {
    name: 'pending',
    codes: ['SETTLEMENT_PENDING'],
    fits: (s) => !s.voided && s.refunds === 0,
    apply: (c) => void Object.assign(c.gateway, { transaction_state: 'Captured', settlement_info: null }),
  },
  {
    name: 'date',
    codes: ['DATE_MISMATCH'],
    fits: () => true,
    // A ledger that books in UTC: the charge was made at 01:30 Bangkok time, the day after.
    apply: (c) => {
      const date = c.ledger[0]!.transaction_date!;
      const next = shiftDate(date, 1);
      c.gateway.created = `${next.replaceAll('-', '')}013000000`;
    },
  },
  { name: 'settle-amount', codes: ['SETTLE_AMOUNT_MISMATCH'], fits: (s) => card(s) && s.refunds === 0, apply: (c) => void (settlement(c).settle_amount = plus(settlement(c).settle_amount, '-10.00')) },
  {
    name: 'fees',
    codes: ['MDR_MISMATCH', 'NET_MISMATCH', 'VAT_MISMATCH'],
    fits: plainCard,
    apply: (c) => {
      const s = settlement(c);
      const amount = money(String(s.orig_amount));
      const mdr = amount.times('0.03').toDecimalPlaces(2);
      const vat = mdr.times('0.07').toDecimalPlaces(2);
      Object.assign(s, { orig_mdr: mdr.toFixed(4), orig_vat: vat.toFixed(4), orig_net_amount: amount.minus(mdr).minus(vat).toFixed(4) });
    },
  },
  {
    name: 'inconsistent',
    codes: ['NET_MISMATCH', 'SETTLEMENT_INCONSISTENT'],
    fits: plainCard,
    apply: (c) => void (settlement(c).orig_net_amount = plus(settlement(c).orig_net_amount, '0.01')),
  },
  { name: 'refund-missing', codes: ['REFUND_MISSING_AT_GATEWAY'], fits: (s) => withRefund(s) && pastRefundGrace(s), apply: (c) => void refunds(c).splice(-1, 1) },
  {
    name: 'refund-not-in-ledger',
    codes: ['REFUND_NOT_IN_LEDGER', 'STATE_MISMATCH'],
    fits: (s) => card(s) && s.refunds === 1,
    apply: (c) => void c.ledger.splice(1, 1),
  },
  { name: 'refund-failed', codes: ['REFUND_FAILED'], fits: withRefund, apply: (c) => void Object.assign(refunds(c)[0]!, { error_code: 'OBAVL', error_message: 'Insufficient Balance' }) },
  { name: 'refund-amount', codes: ['REFUND_AMOUNT_MISMATCH'], fits: withRefund, apply: (c) => void (refunds(c)[0]!.refund_amount = plus(refunds(c)[0]!.refund_amount, '0.50')) },
  {
    name: 'refund-fees',
    codes: ['REFUND_MDR_MISMATCH'],
    fits: withRefund,
    apply: (c) => {
      const g = refunds(c)[0]!;
      // The ledger books the refund's fees itself; the MDR it books is one baht off.
      Object.assign(c.ledger[1]!, { mdr: plus(g.orig_mdr, '1.00').slice(0, -2), vat: money(String(g.orig_vat)).toFixed(2), net_amount: money(String(g.orig_net_amount)).toFixed(2) });
    },
  },
  {
    name: 'duplicate',
    codes: ['DUPLICATE_IN_LEDGER'],
    fits: () => true,
    apply: (c) => void c.ledger.splice(1, 0, { ...c.ledger[0]!, entry_id: `${c.ledger[0]!.entry_id}-DUP` }),
  },
  {
    name: 'fees-not-reported',
    codes: ['FEES_NOT_REPORTED'],
    fits: plainCard,
    // Settled, but KBank has not reported the fees yet (the guide's Refund sample has all zeros).
    apply: (c) => void Object.assign(settlement(c), { orig_amount: '0.0000', orig_mdr: '0.0000', orig_vat: '0.0000', orig_net_amount: '0.0000' }),
  },
  {
    name: 'qr-partial-refund',
    codes: ['REFUND_UNVERIFIABLE'],
    fits: (s) => s.qr && !s.voided && s.refunds === 0 && pastRefundGrace(s),
    // The QR inquiry shows no refunds and no partial state: the books are right, the API cannot tell.
    apply: (c) => void c.ledger.push({ ...c.ledger[0]!, entry_id: `${c.ledger[0]!.entry_id}-R1`, entry_type: 'refund', amount: half(c.ledger[0]!.amount) }),
  },
  {
    name: 'refund-over-amount',
    codes: ['REFUND_AMOUNT_MISMATCH', 'REFUND_EXCEEDS_AMOUNT'],
    fits: (s) => card(s) && s.fullRefund,
    // The clerk books the full refund one satang over the charge.
    apply: (c) => void (c.ledger[1]!.amount = money(c.ledger[1]!.amount!).plus('0.01').toFixed(2)),
  },
  {
    name: 'convfee',
    codes: ['CONVFEE_MISMATCH'],
    fits: (s) => plainCard(s) && (s.brand === 'visa' || s.brand === 'mastercard'),
    // The customer paid a 2.50 convenience fee (VAT 0.18, the guide's figures); the ledger books 2.00.
    apply: (c) => {
      const amount = money(String(c.gateway.amount));
      c.gateway.convfee = { convfee_amount: '2.5000', convfee_vat_amount: '0.1800', net_amount: amount.plus('2.68').toFixed(4) };
      Object.assign(c.ledger[0]!, { convfee_amount: '2.00', convfee_vat: '0.18' });
    },
  },
  // A sandbox answer for books reconciled with a test key is fine; a live one is about other money.
  { name: 'livemode', codes: ['LIVEMODE_MISMATCH'], fits: () => true, apply: (c) => void (c.gateway.livemode = true) },
  {
    name: 'orphan',
    codes: ['ORPHAN_LEDGER_ENTRY'],
    fits: (s) => withRefund(s) && s.refunds === 1,
    // Only the refund row is in the ledger, and the gateway does not know its charge either.
    apply: (c) => {
      c.ledger.splice(0, 1);
      c.gateway.__missing = true;
    },
  },
  {
    name: 'refund-pending',
    codes: ['REFUND_PENDING'],
    // Still within the grace days if the run is as of a day later than the sample assumed.
    fits: (s) => plainCard(s) && s.age <= 1,
    // A refund booked on the charge's day (so no other day's run covers the charge): the gateway does not list it yet.
    apply: (c) => void c.ledger.push({ ...c.ledger[0]!, entry_id: `${c.ledger[0]!.entry_id}-R1`, entry_type: 'refund', amount: half(c.ledger[0]!.amount) }),
  },
  { name: 'plan-unknown', codes: ['INSTALLMENT_PLAN_UNKNOWN'], fits: (s) => s.installment && !s.voided, apply: (c) => void (c.ledger[0]!.model_no = '000001') },
  { name: 'term-invalid', codes: ['INSTALLMENT_TERM_INVALID'], fits: (s) => s.installment && !s.voided, apply: (c) => void (c.ledger[0]!.term = '7') },
  { name: 'ipan-mode', codes: ['IPAN_MODE_MISMATCH'], fits: (s) => s.installment && !s.voided, apply: (c) => void (c.ledger[0]!.ipan_mode = '03') },
];

/** Models in the sample plan report that exist only to fail one check each. */
export const PLAN_DEFECTS: readonly Defect[] = [
  { name: 'plan-inactive', codes: ['INSTALLMENT_PLAN_INACTIVE'], fits: (s) => s.installment && !s.voided, apply: (c) => void (c.ledger[0]!.model_no = '888888') },
  { name: 'price-out-of-range', codes: ['INSTALLMENT_PRICE_OUT_OF_RANGE'], fits: (s) => s.installment && !s.voided, apply: (c) => void (c.ledger[0]!.model_no = '777777') },
];
