import type { GatewayCharge } from '../gateway/charge.ts';
import type { Money } from '../money.ts';
import type { ChargeCase } from './charge-case.ts';
import type { FeeSchedule } from './fee-schedule.ts';
import type { PlanBook } from './installment-check.ts';
import type { KeyMode } from './livemode-check.ts';
import type { Mismatch } from './mismatch.ts';

/** What a run judges every charge by: its fee schedule, plans, tolerance and day. */
export interface ReconcileContext {
  readonly fees: FeeSchedule | undefined;
  readonly plans: PlanBook;
  readonly tolerance: Money;
  /** The secret key's environment (never the key itself); unset: `livemode` is not checked. */
  readonly keyMode?: KeyMode;
  /** The day the run pretends it is (`--as-of`): refunds booked shortly before it may be pending. */
  readonly asOf: string;
  /** `RECON_REFUND_GRACE_DAYS`: days a booked refund may be unknown to the gateway (docs/reference.md §4.16). */
  readonly refundGraceDays: number;
}

export type ChargeStatus = 'matched' | 'mismatched' | 'unverified';

export interface ChargeResult {
  readonly case: ChargeCase;
  readonly status: ChargeStatus;
  readonly mismatches: readonly Mismatch[];
  /** The gateway's view, when it answered with the charge. */
  readonly gateway: GatewayCharge | undefined;
}
