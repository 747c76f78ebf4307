import { money, toSatang } from '../money.ts';
import { seededRandom } from '../simulator/prng.ts';
import { daysBetween, shiftDate } from '../dates.ts';
import { isQrFamily } from '../vocabulary.ts';
import type { MismatchCode } from '../reconcile/mismatch.ts';
import { buildCharge, SAMPLE_FEES, type ChargeSpec, type GatewayBody, type LedgerRow } from './charge-builder.ts';
import { DEFECTS, PLAN_DEFECTS, type ChargeShape, type Defect } from './defects.ts';
import { gatewayOnlyCharge, reversedAfterNotify, type GatewayOnlyCharge } from './gateway-only.ts';
import { planReportCsv, planReportFileName, type PlanRow } from './sample-files.ts';
import { chargeHistory, type HistoryPlan } from './timeline.ts';

export interface SampleOptions {
  from: string;
  days: number;
  chargesPerDay: number;
  /** Share of charges broken by one defect each (default 0.08). */
  defectRate?: number;
  seed?: number;
  /**
   * The day the sample will be reconciled as of (default: its last day). Defects that depend on
   * the refund grace days (a refund missing, not pending) are planted only where they hold for
   * this day and the day after.
   */
  asOf?: string;
  /**
   * Write each charge's history at the gateway, day by day, instead of its final answer (see
   * {@link chargeHistory}), for playing several nights against the simulator's clock. The ledger
   * is the same as without it.
   */
  timeline?: TimelineOptions;
}

export interface TimelineOptions {
  /**
   * Share of the clean, settled card-family charges without refunds that get a refund made only at
   * the gateway, 2 to 28 days later, a quarter of them failing first with `OBAVL` (default 0.02).
   */
  lateRefunds?: number;
  /**
   * Share of the card-family charges whose fee figures come a day after their settlement, the
   * others settling with them (default 1: all of them, see {@link chargeHistory}).
   */
  lateFigures?: number;
}

/** A refund made only at the gateway: from `date` on, the charge gets REFUND_NOT_IN_LEDGER and STATE_MISMATCH. */
export interface LateRefund {
  entryId: string;
  chargeId: string;
  /** The day the successful refund shows at the gateway. */
  date: string;
  amount: string;
  /** It failed with `OBAVL` the day before. */
  failedFirst: boolean;
}

export interface SampleData {
  ledger: LedgerRow[];
  /**
   * Rows a finance export would plausibly get wrong, each for one reason (a thousands separator in
   * the wrong place, a day February does not have, an unknown payment type); they must end up in
   * rejected.csv with that reason. Written with every column, like the good rows.
   */
  badLedgerRows: LedgerRow[];
  /** One final answer per charge; with `timeline`, each charge's dated records (`_from`). */
  gateway: GatewayBody[];
  plans: { fileName: string; csv: string };
  fees: typeof SAMPLE_FEES;
  /**
   * The codes each charge row (by entry_id) must get, when the gateway answers (with `timeline`:
   * once its last record is in force, not counting {@link lateRefunds}).
   */
  expected: Map<string, MismatchCode[]>;
  /** With `timeline`: the refunds made only at the gateway. */
  lateRefunds: LateRefund[];
  /** A charge in `gateway` (and so notified by the simulator) that the ledger lacks. */
  notInLedger: GatewayOnlyCharge;
  /** A charge in `gateway` that KBank reversed the day after it was paid: with `timeline`, notified as paid, then contradicted by its inquiry. */
  reversedAfterNotify: GatewayOnlyCharge;
}

export const SAMPLE_SUPPLIER = '09902';
/** The installment plan every sample installment charge uses (model 999999 of {@link samplePlanReport}). */
export const SAMPLE_PLAN = { planId: '999', ipanMode: '01', term: 10, supplierNo: SAMPLE_SUPPLIER, modelNo: '999999', productType: '003' };

