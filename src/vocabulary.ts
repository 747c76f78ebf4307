/**
 * The ledger's vocabulary, in one place: the payment types and their inquiry family, and the
 * dates of Thai books (Buddhist-era years, the years a ledger may hold, a real calendar day).
 * The readers (ingest, its byte fast path), the fee schedule, reconciliation, the gateway's
 * dates and the finance files all speak it.
 */

export const SOURCE_TYPES = ['card', 'qr', 'wechat', 'alipay', 'unionpay'] as const;
export type SourceType = (typeof SOURCE_TYPES)[number];

export function isSourceType(value: string): value is SourceType {
  return (SOURCE_TYPES as readonly string[]).includes(value);
}

/**
 * Thai QR and WeChat Pay are asked through the QR inquiry (guide §6.4.1, by charge or order id,
 * no `refund_info`); cards, Alipay and UnionPay through the card inquiry.
 */
export function isQrFamily(sourceType: string): boolean {
  return sourceType === 'qr' || sourceType === 'wechat';
}

/** Thai systems write Buddhist-era years (CE + 543); no ledger of ours predates 1857 CE. */
export const BUDDHIST_ERA_OFFSET = 543;
export const BUDDHIST_ERA_FROM = 2400;
/**
 * Years a ledger date may have (after the Buddhist-era conversion): wide enough for any real
 * ledger, narrow enough that a typo (`0024-05-01`, `9024-05-01`) is a rejected row rather than a
 * date PostgreSQL refuses (year 0) or a charge centuries away.
 */
export const EARLIEST_YEAR = 1900;
export const LATEST_YEAR = 2200;

/** Whether year-month-day is a day of the Gregorian calendar (no 31 April, 29 February in leap years). */
export function isCalendarDate(year: number, month: number, day: number): boolean {
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

function daysInMonth(year: number, month: number): number {
  if (month !== 2) return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
}
