import { shiftDate } from '../dates.ts';
import { FROM_HINT } from '../simulator/charge-store.ts';
import { buildCharge, type GatewayBody } from './charge-builder.ts';
import { chargeHistory } from './timeline.ts';

/** A charge KBank knows that the sample ledger never booked. */
export interface GatewayOnlyCharge {
  readonly chargeId: string;
  readonly date: string;
  readonly amount: string;
}

/**
 * The customer paid by Thai QR on the sample's last day and the shop never booked it (the
 * browser closed before the return URL): only the gateway, and its notification, know it. Built
 * without the sample's random draws, so every other charge of a seed stays as it was.
 */
export function gatewayOnlyCharge(date: string, timeline: boolean): { charge: GatewayOnlyCharge; records: GatewayBody[] } {
  const amount = '1490.00';
  const sample = buildCharge({ key: `${date.replaceAll('-', '')}-NOTBOOKED`, date, amount, sourceType: 'qr' });
  return {
    charge: { chargeId: String(sample.gateway.id), date, amount },
    records: timeline ? chargeHistory(sample) : [sample.gateway],
  };
}

/**
 * A card payment KBank authorized on the sample's last day, and notified as a success, then
 * reversed the next day (its own risk checks): its inquiry says it failed. The shop rightly never
 * booked it, but one that ships on the notification alone ships unpaid goods. With a timeline,
 * its two records are dated (`_from`): the simulator notifies the first and, once its clock is
 * past the day, answers the second; without, only the final answer (a failed payment).
 */
export function reversedAfterNotify(date: string, timeline: boolean): { charge: GatewayOnlyCharge; records: GatewayBody[] } {
  const amount = '2590.00';
  const { gateway } = buildCharge({ key: `${date.replaceAll('-', '')}-REVERSED`, date, amount, sourceType: 'card', brand: 'visa' });
  const authorized = { ...gateway, transaction_state: 'Authorized', settlement_info: null, refund_info: null };
  const reversed = { ...authorized, status: 'fail', transaction_state: 'Reversed', failure_code: '59', failure_message: 'Suspected fraud' };
  return {
    charge: { chargeId: String(gateway.id), date, amount },
    records: timeline ? [{ [FROM_HINT]: date, ...authorized }, { [FROM_HINT]: shiftDate(date, 1), ...reversed }] : [reversed],
  };
}
