import type { GatewayCharge } from './charge.ts';

/** The gateway answered with the charge asked about. */
export interface Found {
  readonly kind: 'found';
  readonly charge: GatewayCharge;
}

/** `charge_id_not_exist` (QR also `invalid_order_id`, `no_transaction_found`): never retried. */
export interface NotFound {
  readonly kind: 'not_found';
  /** The gateway's error code, as it spelled it. */
  readonly code: string;
}

/**
 * No definite answer within the retry budget, an answer that is not a charge, or one about
 * another charge: unverified.
 */
export interface Failed {
  readonly kind: 'failed';
  readonly reason: string;
}

/** How the answer was got: what the audit trail (`gateway_inquiries`) records. */
export interface Asked {
  /** The request that gave the answer (a dated path may have been retried with the day before or after). */
  readonly path: string;
  /** Requests sent for this charge, over every path tried. */
  readonly attempts: number;
}

/** A whole HTTP answer: its status and its body exactly as received. */
export interface Received {
  readonly httpStatus: number;
  readonly bodyText: string;
}

/**
 * The gateway's answer about one charge, as the whole pipeline uses it: the inquiry client gives
 * it, the inquiry stage stores it (and rebuilds it from the store on a resumed run), and
 * reconciliation decides by its `kind`.
 */
export type GatewayAnswer = (Found & Asked & Received) | (NotFound & Asked & Received) | (Failed & Asked);