/**
 * A realistic day-by-day sample: card (Visa, Mastercard, JCB), Thai QR, WeChat, Alipay, UnionPay
 * and installment charges, refunds and voids, with a sprinkling of every kind of defect. The same
 * seed gives the same data.
 */
export function generateSample(options: SampleOptions): SampleData {
  const random = seededRandom(options.seed ?? 20261129);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const defectRate = options.defectRate ?? 0.08;
  const ledger: LedgerRow[] = [];
  const gateway: GatewayBody[] = [];
  const expected = new Map<string, MismatchCode[]>();
  const defectUse = new Map<string, number>();
  const last = shiftDate(options.from, options.days - 1);
  const asOf = options.asOf ?? last;
  // A PRNG of its own, so the ledger and the defects are the same with or without a timeline.
  const timelineRandom = seededRandom((options.seed ?? 20261129) ^ 0x5eed71e);
  const lateRefundShare = options.timeline?.lateRefunds ?? 0.02;
  const lateFiguresShare = options.timeline?.lateFigures ?? 1;
  const lateRefunds: LateRefund[] = [];

  for (let day = 0; day < options.days; day += 1) {
    const date = shiftDate(options.from, day);
    for (let n = 0; n < options.chargesPerDay; n += 1) {
      const key = `${date.replaceAll('-', '')}-${String(n).padStart(5, '0')}`;
      const roll = random();
      const sourceType: ChargeSpec['sourceType'] = roll < 0.6 ? 'card' : roll < 0.75 ? 'qr' : roll < 0.8 ? 'wechat' : roll < 0.9 ? 'alipay' : 'unionpay';
      const installment = sourceType === 'card' && random() < 0.08;
      const qr = isQrFamily(sourceType);
      const amount = toSatang(money(installment ? 3000 + Math.floor(random() * 60000) : 20 + Math.floor(random() * 500000) / 100));
      const voided = !installment && random() < 0.03;
      const refundRoll = random();
      const refunds = voided || qr || installment ? [] : refundRoll < 0.06 ? [amount.toFixed(2)] : refundRoll < 0.15 ? [toSatang(amount.times('0.3')).toFixed(2)] : [];
      const brand = sourceType === 'card' ? pick(['visa', 'mastercard', 'jcb']) : undefined;
      const shape: ChargeShape = {
        qr,
        refunds: refunds.length,
        fullRefund: refunds.length === 1 && refunds[0] === amount.toFixed(2),
        voided,
        installment,
        brand,
        age: daysBetween(date, asOf),
      };
      const charge = buildCharge({
        key,
        date,
        amount: amount.toFixed(2),
        sourceType,
        brand,
        refunds,
        voided,
        installment: installment ? SAMPLE_PLAN : undefined,
        mdrRate: installment ? '0.065' : '0.025',
      });
      if (installment) {
        // Installment ledgers book their own fees (the schedule's 6.5 % rule, for the record).
        const s = charge.gateway.settlement_info as Record<string, string>;
        Object.assign(charge.ledger[0]!, { mdr: money(s.orig_mdr!).toFixed(2), vat: money(s.orig_vat!).toFixed(2), net_amount: money(s.orig_net_amount!).toFixed(2) });
      }
      // The charge row's id, before a defect may remove the row (an orphan keeps only its refunds).
      const entryId = charge.ledger[0]!.entry_id!;
      let codes: MismatchCode[] = [];
      if (random() < defectRate) {
        const candidates: Defect[] = [...DEFECTS, ...PLAN_DEFECTS].filter((d) => d.fits(shape));
        // Least-used first, so even a small sample shows every kind of finding.
        const least = Math.min(...candidates.map((d) => defectUse.get(d.name) ?? 0));
        const defect = pick(candidates.filter((d) => (defectUse.get(d.name) ?? 0) === least));
        defectUse.set(defect.name, least + 1);
        defect.apply(charge);
        codes = [...defect.codes];
      }
      expected.set(entryId, codes.sort());
      ledger.push(...charge.ledger);
      if (charge.gateway.__missing) continue;
      if (!options.timeline) {
        gateway.push(charge.gateway);
        continue;
      }
      const plan: HistoryPlan = { rates: { mdrRate: installment ? '0.065' : '0.025' } };
      // No draw at the default share, so the late refunds of a seed stay where they were.
      if (!qr && lateFiguresShare < 1) plan.figuresLate = timelineRandom() < lateFiguresShare;
      const refundable = codes.length === 0 && !qr && !voided && !installment && refunds.length === 0;
      if (refundable && timelineRandom() < lateRefundShare) {
        const afterDays = 2 + Math.floor(timelineRandom() * 27);
        const refundAmount = timelineRandom() < 0.5 ? amount : toSatang(amount.times('0.3'));
        const failedFirst = timelineRandom() < 0.25;
        plan.gatewayRefunds = [{ afterDays, amount: refundAmount.toFixed(2), ...(failedFirst ? { failsFirstWith: 'OBAVL' } : {}) }];
        lateRefunds.push({
          entryId,
          chargeId: String(charge.gateway.id),
          date: shiftDate(date, afterDays + (failedFirst ? 1 : 0)),
          amount: refundAmount.toFixed(2),
          failedFirst,
        });
      }
      gateway.push(...chargeHistory(charge, plan));
    }
  }
  const notInLedger = gatewayOnlyCharge(last, options.timeline !== undefined);
  gateway.push(...notInLedger.records);
  const reversed = reversedAfterNotify(last, options.timeline !== undefined);
  gateway.push(...reversed.records);
  return {
    ledger,
    badLedgerRows: [
      { entry_id: 'BAD-1', entry_type: 'charge', reference_order: 'ORD-BAD-1', transaction_date: options.from, source_type: 'card', currency: 'THB', amount: '12,34.5' },
      { entry_id: 'BAD-2', entry_type: 'charge', reference_order: 'ORD-BAD-2', transaction_date: '31/02/2026', source_type: 'card', currency: 'THB', amount: '100.00' },
      { entry_id: 'BAD-3', entry_type: 'refund', reference_order: 'ORD-BAD-3', transaction_date: last, source_type: 'bitcoin', currency: 'THB', amount: '5.00' },
    ],
    gateway,
    plans: samplePlanReport(),
    fees: SAMPLE_FEES,
    expected,
    lateRefunds,
    notInLedger: notInLedger.charge,
    reversedAfterNotify: reversed.charge,
  };
}

