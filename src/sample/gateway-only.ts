import { buildCharge, type GatewayBody } from './charge-builder.ts';
import { chargeHistory } from './timeline.ts';

/** A charge KBank completed that the sample ledger never booked. */
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
