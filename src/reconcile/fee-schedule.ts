import { readFile } from 'node:fs/promises';
import { ReconError } from '../errors.ts';
import { parseMoney, toSatang, type Money } from '../money.ts';

/** Contract §3.3. Rates are decimal strings; the first rule whose given fields all match wins. */
export interface FeeSchedule {
  readonly vatRate: Money;
  readonly rules: readonly FeeRule[];
}

export interface FeeRule {
  readonly rate: Money;
  readonly sourceType?: string;
  readonly brand?: string;
  readonly mid?: string;
  readonly currency?: string;
  readonly ipanMode?: string;
  readonly term?: number;
}

/** What a rule can match on for one charge. */
export interface FeeSubject {
  sourceType: string;
  brand?: string | null;
  mid?: string | null;
  currency: string;
  ipanMode?: string | null;
  term?: number | null;
}

export interface ExpectedFees {
  mdr: Money;
  vat: Money;
  net: Money;
}

export async function loadFeeSchedule(file: string): Promise<{ schedule: FeeSchedule; json: object }> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new ReconError('INPUT', `fee schedule ${file}: ${why}`, { cause: error });
  }
  return { schedule: parseFeeSchedule(json, file), json: json as object };
}

export function parseFeeSchedule(json: unknown, source = 'fee schedule'): FeeSchedule {
  const bad = (why: string) => new ReconError('INPUT', `${source}: ${why}`);
  if (typeof json !== 'object' || json === null) throw bad('not a JSON object');
  const { vat_rate: vatText, rules } = json as { vat_rate?: unknown; rules?: unknown };
  const vatRate = typeof vatText === 'string' ? parseMoney(vatText) : undefined;
  if (!vatRate) throw bad(`vat_rate must be a decimal string such as "0.07"`);
  if (!Array.isArray(rules)) throw bad('rules must be a list');
  return {
    vatRate,
    rules: rules.map((rule: Record<string, unknown>, i) => {
      const rate = typeof rule?.rate === 'string' ? parseMoney(rule.rate) : undefined;
      if (!rate) throw bad(`rules[${i}].rate must be a decimal string such as "0.025"`);
      const text = (key: string) => (rule[key] === undefined ? undefined : String(rule[key]));
      const term = rule.term === undefined ? undefined : Number(rule.term);
      if (term !== undefined && !Number.isInteger(term)) throw bad(`rules[${i}].term must be a whole number`);
      return {
        rate,
        sourceType: text('source_type')?.toLowerCase(),
        brand: text('brand')?.toLowerCase(),
        mid: text('mid'),
        currency: text('currency')?.toUpperCase(),
        ipanMode: text('ipan_mode'),
        term,
      };
    }),
  };
}

export function findRule(schedule: FeeSchedule, subject: FeeSubject): FeeRule | undefined {
  return schedule.rules.find(
    (rule) =>
      (rule.sourceType === undefined || rule.sourceType === subject.sourceType.toLowerCase()) &&
      (rule.brand === undefined || rule.brand === subject.brand?.toLowerCase()) &&
      (rule.mid === undefined || rule.mid === subject.mid) &&
      (rule.currency === undefined || rule.currency === subject.currency.toUpperCase()) &&
      (rule.ipanMode === undefined || rule.ipanMode === subject.ipanMode) &&
      (rule.term === undefined || rule.term === subject.term),
  );
}

/** MDR = round_half_up(base × rate, 2), VAT = round_half_up(MDR × vat_rate, 2), net = base − MDR − VAT. */
export function feesFor(base: Money, rate: Money, vatRate: Money): ExpectedFees {
  const mdr = toSatang(base.times(rate));
  const vat = toSatang(mdr.times(vatRate));
  return { mdr, vat, net: base.minus(mdr).minus(vat) };
}