/** The sample Installment Plan Report: one good model, and models that exist only to fail one check each. */
export function samplePlanReport(): { fileName: string; csv: string } {
  const base: PlanRow = {
    'SeqNo.': '1', PromotionName: 'ผ่อน 0% 10 เดือน', ValidFrom: '01/01/2020', ValidTo: '31/12/2030', IPanMode: '01',
    ProductName: 'ALL PRODUCT', 'SupplierNo.': SAMPLE_SUPPLIER, ProductType: '3', 'ModelNo.': '999999', PlanID: '999',
    ModelName: 'Galaxy Z Flip3 5G', MinPrice: '3000.00', MaxPrice: '999999999', PaymentTerm: '10', CardType: 'C',
  };
  const rows: PlanRow[] = [
    base,
    { ...base, 'SeqNo.': '2', PaymentTerm: '6', PromotionName: 'ผ่อน 0% 6 เดือน' },
    { ...base, 'SeqNo.': '3', 'ModelNo.': '888888', ModelName: 'Galaxy Note 20', ValidTo: '31/12/2020', PromotionName: 'โปรโมชันเก่า' },
    { ...base, 'SeqNo.': '4', 'ModelNo.': '777777', ModelName: 'Galaxy Z Fold7', MinPrice: '1000000.00' },
  ];
  return { fileName: planReportFileName(SAMPLE_SUPPLIER, '2020-01-01', '2030-12-31'), csv: planReportCsv(rows) };
}
