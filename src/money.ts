import Decimal from 'decimal.js';

/**
 * Money is decimal: every amount, fee and rate in kpgw-recon is a `Money` (decimal.js), never a
 * JavaScript number. The gateway sends amounts as JSON numbers or numeric strings; both are
 * parsed from their text so `10.7000` stays exactly 10.7.
 */
export type Money = Decimal;

const Dec = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_UP });

export const ZERO: Money = new Dec(0);

const NUMERIC = /^-?\d+(\.\d+)?$/;

/** Parses a plain decimal string or a number; `undefined` when the value is not a number. */
export function parseMoney(value: unknown): Money | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? new Dec(String(value)) : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  return NUMERIC.test(text) ? new Dec(text) : undefined;
}

/** Like {@link parseMoney} but for values that must be there. */
export function money(value: string | number): Money {
  const parsed = parseMoney(value);
  if (!parsed) throw new TypeError(`not a decimal: ${JSON.stringify(value)}`);
  return parsed;
}

/** Rounds half-up (away from zero on .5) to satang, as the contract's fee rules require. */
export function toSatang(value: Money): Money {
  // Most amounts have two decimals already; Money is immutable, so the value itself is the answer
  // (rounding would only copy it, and the reconcile step rounds every amount it compares).
  return value.decimalPlaces() <= 2 ? value : value.toDecimalPlaces(2, Decimal.ROUND_HALF_UP);
}

/**
 * `a.equals(b)`, without the copy of `b` decimal.js makes to compare: two amounts written with
 * the same sign, exponent and digits are equal, which is how equal amounts nearly always come;
 * anything else is left to decimal.js.
 */
export function sameAmount(a: Money, b: Money): boolean {
  if (a === b) return true;
  const ad = a.d;
  const bd = b.d;
  if (a.s === b.s && a.e === b.e && ad.length === bd.length) {
    let i = 0;
    while (i < ad.length && ad[i] === bd[i]) i++;
    if (i === ad.length) return true;
  }
  return a.equals(b);
}

/** `value.greaterThan(0)`, without decimal.js making a Money of the 0 to compare with. */
export function isAboveZero(value: Money): boolean {
  return !value.isZero() && value.isPositive();
}

/** Two-decimal text for reports and CSVs. */
export function formatMoney(value: Money): string {
  return toSatang(value).toFixed(2);
}

export function sum(values: Iterable<Money>): Money {
  let total = ZERO;
  for (const v of values) total = total.plus(v);
  return total;
}
