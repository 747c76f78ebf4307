import { money, toSatang, type Money } from '../money.ts';

/** The ledger's canonical columns (contract §3.1), in the order sample files write them. */
export const LEDGER_COLUMNS = [
  'entry_id', 'entry_type', 'reference_order', 'charge_id', 'order_id', 'transaction_date', 'entry_date',
  'source_type', 'currency', 'amount', 'mdr', 'vat', 'net_amount', 'refund_id', 'mid', 'plan_id',
  'ipan_mode', 'term', 'supplier_no', 'model_no', 'product_type', 'convfee_amount', 'convfee_vat',
] as const;
export type LedgerColumn = (typeof LEDGER_COLUMNS)[number];
export type LedgerRow = Partial<Record<LedgerColumn, string>>;

/** A raw inquiry answer as the gateway sends it (guide §6.1.2 / §6.4.1 shape). */
export type GatewayBody = Record<string, unknown>;

export interface SampleCharge {
  /** The charge row first, then its refund and void rows. */
  ledger: LedgerRow[];
  gateway: GatewayBody;
}

export interface ChargeSpec {
  /** Unique within the data set; ids are derived from it. */
  key: string;
  date: string;
  amount: string;
  sourceType?: 'card' | 'qr' | 'wechat' | 'alipay' | 'unionpay';
  brand?: string;
  currency?: string;
  /** MDR rate the gateway applies (default 0.025) and VAT rate (default 0.07). */
  mdrRate?: string;
  vatRate?: string;
  /** Refunds booked on both sides, in order. */
  refunds?: string[];
  voided?: boolean;
  installment?: { planId: string; ipanMode: string; term: number; supplierNo: string; modelNo: string; productType: string };
}

const f4 = (value: Money) => value.toFixed(4);

/**
 * A charge that reconciles cleanly: the ledger rows and the gateway's answer agree on
 * everything. Tests and the sample generator start here and then break one thing.
 */
export function buildCharge(spec: ChargeSpec): SampleCharge {
  const sourceType = spec.sourceType ?? 'card';
  const qr = sourceType === 'qr' || sourceType === 'wechat';
  const currency = spec.currency ?? 'THB';
  const amount = money(spec.amount);
  const chargeId = `chrg_test_${spec.key}`;
  const reference = `ORD-${spec.key}`;
  const orderId = `ordr_test_${spec.key}`;
  const compact = spec.date.replaceAll('-', '');
  const refunds = (spec.refunds ?? []).map(money);
  const refunded = refunds.reduce((a, b) => a.plus(b), money(0));
  const state = spec.voided
    ? qr ? 'VOID' : 'Voided'
    : refunded.isZero() ? 'Settled' : refunded.greaterThanOrEqualTo(amount) ? 'Refunded' : 'Partial Refund';

  const common: LedgerRow = {
    reference_order: reference,
    charge_id: chargeId,
    transaction_date: spec.date,
    source_type: sourceType,
    currency,
    ...(qr ? { order_id: orderId } : {}),
  };
  const ledger: LedgerRow[] = [
    {
      ...common,
      entry_id: `E-${spec.key}`,
      entry_type: 'charge',
      amount: amount.toFixed(2),
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
  const refundInfo = refunds.map((refundAmount, i) => {
    const fees = gatewayFees(refundAmount, spec);
    const refundId = `refd_test_${spec.key}_${i + 1}`;
    ledger.push({
      ...common,
      entry_id: `E-${spec.key}-R${i + 1}`,
      entry_type: 'refund',
      entry_date: spec.date,
      amount: refundAmount.toFixed(2),
      refund_id: refundId,
    });
    return {
      refund_amount: f4(refundAmount),
      baht_amount: f4(refundAmount),
      exchange_rate: '1.0000',
      orig_amount: f4(refundAmount),
      orig_mdr: f4(fees.mdr),
      orig_vat: f4(fees.vat),
      orig_net_amount: f4(refundAmount.minus(fees.mdr).minus(fees.vat)),
      refund_id: refundId,
      error_code: null,
      error_message: null,
      refund_date: `${compact}180000${String(i).padStart(3, '0')}`,
    };
  });
  if (spec.voided) ledger.push({ ...common, entry_id: `E-${spec.key}-V`, entry_type: 'void', amount: amount.toFixed(2) });

  const fees = gatewayFees(amount, spec);
  const gateway: GatewayBody = {
    id: chargeId,
    object: 'charge',
    amount: Number(amount.toFixed(2)),
    currency,
    transaction_state: state,
    status: 'success',
    source: qr
      ? { id: `qr_test_${spec.key}`, object: 'qr', brand: sourceType === 'wechat' ? 'WeChat' : 'ThaiQR' }
      : { id: `card_test_${spec.key}`, object: sourceType === 'card' ? 'card' : 'redirect', brand: spec.brand ?? (sourceType === 'card' ? 'visa' : sourceType === 'alipay' ? 'Alipay' : 'UnionPay'), card_masking: '441770*****5830', issuer_bank: 'KASIKORNBANK' },
    created: `${compact}101500000`,
    reference_order: reference,
    ...(qr ? { order_id: orderId } : {}),
    approval_code: '000941',
    failure_code: null,
    failure_message: null,
    livemode: false,
    settlement_info:
      qr || spec.voided
        ? null
        : {
            settle_amount: f4(amount),
            baht_amount: f4(amount),
            exchange_rate: '1.0000',
            orig_amount: f4(amount),
            orig_mdr: f4(fees.mdr),
            orig_vat: f4(fees.vat),
            orig_net_amount: f4(amount.minus(fees.mdr).minus(fees.vat)),
          },
    refund_info: refundInfo.length ? refundInfo : null,
  };
  return { ledger, gateway };
}

function gatewayFees(base: Money, spec: ChargeSpec): { mdr: Money; vat: Money } {
  const mdr = toSatang(base.times(spec.mdrRate ?? '0.025'));
  return { mdr, vat: toSatang(mdr.times(spec.vatRate ?? '0.07')) };
}

/** The fee schedule that matches {@link buildCharge}'s defaults (contract §3.3). */
export const SAMPLE_FEES = {
  vat_rate: '0.07',
  rules: [
    { source_type: 'card', ipan_mode: '01', term: 10, rate: '0.065' },
    { source_type: 'card', rate: '0.025' },
    { source_type: 'alipay', rate: '0.025' },
    { source_type: 'unionpay', rate: '0.025' },
  ],
};
