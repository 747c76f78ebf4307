import { LEDGER_FIELDS, type LedgerField } from '../ingest/ledger-columns.ts';
import { money, toSatang, type Money } from '../money.ts';
import { isQrFamily, type SourceType } from '../vocabulary.ts';

/** The ledger's columns a sample writes, in the ledger's order: all but the captured amount, which no sample has. */
export type LedgerColumn = Exclude<LedgerField, 'captured_amount'>;
export const LEDGER_COLUMNS = LEDGER_FIELDS.filter((field): field is LedgerColumn => field !== 'captured_amount');
export type LedgerRow = Partial<Record<LedgerColumn, string>>;

/** A raw inquiry answer as the gateway sends it (guide §6.1.2 / §6.4.1 shape). */
export type GatewayBody = Record<string, unknown>;

export interface SampleCharge {
  /** The charge row first, then its refund and void rows. */
  ledger: LedgerRow[];
  gateway: GatewayBody;
}

/**
 * One refund booked on both sides. A plain string is a refund of that amount, booked on the
 * charge's date with the gateway's `refund_id`.
 */
export type RefundSpec =
  | string
  | {
      amount: string;
      /** The ledger's booking date (default: the charge's date). */
      entryDate?: string;
      /** The ledger row carries no `refund_id`, so it is matched by amount. */
      withoutRefundId?: boolean;
      /** The gateway first lists an attempt of the same amount that failed with this code (e.g. `OBAVL`). */
      failedFirst?: string;
      /** The ledger row books the refund's own `mdr`, `vat` and `net_amount`. */
      ledgerFees?: boolean;
    };

export interface ChargeSpec {
  /** Unique within the data set; ids are derived from it. */
  key: string;
  date: string;
  amount: string;
  sourceType?: SourceType;
  brand?: string;
  /** `source.issuer_bank` (default `KASIKORNBANK`). */
  issuerBank?: string;
  currency?: string;
  /** MDR rate the gateway applies (default 0.025) and VAT rate (default 0.07). */
  mdrRate?: string;
  vatRate?: string;
  /** The charge's MDR as the gateway reports it, when a fee rule is more than a rate (fixed, min, max). */
  mdr?: string;
  /**
   * Refunds booked on both sides, in order. A QR-family answer has no `refund_info` (guide
   * §6.4.1): a full refund shows only as `Refunded`, a partial one not at all.
   */
  refunds?: RefundSpec[];
  voided?: boolean;
  installment?: { planId: string; ipanMode: string; term: number; supplierNo: string; modelNo: string; productType: string };
  /** A convenience fee and its VAT, paid on top of the amount, booked on both sides. */
  convfee?: { amount: string; vat: string };
  /** The ledger's charge row books `mdr` only, or all three fees (default: none). */
  ledgerFees?: 'mdr' | 'all';
  /** Settled, but `orig_amount`, `orig_mdr`, `orig_vat` and `orig_net_amount` are all zero (guide §6.1.5). */
  zeroFigures?: boolean;
  /** `refund_info` entries that are no refund (`{}`, `""`), appended after the real ones. */
  emptyRefunds?: unknown[];
  /** `livemode` as the gateway sends it (default `false`: the tests' keys are `skey_test_`). */
  livemode?: boolean | string;
}

const f4 = (value: Money) => value.toFixed(4);
const compactDate = (iso: string) => iso.replaceAll('-', '');

type Refund = Exclude<RefundSpec, string>;
const refundOf = (spec: RefundSpec): Refund => (typeof spec === 'string' ? { amount: spec } : spec);

/**
 * A charge that reconciles cleanly: the ledger rows and the gateway's answer agree on
 * everything. Tests and the sample generator start here and then break one thing.
 */
