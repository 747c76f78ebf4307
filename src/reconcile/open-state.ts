import { canonicalState } from '../gateway/charge.ts';
import type { MismatchCode } from './mismatch.ts';
import type { ChargeResult } from './reconcile-charge.ts';

/** Findings that say the charge is not final yet: a later look may settle it (contract §8). */
export const OPEN_CODES: ReadonlySet<MismatchCode> = new Set<MismatchCode>(['SETTLEMENT_PENDING', 'FEES_NOT_REPORTED', 'REFUND_PENDING']);

/**
 * Whether a charge is still open after its reconciliation: unverified, waiting for settlement,
 * for its fee figures or for a booked refund, or in the gateway's `Refund Sent` (the refund is
 * on its way and may still fail). Anything else is final.
 */
export function isOpen(result: Pick<ChargeResult, 'status' | 'mismatches' | 'gateway'>): boolean {
  if (result.status === 'unverified') return true;
  if (result.mismatches.some((m) => OPEN_CODES.has(m.code))) return true;
  return result.gateway !== undefined && canonicalState(result.gateway.transactionState) === 'Refund Sent';
}
