/** What the reconciliation asks the gateway about one charge. */
export interface InquiryRequest {
  /** `card` for card, alipay and unionpay charges; `qr` for Thai QR and WeChat Pay (docs/reference.md §4.2). */
  readonly family: 'card' | 'qr';
  /** Charge id, `reference_order` (card) or order id. */
  readonly id: string;
  /**
   * The charge's creation date, `YYYYMMDD` (or `YYYY-MM-DD`). Card family only; the caller passes
   * it only when the charge is more than 180 days old (guide §6.1.2), since a date that does not
   * match the charge is refused with `invalid_parameter`.
   */
  readonly transactionDate?: string;
  /**
   * Everything the ledger knows about the charge's identity. An answer that contradicts one of
   * these is about another charge and is never matched (see {@link identityProblem}).
   */
  readonly known?: ChargeIdentifiers;
}

/** The three ids a charge can be known by; `null` or absent when the ledger does not have it. */
export interface ChargeIdentifiers {
  readonly chargeId?: string | null;
  readonly referenceOrder?: string | null;
  readonly orderId?: string | null;
}

/**
 * `/card/v2/charge/{id}[/{YYYYMMDD}]` or `/qr/v2/qr/{id}`. The id is URL-encoded: reference
 * orders are the merchant's own text and may hold `/`, spaces or Thai.
 */
export function inquiryPath(request: InquiryRequest): string {
  if (!request.id) throw new TypeError('inquiry needs a charge id, reference order or order id');
  const id = encodeURIComponent(request.id);
  if (request.family === 'qr') return `/qr/v2/qr/${id}`;
  if (request.transactionDate === undefined) return `/card/v2/charge/${id}`;
  const date = request.transactionDate.replaceAll('-', '');
  if (!/^\d{8}$/.test(date)) {
    throw new TypeError(`transaction date must be YYYYMMDD, got ${JSON.stringify(request.transactionDate)}`);
  }
  return `/card/v2/charge/${id}/${date}`;
}