export function buildCharge(spec: ChargeSpec): SampleCharge {
  const sourceType = spec.sourceType ?? 'card';
  const qr = isQrFamily(sourceType);
  const currency = spec.currency ?? 'THB';
  const amount = money(spec.amount);
  const chargeId = `chrg_test_${spec.key}`;
  const reference = `ORD-${spec.key}`;
  const orderId = `ordr_test_${spec.key}`;
  const refunds = (spec.refunds ?? []).map(refundOf);
  const refunded = refunds.reduce((a, b) => a.plus(b.amount), money(0));
  const fullyRefunded = refunded.greaterThanOrEqualTo(amount);
  const state = spec.voided
    ? qr ? 'VOID' : 'Voided'
    : refunded.isZero() ? 'Settled' : fullyRefunded ? 'Refunded' : qr ? 'Settled' : 'Partial Refund';

  const common: LedgerRow = {
    reference_order: reference,
    charge_id: chargeId,
    transaction_date: spec.date,
    source_type: sourceType,
    currency,
    ...(qr ? { order_id: orderId } : {}),
  };
  const fees = gatewayFees(amount, spec);
  const net = amount.minus(fees.mdr).minus(fees.vat);
  const ledger: LedgerRow[] = [
    {
      ...common,
      entry_id: `E-${spec.key}`,
      entry_type: 'charge',
      amount: amount.toFixed(2),
      ...(spec.ledgerFees ? { mdr: fees.mdr.toFixed(2) } : {}),
      ...(spec.ledgerFees === 'all' ? { vat: fees.vat.toFixed(2), net_amount: net.toFixed(2) } : {}),
      ...(spec.convfee ? { convfee_amount: money(spec.convfee.amount).toFixed(2), convfee_vat: money(spec.convfee.vat).toFixed(2) } : {}),
      ...(spec.installment
        ? {
            plan_id: spec.installment.planId,
            ipan_mode: spec.installment.ipanMode,
            term: String(spec.installment.term),
            supplier_no: spec.installment.supplierNo,
            model_no: spec.installment.modelNo,
            product_type: spec.installment.productType,
          }
        : {}),
    },
  ];
  const refundInfo: Record<string, unknown>[] = [];
  refunds.forEach((refund, i) => {
    const refundAmount = money(refund.amount);
    const refundId = `refd_test_${spec.key}_${i + 1}`;
    const booked = refund.entryDate ?? spec.date;
    const entry = gatewayRefund(refundAmount, spec, { refundId, date: booked, sequence: i });
    ledger.push({
      ...common,
      entry_id: `E-${spec.key}-R${i + 1}`,
      entry_type: 'refund',
      entry_date: booked,
      amount: refundAmount.toFixed(2),
      ...(qr || refund.withoutRefundId ? {} : { refund_id: refundId }),
      ...(refund.ledgerFees ? { mdr: money(entry.orig_mdr).toFixed(2), vat: money(entry.orig_vat).toFixed(2), net_amount: money(entry.orig_net_amount).toFixed(2) } : {}),
    });
    // The first attempt failed (e.g. OBAVL: not enough balance) and the merchant made it again.
    if (refund.failedFirst) refundInfo.push(gatewayRefund(refundAmount, spec, { refundId, date: booked, sequence: i, failedWith: refund.failedFirst }));
    refundInfo.push(entry);
  });
  if (spec.voided) ledger.push({ ...common, entry_id: `E-${spec.key}-V`, entry_type: 'void', amount: amount.toFixed(2) });
  const listed = qr ? [] : [...refundInfo, ...(spec.emptyRefunds ?? [])];

  const figures = spec.zeroFigures
    ? { orig_amount: '0.0000', orig_mdr: '0.0000', orig_vat: '0.0000', orig_net_amount: '0.0000' }
    : { orig_amount: f4(amount), orig_mdr: f4(fees.mdr), orig_vat: f4(fees.vat), orig_net_amount: f4(net) };
  const gateway: GatewayBody = {
    id: chargeId,
    object: 'charge',
    amount: Number(amount.toFixed(2)),
    currency,
    transaction_state: state,
    status: 'success',
    source: qr
      ? { id: `qr_test_${spec.key}`, object: 'qr', brand: sourceType === 'wechat' ? 'WeChat' : 'ThaiQR' }
      : { id: `card_test_${spec.key}`, object: sourceType === 'card' ? 'card' : 'redirect', brand: spec.brand ?? (sourceType === 'card' ? 'visa' : sourceType === 'alipay' ? 'Alipay' : 'UnionPay'), card_masking: '441770*****5830', issuer_bank: spec.issuerBank ?? 'KASIKORNBANK' },
    created: `${compactDate(spec.date)}101500000`,
    reference_order: reference,
    ...(qr ? { order_id: orderId } : {}),
    approval_code: '000941',
    failure_code: null,
    failure_message: null,
    livemode: spec.livemode ?? false,
    settlement_info:
      qr || spec.voided
        ? null
        : { settle_amount: f4(amount), baht_amount: f4(amount), exchange_rate: '1.0000', ...figures },
    refund_info: listed.length ? listed : null,
    ...(spec.convfee
      ? {
          convfee: {
            convfee_amount: f4(money(spec.convfee.amount)),
            convfee_vat_amount: f4(money(spec.convfee.vat)),
            net_amount: f4(amount.plus(spec.convfee.amount).plus(spec.convfee.vat)),
          },
        }
      : {}),
  };
  return { ledger, gateway };
}

