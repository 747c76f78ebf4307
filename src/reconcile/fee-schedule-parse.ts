import { readFile } from 'node:fs/promises';
import { ReconError } from '../errors.ts';
import { isSourceType, SOURCE_TYPES } from '../vocabulary.ts';
import { readDate } from '../ingest/values.ts';
import { parseMoney, type Money } from '../money.ts';
import { closestName } from './closest-name.ts';
import {
  normaliseBankName,
  type DatedRate,
  type FeeRule,
  type FeeSchedule,
  type RefundFeeReversal,
  type RuleFields,
  type Validity,
} from './fee-schedule.ts';

/**
 * docs/reference.md §3.3, checked strictly: a fee schedule is configuration, and a rule that is read wrongly
 * (a misspelt key is ignored and the rule then matches everything, a rate of `"2.5"` meant as a
 * percentage) would mark every charge wrong or, worse, right. Every problem is one
 * `ReconError('INPUT')` line naming the file and the place: `fees.json: rules[3]: unknown field
 * 'rat' (did you mean 'rate'?)` (exit 2, before anything is ingested).
 */

type Json = Record<string, unknown>;

const TOP_KEYS = ['vat_rate', 'refund_fee_reversal', 'rules'];
const VALIDITY_KEYS = ['valid_from', 'valid_to'];
const VAT_KEYS = ['rate', ...VALIDITY_KEYS];
const RULE_KEYS = ['rate', 'fixed', 'min', 'max', 'source_type', 'brand', 'issuer_bank', 'mid', 'currency', 'ipan_mode', 'term', ...VALIDITY_KEYS];
const REVERSALS: readonly RefundFeeReversal[] = ['none', 'pro_rata'];

export async function loadFeeSchedule(file: string): Promise<{ schedule: FeeSchedule; json: object }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new ReconError('INPUT', `fee schedule ${file}: ${why}`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new ReconError('INPUT', `${file}: not valid JSON (${(error as Error).message})`, { cause: error });
  }
  return { schedule: parseFeeSchedule(json, file), json: json as object };
}

/** `source` names the file (or the stored schedule) in messages. */
export function parseFeeSchedule(json: unknown, source = 'fee schedule'): FeeSchedule {
  const fail = (where: string, why: string) => new ReconError('INPUT', `${source}: ${where ? `${where}: ` : ''}${why}`);
  if (!isObject(json)) throw fail('', 'not a JSON object ({ "vat_rate": …, "rules": [ … ] })');
  checkKeys(json, TOP_KEYS, '', fail);
  const vatRates = parseVatRates(json.vat_rate, fail);
  const reversal = json.refund_fee_reversal ?? 'none';
  if (!REVERSALS.includes(reversal as RefundFeeReversal)) {
    throw fail('refund_fee_reversal', `must be ${REVERSALS.map((r) => `"${r}"`).join(' or ')}, not ${JSON.stringify(reversal)}`);
  }
  if (!Array.isArray(json.rules)) throw fail('rules', 'must be a list of rules');
  const rules = json.rules.map((rule, index) => parseRule(rule, index, fail));
  checkNoOverlappingRules(rules, fail);
  return { vatRates, refundFeeReversal: reversal as RefundFeeReversal, rules };
}

type Fail = (where: string, why: string) => ReconError;

function parseVatRates(value: unknown, fail: Fail): DatedRate[] {
  if (typeof value === 'string' || typeof value === 'number') return [{ rate: rate(value, 'vat_rate', fail) }];
  if (!Array.isArray(value) || value.length === 0) {
    throw fail('vat_rate', 'must be a decimal string such as "0.07", or a list such as [{ "rate": "0.07", "valid_from": "2024-10-01" }]');
  }
  const entries = value.map((entry, i) => {
    const where = `vat_rate[${i}]`;
    if (!isObject(entry)) throw fail(where, 'must be an object such as { "rate": "0.07", "valid_from": "2024-10-01" }');
    checkKeys(entry, VAT_KEYS, where, fail);
    if (entry.rate === undefined) throw fail(where, 'has no rate');
    return { rate: rate(entry.rate, `${where}.rate`, fail), ...validity(entry, where, fail) };
  });
  entries.forEach((entry, i) => {
    const earlier = entries.findIndex((other, j) => j < i && overlaps(other, entry));
    if (earlier >= 0) throw fail(`vat_rate[${i}]`, `its dates overlap vat_rate[${earlier}] (${span(entries[earlier]!)} and ${span(entry)})`);
  });
  return entries;
}

function parseRule(value: unknown, index: number, fail: Fail): FeeRule {
  const where = `rules[${index}]`;
  if (!isObject(value)) throw fail(where, 'must be an object such as { "source_type": "card", "rate": "0.025" }');
  checkKeys(value, RULE_KEYS, where, fail);
  if (value.rate === undefined) throw fail(where, 'has no rate');
  const amount = (key: string) => (value[key] === undefined ? undefined : nonNegative(value[key], `${where}.${key}`, fail));
  const rule: FeeRule = {
    index,
    rate: rate(value.rate, `${where}.rate`, fail),
    ...defined({ fixed: amount('fixed'), min: amount('min'), max: amount('max') }),
    ...matchFields(value, where, fail),
    ...validity(value, where, fail),
  };
  if (rule.min && rule.max && rule.min.greaterThan(rule.max)) {
    throw fail(where, `min ${rule.min.toFixed(2)} is more than max ${rule.max.toFixed(2)}`);
  }
  return rule;
}

