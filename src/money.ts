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

/**
 * `money(text)`, or `known` itself when `text` is exactly how `known` is written: its canonical
 * text, or that with zeros after the point (PostgreSQL writes a numeric(14,2) 786.6 as `786.60`).
 * Parsing such a text gives a Money of the same sign, digits and exponent, and Money is
 * immutable, so it is `known` in all but identity; the parse (decimal.js's costliest step here)
 * is skipped. The reconcile step reads each ledger amount beside the gateway's, which it nearly
 * always equals.
 */
export function moneyReusing(text: string, known: Money): Money {
  return isTextOf(text, known) ? known : money(text);
}

/**
 * Whether parsing `text` with {@link money} gives exactly `value`. Only finite values made by
 * this module's decimal context, and not -0 (whose canonical text `0` parses to +0); the text
 * must be one `money` accepts as it is (no spaces to trim).
 */
function isTextOf(text: string, value: Money): boolean {
  if (value.constructor !== Dec || !value.isFinite() || (value.isZero() && value.isNegative()) || !NUMERIC.test(text)) return false;
  const canonical = value.toString();
  if (!text.startsWith(canonical)) return false;
  let i = canonical.length;
  if (i === text.length) return true;
  // What follows may only be zeros after the point: `786.6` + `0`, or `1000` + `.00`.
  if (!canonical.includes('.') && text.charCodeAt(i++) !== DOT) return false;
  for (; i < text.length; i++) if (text.charCodeAt(i) !== ZERO_DIGIT) return false;
  return true;
}

const DOT = 46;
const ZERO_DIGIT = 48;

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
  return sameDigits(a, b) || a.equals(b);
}

/**
 * Whether `a` and `b` have the same sign, exponent and digits, i.e. are the same decimal.js value
 * in all but identity. `false` says nothing: 0 and -0 are equal but differ in sign.
 */
export function sameDigits(a: Money, b: Money): boolean {
  const ad = a.d;
  const bd = b.d;
  // `d` is null for NaN and ±Infinity, which are left to decimal.js (NaN equals nothing, itself included).
  if (!ad || !bd) return false;
  if (a === b) return true;
  if (a.s !== b.s || a.e !== b.e || ad.length !== bd.length) return false;
  for (let i = 0; i < ad.length; i++) if (ad[i] !== bd[i]) return false;
  return true;
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