/** Where and when a refund happened at the gateway, for {@link gatewayRefund}. */
export interface RefundAt {
  refundId: string;
  /** The refund's day (`YYYY-MM-DD`). */
  date: string;
  /** Orders refunds of one charge within a day (the last digits of `refund_date`). */
  sequence: number;
  /** The attempt failed with this code (e.g. `OBAVL`): listed under `<refundId>_failed`, an hour earlier. */
  failedWith?: string;
}

/**
 * One `refund_info` entry as the gateway lists it (guide §6.1.2), its fee figures at the charge's
 * rates (the spec's own `mdr` is the charge's, not the refund's).
 */
export function gatewayRefund(amount: Money, rates: Pick<ChargeSpec, 'mdrRate' | 'vatRate'>, at: RefundAt) {
  const fees = gatewayFees(amount, { mdrRate: rates.mdrRate, vatRate: rates.vatRate });
  const suffix = String(at.sequence).padStart(3, '0');
  return {
    refund_amount: f4(amount),
    baht_amount: f4(amount),
    exchange_rate: '1.0000',
    orig_amount: f4(amount),
    orig_mdr: f4(fees.mdr),
    orig_vat: f4(fees.vat),
    orig_net_amount: f4(amount.minus(fees.mdr).minus(fees.vat)),
    ...(at.failedWith
      ? { refund_id: `${at.refundId}_failed`, error_code: at.failedWith, error_message: 'Insufficient Balance', refund_date: `${compactDate(at.date)}170000${suffix}` }
      : { refund_id: at.refundId, error_code: null, error_message: null, refund_date: `${compactDate(at.date)}180000${suffix}` }),
  };
}

/** The gateway's MDR (the spec's own figure, else amount × rate) and its VAT. */
function gatewayFees(base: Money, spec: Pick<ChargeSpec, 'mdr' | 'mdrRate' | 'vatRate'>): { mdr: Money; vat: Money } {
  const mdr = spec.mdr !== undefined ? money(spec.mdr) : toSatang(base.times(spec.mdrRate ?? '0.025'));
  return { mdr, vat: toSatang(mdr.times(spec.vatRate ?? '0.07')) };
}

/** The fee schedule that matches {@link buildCharge}'s defaults (docs/reference.md §3.3). */
export const SAMPLE_FEES = {
  vat_rate: '0.07',
  rules: [
    { source_type: 'card', ipan_mode: '01', term: 10, rate: '0.065' },
    { source_type: 'card', rate: '0.025' },
    { source_type: 'alipay', rate: '0.025' },
    { source_type: 'unionpay', rate: '0.025' },
  ],
};
