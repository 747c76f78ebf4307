/**
 * Readers for the values finance exports write in many ways: dates with Christian- or
 * Buddhist-era years, amounts with thousands separators. Each returns the canonical text or an
 * error phrase for the row's rejection reason; none throws.
 */
import { BUDDHIST_ERA_FROM, BUDDHIST_ERA_OFFSET, EARLIEST_YEAR, isCalendarDate, LATEST_YEAR } from '../vocabulary.ts';
import { unreadablePart } from './decode.ts';

export type ValueOutcome = { ok: true; value: string } | { ok: false; problem: string };

const ISO_DATE = /^(\d{4})-(\d{1,2})-(\d{1,2})$/;
const THAI_DATE = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/;

/** `YYYY-MM-DD` or `DD/MM/YYYY`, Buddhist-era years converted → `YYYY-MM-DD`. */
export function readDate(text: string, column: string): ValueOutcome {
  const outcome = parseDate(text.trim());
  return outcome.ok ? outcome : { ok: false, problem: `${column} ${outcome.problem}` };
}

function parseDate(text: string): ValueOutcome {
  let year: number, month: number, day: number;
  const iso = ISO_DATE.exec(text);
  const thai = iso ? null : THAI_DATE.exec(text);
  if (iso) [year, month, day] = [Number(iso[1]), Number(iso[2]), Number(iso[3])];
  else if (thai) [day, month, year] = [Number(thai[1]), Number(thai[2]), Number(thai[3])];
  else return { ok: false, problem: `'${text}' is not a date (YYYY-MM-DD or DD/MM/YYYY)` };
  if (year >= BUDDHIST_ERA_FROM) year -= BUDDHIST_ERA_OFFSET;
  if (year < EARLIEST_YEAR || year > LATEST_YEAR) return { ok: false, problem: `'${text}' is not between the years ${EARLIEST_YEAR} and ${LATEST_YEAR}` };
  if (!isCalendarDate(year, month, day)) {
    return { ok: false, problem: `'${text}' is not a calendar date` };
  }
  return { ok: true, value: `${String(year).padStart(4, '0')}-${pad2(month)}-${pad2(day)}` };
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

export interface DecimalRules {
  /** digits allowed before the point (numeric(14,2) → 12). */
  maxIntegerDigits: number;
  /** `positive`: > 0 (amounts); `any`: sign allowed (fees). */
  sign: 'positive' | 'any';
}

const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/**
 * `1234.5`, `1,234.50` → `1234.50`: commas only as thousands separators, at most two decimals,
 * since these are baht and satang and a third decimal means the export is not what we think.
 */
export function readDecimal(raw: string, column: string, rules: DecimalRules): ValueOutcome {
  const text = raw.trim();
  const negative = text.charCodeAt(0) === 0x2d;
  let i = negative ? 1 : 0;
  let whole = '';
  let group = -1; // digits since the last comma; -1 before any comma
  let digits = 0;
  let nonZero = false;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= DIGIT_0 && c <= DIGIT_9) {
      digits++;
      if (group >= 0) group++;
      if (c !== DIGIT_0) nonZero = true;
      if (nonZero) whole += text[i];
    } else if (c === 0x2c && digits > 0 && (group === -1 ? digits <= 3 : group === 3)) {
      group = 0;
    } else break;
  }
  const point = text.charCodeAt(i) === 0x2e;
  const fraction = point ? text.slice(i + 1) : '';
  const valid = digits > 0 && (group === -1 || group === 3) && (point ? isDigits(fraction) : i === text.length);
  if (!valid) return { ok: false, problem: `${column} '${raw}' is not a number` };
  if (fraction.length > 2) return { ok: false, problem: `${column} '${raw}' has more than 2 decimals` };
  if (whole.length > rules.maxIntegerDigits) return { ok: false, problem: `${column} '${raw}' is too large` };
  const zero = !nonZero && !/[1-9]/.test(fraction);
  if (rules.sign === 'positive' && (negative || zero)) return { ok: false, problem: `${column} '${raw}' is not a positive amount` };
  const cents = fraction.length === 2 ? fraction : fraction.length === 1 ? `${fraction}0` : '00';
  return { ok: true, value: `${negative && !zero ? '-' : ''}${whole || '0'}.${cents}` };
}

function isDigits(text: string): boolean {
  if (!text.length) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < DIGIT_0 || c > DIGIT_9) return false;
  }
  return true;
}

const INTEGER = /^\d+$/;

/** A whole number such as a term in months or `003` for a product type. */
export function readInteger(raw: string, column: string, max = 2_147_483_647): { ok: true; value: number } | { ok: false; problem: string } {
  const text = raw.trim();
  if (!INTEGER.test(text)) return { ok: false, problem: `${column} '${raw}' is not a whole number` };
  const value = Number(text);
  if (value > max) return { ok: false, problem: `${column} '${raw}' is too large` };
  return { ok: true, value };
}

/**
 * The longest value a column may hold, in characters. Ids are indexed (the primary key, and
 * the charge key of gateway_inquiries), and a btree entry cannot exceed about 2,700 bytes:
 * 255 characters are at most 1,020 UTF-8 bytes. No real id, reference or date comes close.
 */
export const MAX_VALUE_LENGTH = 255;
/** C0 control characters but tab, CR and line feed (which COPY text escapes), and DEL. */
const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/;

/**
 * Why `value` cannot be stored in `column` whatever the column's own rules (text unreadable in
 * the file's encoding, a control character, too long), or undefined.
 */
export function unstorable(value: string, column: string): string | undefined {
  const unreadable = unreadablePart(value);
  if (unreadable) return `${column} is ${unreadable}`;
  const control = controlCharacterIn(value, column);
  if (control) return control;
  if (value.length > MAX_VALUE_LENGTH) {
    const { length } = value.trim();
    if (length > MAX_VALUE_LENGTH) return `${column} is ${length} characters long (at most ${MAX_VALUE_LENGTH})`;
  }
  return undefined;
}

/**
 * `note contains a control character (NUL)` when `value` holds one (PostgreSQL text cannot hold
 * NUL; the others garble a terminal or a spreadsheet), else undefined. Tab and line breaks pass.
 */
export function controlCharacterIn(value: string, what: string): string | undefined {
  const control = CONTROL.exec(value);
  return control ? `${what} contains a control character (${controlName(control[0].charCodeAt(0))})` : undefined;
}

function controlName(code: number): string {
  if (code === 0) return 'NUL';
  if (code === 0x7f) return 'DEL';
  return `0x${code.toString(16).toUpperCase().padStart(2, '0')}`;
}
