import { canonicalState } from '../gateway/charge.ts';
import type { OpenReason } from './followup.table.ts';
import type { MismatchCode } from '../reconcile/mismatch.ts';
import type { ChargeResult } from '../reconcile/charge-result.ts';

/** Findings that say the charge is not final yet: a later look may settle it (docs/reference.md §4.21). */
const OPEN_CODES: ReadonlySet<MismatchCode> = new Set<MismatchCode>(['SETTLEMENT_PENDING', 'FEES_NOT_REPORTED', 'REFUND_PENDING']);

/**
 * Why a charge is still open after its reconciliation, or undefined when it is final:
 * unverified, waiting for settlement, for its fee figures or for a booked refund, or in the
 * gateway's `Refund Sent` (the refund is on its way and may still fail).
 */
export function openReason(result: Pick<ChargeResult, 'status' | 'mismatches' | 'gateway'>): { reason: OpenReason; message: string } | undefined {
  if (result.status === 'unverified') {
    const failed = result.mismatches.find((m) => m.code === 'INQUIRY_FAILED');
    return { reason: 'INQUIRY_FAILED', message: failed?.message ?? 'the gateway gave no usable answer' };
  }
  const pending = result.mismatches.find((m) => OPEN_CODES.has(m.code));
  if (pending) return { reason: pending.code as OpenReason, message: pending.message };
  if (result.gateway !== undefined && canonicalState(result.gateway.transactionState) === 'Refund Sent') {
    return { reason: 'REFUND_SENT', message: "the gateway's state is Refund Sent: the refund may still fail" };
  }
  return undefined;
}

