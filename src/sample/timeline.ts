import { money } from '../money.ts';
import { shiftDate } from '../dates.ts';
import { dateOf17, readGatewayDecimal } from '../gateway/charge.ts';
import { FROM_HINT, inferFamily } from '../simulator/charge-store.ts';
import { gatewayRefund, type ChargeSpec, type GatewayBody, type SampleCharge } from './charge-builder.ts';

/** A refund made only at the gateway (in KBank's portal): no ledger row books it. */
export interface GatewayOnlyRefund {
  /** Days after the charge's date on which it is made (at least 1). */
  afterDays: number;
  amount: string;
  /** The first attempt fails with this code (e.g. `OBAVL`); the refund goes through the next day. */
  failsFirstWith?: string;
}

export interface HistoryPlan {
  gatewayRefunds?: readonly GatewayOnlyRefund[];
  /** The rates the charge was built with (as in {@link ChargeSpec}), for the refunds' fee figures. */
  rates?: Pick<ChargeSpec, 'mdrRate' | 'vatRate'>;
  /**
   * A card-family charge's fee figures come a day after its settlement (the default, as KBank
   * often reports them); false: it settles on D+1 with its figures.
   */
  figuresLate?: boolean;
}

/** A gateway record that holds from its `_from` day on (docs/reference.md §1.15, `FROM_HINT`). */
export type DatedRecord = GatewayBody & { [FROM_HINT]: string };

const VOID_STATES = new Set(['Voided', 'VOID']);
const REFUND_STATES = new Set(['Refunded', 'Partial Refund', 'Refund Sent', 'Refund Fail']);
const NO_FIGURES = { orig_amount: '0.0000', orig_mdr: '0.0000', orig_vat: '0.0000', orig_net_amount: '0.0000' };

type RefundEntry = Record<string, unknown>;

/**
 * One charge's life at the gateway as the simulator's dated records, oldest first, from the final
 * answer `buildCharge` (and perhaps a defect) made. KBank's lifecycle (guide: `Captured`, "wait for
 * complete in next day"): a card-family charge of day D is `Captured` without `settlement_info` on
 * D, `Settled` on D+1 with its settlement amount but every fee figure zero, and has its figures on
 * D+2 (with `plan.figuresLate` false, on D+1 with its settlement); a QR-family charge (whose inquiry has no `settlement_info`) is `Authorized` on D and
 * `Settled` on D+1. A void holds from D. The charge's own refunds show from their `refund_date`,
 * after which the state is the final one; `plan.gatewayRefunds` add refunds no ledger knows of
 * (a QR inquiry lists no refunds, so there a full one shows only as `Refunded`). A final answer that
 * never settles (`Captured`) or never gets its figures stays so. D is the day of `created`, the
 * gateway's own clock. A day that changes nothing writes no record.
 */
export function chargeHistory(charge: SampleCharge, plan: HistoryPlan = {}): DatedRecord[] {
  const final = charge.gateway;
  const day = dateOf17(String(final.created ?? ''));
  if (!day) throw new RangeError(`charge ${String(final.id)}: "created" has no date`);
  const qr = inferFamily(final) === 'qr';
  const amount = readGatewayDecimal(final.amount) ?? money(0);
  const finalState = String(final.transaction_state);
  const settledState = REFUND_STATES.has(finalState) ? 'Settled' : finalState;
  const opening = qr ? 'Authorized' : 'Captured';

  const own: RefundEntry[] = Array.isArray(final.refund_info) ? (final.refund_info as RefundEntry[]) : [];
  // Entries that are no refund (`{}`, `""`) have no date: listed from the start, as the final answer lists them.
  const shownOn = (entry: unknown) => (typeof entry === 'object' && entry !== null ? dateOf17(String((entry as RefundEntry).refund_date ?? '')) : null) ?? day;
  const ownLast = own.map(shownOn).reduce((a, b) => (b > a ? b : a), day);
  const later = gatewayOnlyEntries(final, day, plan);

  const settlementOn = (date: string) => {
    const settlement = final.settlement_info;
    if (typeof settlement !== 'object' || settlement === null) return settlement ?? null;
    if (date === day) return null;
    return date === shiftDate(day, 1) && plan.figuresLate !== false ? { ...settlement, ...NO_FIGURES } : settlement;
  };
  const stateOn = (date: string, visible: RefundEntry[]) => {
    if (VOID_STATES.has(finalState)) return finalState;
    const laterShown = later.some((entry) => visible.includes(entry) && !entry.error_code);
    if (date >= ownLast && !laterShown) return date === day && finalState === 'Settled' ? opening : finalState;
    // Every entry the sample builder writes has `refund_amount`.
    const refunded = visible.filter((entry) => !entry.error_code).reduce((sum, entry) => sum.plus(readGatewayDecimal(entry.refund_amount) ?? 0), money(0));
    if (refunded.isZero()) return date === day && settledState === 'Settled' ? opening : settledState;
    if (refunded.greaterThanOrEqualTo(amount)) return 'Refunded';
    return qr ? settledState : 'Partial Refund';
  };

  const days = [...new Set([day, shiftDate(day, 1), shiftDate(day, 2), ...own.map(shownOn), ...later.map(shownOn)])].sort();
  const records: DatedRecord[] = [];
  let previous = '';
  for (const date of days) {
    const visible = [...own, ...later].filter((entry) => shownOn(entry) <= date);
    const listed = qr ? [] : visible;
    const body = {
      ...final,
      transaction_state: stateOn(date, visible),
      settlement_info: settlementOn(date),
      refund_info: listed.length ? listed : null,
    };
    const text = JSON.stringify(body);
    if (text !== previous) records.push({ [FROM_HINT]: date, ...body });
    previous = text;
  }
  return records;
}

/** The `refund_info` entries of the plan's gateway-only refunds, a failed attempt before its retry. */
function gatewayOnlyEntries(final: GatewayBody, day: string, plan: HistoryPlan): RefundEntry[] {
  const refundIdBase = String(final.id).replace(/^chrg_/, 'refd_');
  return (plan.gatewayRefunds ?? []).flatMap((refund, i) => {
    if (!Number.isInteger(refund.afterDays) || refund.afterDays < 1) throw new RangeError(`gateway refund ${i + 1}: afterDays must be a whole number of at least 1`);
    const refundAmount = money(refund.amount);
    const at = { refundId: `${refundIdBase}_gw${i + 1}`, sequence: i, date: shiftDate(day, refund.afterDays) };
    if (!refund.failsFirstWith) return [gatewayRefund(refundAmount, plan.rates ?? {}, at)];
    return [
      gatewayRefund(refundAmount, plan.rates ?? {}, { ...at, failedWith: refund.failsFirstWith }),
      gatewayRefund(refundAmount, plan.rates ?? {}, { ...at, date: shiftDate(at.date, 1) }),
    ];
  });
}