function matchFields(rule: Json, where: string, fail: Fail): RuleFields {
  const text = (key: string): string | undefined => {
    const value = rule[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value.trim() === '') {
      throw fail(`${where}.${key}`, `must be a non-empty string (in quotes), not ${JSON.stringify(value)}`);
    }
    return value.trim();
  };
  const sourceType = text('source_type')?.toLowerCase();
  if (sourceType !== undefined && !isSourceType(sourceType)) {
    throw fail(`${where}.source_type`, `unknown source type '${sourceType}' (one of ${SOURCE_TYPES.join(', ')})`);
  }
  const currency = text('currency')?.toUpperCase();
  if (currency !== undefined && !/^[A-Z]{3}$/.test(currency)) throw fail(`${where}.currency`, `'${currency}' is not a 3-letter ISO code`);
  const issuerBank = text('issuer_bank');
  return defined({
    sourceType,
    brand: text('brand')?.toLowerCase(),
    issuerBank: issuerBank === undefined ? undefined : normaliseBankName(issuerBank),
    mid: text('mid'),
    currency,
    ipanMode: text('ipan_mode'),
    term: term(rule.term, `${where}.term`, fail),
  });
}

function term(value: unknown, where: string, fail: Fail): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw fail(where, `must be a whole number of months such as 10, not ${JSON.stringify(value)}`);
  return n;
}

function validity(object: Json, where: string, fail: Fail): Validity {
  const date = (key: string): string | undefined => {
    const value = object[key];
    if (value === undefined) return undefined;
    const read = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) ? readDate(value, key) : undefined;
    // readDate would also turn a Buddhist-era year into a Christian one: only an unchanged date is accepted.
    if (!read?.ok || read.value !== value) throw fail(`${where}.${key}`, `must be a date YYYY-MM-DD (Christian era), not ${JSON.stringify(value)}`);
    return value;
  };
  const dates = defined({ validFrom: date('valid_from'), validTo: date('valid_to') });
  if (dates.validFrom && dates.validTo && dates.validFrom > dates.validTo) {
    throw fail(where, `valid_from ${dates.validFrom} is after valid_to ${dates.validTo}`);
  }
  return dates;
}

/**
 * Two rules narrowed by the same fields to the same values, valid on a common day: the second
 * would silently never apply on those days, so the file cannot mean what it says.
 */
function checkNoOverlappingRules(rules: readonly FeeRule[], fail: Fail): void {
  const byFields = new Map<string, FeeRule[]>();
  for (const rule of rules) {
    const key = JSON.stringify(MATCH_FIELDS.map(([, name]) => rule[name] ?? null));
    const same = byFields.get(key) ?? [];
    const clash = same.find((other) => overlaps(other, rule));
    if (clash) {
      const fields = MATCH_FIELDS.filter(([, name]) => rule[name] !== undefined).map(([key, name]) => `${key} ${rule[name]}`);
      throw fail(
        `rules[${rule.index}]`,
        `same fields as rules[${clash.index}] (${fields.join(', ') || 'none'}) and their dates overlap (${span(clash)} and ${span(rule)}); give one of them valid_from/valid_to`,
      );
    }
    byFields.set(key, [...same, rule]);
  }
}

/** Each matchable key of the file and the field it becomes. */
const MATCH_FIELDS = [
  ['source_type', 'sourceType'], ['brand', 'brand'], ['issuer_bank', 'issuerBank'], ['mid', 'mid'],
  ['currency', 'currency'], ['ipan_mode', 'ipanMode'], ['term', 'term'],
] as const satisfies readonly (readonly [string, keyof RuleFields])[];

function overlaps(a: Validity, b: Validity): boolean {
  return (a.validFrom ?? '') <= (b.validTo ?? '9999-12-31') && (b.validFrom ?? '') <= (a.validTo ?? '9999-12-31');
}

function span(v: Validity): string {
  return `${v.validFrom ?? 'always'} to ${v.validTo ?? 'open'}`;
}

function checkKeys(object: Json, known: readonly string[], where: string, fail: Fail): void {
  for (const key of Object.keys(object)) {
    if (known.includes(key)) continue;
    const guess = closestName(key, known);
    throw fail(where, `unknown field '${key}'${guess ? ` (did you mean '${guess}'?)` : ` (known: ${known.join(', ')})`}`);
  }
}

/** A rate: a decimal string in [0, 1). */
function rate(value: unknown, where: string, fail: Fail): Money {
  const parsed = decimal(value, where, fail, '"0.025"');
  if (parsed.isNegative() || parsed.greaterThanOrEqualTo(1)) {
    throw fail(where, `${parsed.toString()} is outside [0, 1): a rate is a fraction, 2.5 % is "0.025"`);
  }
  return parsed;
}

function nonNegative(value: unknown, where: string, fail: Fail): Money {
  const parsed = decimal(value, where, fail, '"5.00"');
  if (parsed.isNegative()) throw fail(where, `${parsed.toString()} is negative`);
  return parsed;
}

function decimal(value: unknown, where: string, fail: Fail, example: string): Money {
  const parsed = typeof value === 'string' ? parseMoney(value) : undefined;
  if (parsed) return parsed;
  const hint = typeof value === 'number' ? ' (write it in quotes, so no digit is lost to binary floating point)' : '';
  throw fail(where, `must be a decimal string such as ${example}, not ${JSON.stringify(value)}${hint}`);
}

/** The object without its `undefined` values, so optional fields stay absent. */
function defined<T extends object>(object: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
