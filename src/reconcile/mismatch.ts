import type { Money } from '../money.ts';

/** The finding codes (docs/reference.md §7) and their severities; codes keep their names forever. */
export const SEVERITY = {
  MISSING_AT_GATEWAY: 'error',
  INQUIRY_FAILED: 'warning',
  CURRENCY_MISMATCH: 'error',
  AMOUNT_MISMATCH: 'error',
  STATE_MISMATCH: 'error',
  SETTLEMENT_PENDING: 'warning',
  DATE_MISMATCH: 'warning',
  SETTLE_AMOUNT_MISMATCH: 'error',
  MDR_MISMATCH: 'error',
  VAT_MISMATCH: 'error',
  NET_MISMATCH: 'error',
  SETTLEMENT_INCONSISTENT: 'error',
  REFUND_MISSING_AT_GATEWAY: 'error',
  REFUND_NOT_IN_LEDGER: 'error',
  REFUND_FAILED: 'error',
  REFUND_AMOUNT_MISMATCH: 'error',
  REFUND_MDR_MISMATCH: 'error',
  REFUND_VAT_MISMATCH: 'error',
  REFUND_NET_MISMATCH: 'error',
  DUPLICATE_IN_LEDGER: 'error',
  INSTALLMENT_PLAN_UNKNOWN: 'error',
  INSTALLMENT_PLAN_INACTIVE: 'error',
  INSTALLMENT_TERM_INVALID: 'error',
  INSTALLMENT_PRICE_OUT_OF_RANGE: 'error',
  IPAN_MODE_MISMATCH: 'error',
  // v2
  FEES_NOT_REPORTED: 'warning',
  REFUND_PENDING: 'warning',
  REFUND_UNVERIFIABLE: 'warning',
  REFUND_EXCEEDS_AMOUNT: 'error',
  CONVFEE_MISMATCH: 'error',
  LIVEMODE_MISMATCH: 'error',
  ORPHAN_LEDGER_ENTRY: 'error',
  // v3: KBank's notifications (docs/reference.md §6)
  NOT_IN_LEDGER: 'error',
  NOTIFY_CHECKSUM_INVALID: 'error',
  NOTIFY_STATE_MISMATCH: 'error',
} as const satisfies Record<string, 'error' | 'warning'>;

export type MismatchCode = keyof typeof SEVERITY;
export type Severity = (typeof SEVERITY)[MismatchCode];
export const MISMATCH_CODES = Object.keys(SEVERITY) as MismatchCode[];

/** One finding about one charge (or one of its refunds). */
export interface Mismatch {
  readonly code: MismatchCode;
  /** The ledger row the finding is about: the charge row, a refund row, a duplicate row. */
  readonly entryId: string | null;
  /** The compared field, e.g. `amount` or `refund_info[refd_…].orig_vat`. */
  readonly field?: string;
  readonly ledgerValue?: string;
  readonly gatewayValue?: string;
  /** Gateway minus ledger, when both sides are amounts. */
  readonly difference?: Money;
  readonly message: string;
}

export function severityOf(code: MismatchCode): Severity {
  return SEVERITY[code];
}

export function isError(mismatch: Mismatch): boolean {
  return SEVERITY[mismatch.code] === 'error';
}
