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
 * `money(text)`, or `known` itself when `text` is exactly how `known` is written, zeros before
 * or after it included (PostgreSQL writes a numeric(14,2) 786.6 as `786.60`).
 * Parsing such a text gives a Money of the same sign, digits and exponent, and Money is
 * immutable, so it is `known` in all but identity; the parse (decimal.js's costliest step here)
 * is skipped. The reconcile step reads each ledger amount beside the gateway's, which it nearly
 * always equals.
 */
export function moneyReusing(text: string, known: Money): Money {
  return isTextOf(text, known) ? known : money(text);
}

/**
 * Whether parsing `text` with {@link money} gives exactly `value`, read digit by digit against
 * `value`'s own (no text of it is made). Only finite values made by this module's decimal
 * context; the text must be one `money` accepts as it is (no spaces to trim). Parsing keeps the
 * text's sign (`-0.00` is -0) and drops its leading and trailing zeros, so the text is `value`
 * when the signs agree, every digit of `value` lies within the text's places, and each place
 * of the text holds `value`'s digit there.
 */
function isTextOf(text: string, value: Money): boolean {
  const words = value.d;
  if (value.constructor !== Dec || !words || !NUMERIC.test(text)) return false;
  const start = text.charCodeAt(0) === MINUS ? 1 : 0;
  if ((start === 1) !== (value.s < 0)) return false;
  const point = text.indexOf('.');
  const wholeDigits = (point < 0 ? text.length : point) - start;
  const decimals = point < 0 ? 0 : text.length - point - 1;
  if (value.e >= wholeDigits || value.decimalPlaces() > decimals) return false;
  let place = wholeDigits - 1;
  for (let i = start; i < text.length; i++) {
    if (i === point) continue;
    if (text.charCodeAt(i) - ZERO_DIGIT !== digitAt(value.e, words, place--)) return false;
  }
  return true;
}

/**
 * The digit at 10^place of a decimal.js value with exponent `e` and digits `words`: base 10^7
 * words, aligned so that the first word's last digit is at a place that is a multiple of 7.
 */
function digitAt(e: number, words: readonly number[], place: number): number {
  const top = Math.floor(e / WORD_DIGITS) * WORD_DIGITS + WORD_DIGITS - 1;
  if (place > top) return 0;
  const index = Math.floor((top - place) / WORD_DIGITS);
  if (index >= words.length) return 0;
  const fromLeft = (top - place) % WORD_DIGITS;
  return Math.floor(words[index]! / POWERS_OF_TEN[WORD_DIGITS - 1 - fromLeft]!) % 10;
}

const WORD_DIGITS = 7;
const POWERS_OF_TEN = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000];
const MINUS = 45;
const ZERO_DIGIT = 48;

/** Rounds half-up (away from zero on .5) to satang, as the fee rules require (docs/reference.md §4.7). */
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

/**
 * Two-decimal text with thousands separators (`12,135,238.34`), for what people read: the
 * terminal, report.html. CSV cells keep {@link formatMoney}'s plain numbers.
 */
export function formatMoneyGrouped(value: Money): string {
  const text = formatMoney(value);
  const point = text.indexOf('.');
  const sign = text.startsWith('-') ? '-' : '';
  const whole = text.slice(sign.length, point).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${sign}${whole}${text.slice(point)}`;
}

export function sum(values: Iterable<Money>): Money {
  let total = ZERO;
  for (const v of values) total = total.plus(v);
  return total;
}
