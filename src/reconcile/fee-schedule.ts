import { toSatang, type Money } from '../money.ts';

/**
 * docs/reference.md §3.3. Rates and amounts are decimal strings in the file; the first rule whose given
 * fields all match wins. Built by `parseFeeSchedule` (`fee-schedule-parse.ts`), which rejects
 * anything ambiguous.
 */
export interface FeeSchedule {
  /** One entry for a plain `"vat_rate": "0.07"`; several, never overlapping, for a dated list. */
  readonly vatRates: readonly DatedRate[];
  readonly refundFeeReversal: RefundFeeReversal;
  readonly rules: readonly FeeRule[];
}

/**
 * `none`: refund fees are compared only with the ledger refund row's own figures. `pro_rata`: a
 * refund without ledger figures is expected to return its share of the charge's MDR.
 */
export type RefundFeeReversal = 'none' | 'pro_rata';

/** Inclusive `YYYY-MM-DD` bounds; a missing bound is open. */
export interface Validity {
  readonly validFrom?: string;
  readonly validTo?: string;
}

export interface DatedRate extends Validity {
  readonly rate: Money;
}

/** The fields a rule can be narrowed by, normalised for comparison (see {@link findRule}). */
export interface RuleFields {
  /** Lower case. */
  readonly sourceType?: string;
  /** Lower case. */
  readonly brand?: string;
  /** Lower case, without spaces: matched as a part of the gateway's issuer bank name. */
  readonly issuerBank?: string;
  readonly mid?: string;
  /** Upper case. */
  readonly currency?: string;
  readonly ipanMode?: string;
  readonly term?: number;
}

export interface FeeRule extends RuleFields, Validity {
  /** Its position in the file's `rules` (0-based), for messages. */
  readonly index: number;
  readonly rate: Money;
  /** Added to every charge's MDR before rounding. */
  readonly fixed?: Money;
  readonly min?: Money;
  readonly max?: Money;
}

/** What a rule can match on for one charge. */
export interface FeeSubject {
  readonly sourceType: string;
  /** The gateway's `source.brand`. */
  readonly brand?: string | null;
  /** The gateway's `source.issuer_bank`. */
  readonly issuerBank?: string | null;
  readonly mid?: string | null;
  readonly currency: string;
  readonly ipanMode?: string | null;
  readonly term?: number | null;
  /** The charge's `transaction_date`. */
  readonly date: string;
}

/** Issuer bank names as the guide writes them differ in case and spacing ("KASIKORN BANK", "Kasikornbank"). */
export function normaliseBankName(name: string): string {
  return name.toLowerCase().replace(/\s+/g, '');
}

function isValidOn(validity: Validity, date: string): boolean {
  return (validity.validFrom === undefined || validity.validFrom <= date) && (validity.validTo === undefined || date <= validity.validTo);
}

export function findRule(schedule: FeeSchedule, subject: FeeSubject): FeeRule | undefined {
  // Normalised once per charge, not once per rule tried; the bank name only if a rule names one.
  let issuerBank: string | undefined | null = null;
  const sourceType = subject.sourceType.toLowerCase();
  const brand = subject.brand?.toLowerCase();
  const currency = subject.currency.toUpperCase();
  // Loops, not `find`: this runs for every charge, and a callback would be made for each.
  for (const rule of schedule.rules) {
    if (rule.issuerBank !== undefined && issuerBank === null) issuerBank = subject.issuerBank ? normaliseBankName(subject.issuerBank) : undefined;
    if (
      (rule.sourceType === undefined || rule.sourceType === sourceType) &&
      (rule.brand === undefined || rule.brand === brand) &&
      (rule.issuerBank === undefined || (issuerBank?.includes(rule.issuerBank) ?? false)) &&
      (rule.mid === undefined || rule.mid === subject.mid) &&
      (rule.currency === undefined || rule.currency === currency) &&
      (rule.ipanMode === undefined || rule.ipanMode === subject.ipanMode) &&
      (rule.term === undefined || rule.term === subject.term) &&
      isValidOn(rule, subject.date)
    ) {
      return rule;
    }
  }
  return undefined;
}

/** The VAT rate in force on `date`; `undefined` when a dated list leaves that day out. */
export function vatRateOn(schedule: FeeSchedule, date: string): Money | undefined {
  for (const entry of schedule.vatRates) if (isValidOn(entry, date)) return entry.rate;
  return undefined;
}

/** MDR = round_half_up(base × rate + fixed, 2), then bounded by the rule's `min` and `max`. */
export function ruleMdr(rule: FeeRule, base: Money): Money {
  let mdr = toSatang(rule.fixed ? base.times(rule.rate).plus(rule.fixed) : base.times(rule.rate));
  if (rule.min && mdr.lessThan(rule.min)) mdr = rule.min;
  if (rule.max && mdr.greaterThan(rule.max)) mdr = rule.max;
  return mdr;
}

/** VAT = round_half_up(MDR × vat_rate, 2). */
export function vatOn(mdr: Money, vatRate: Money): Money {
  return toSatang(mdr.times(vatRate));
}

/**
 * A refund's share of the charge's MDR under `pro_rata`: round_half_up(charge MDR × refund amount
 * ÷ charge amount, 2), so a fixed fee, a minimum or a maximum is given back in proportion too.
 * `chargeAmount` is more than zero.
 */
export function proRataMdr(chargeMdr: Money, refundAmount: Money, chargeAmount: Money): Money {
  return toSatang(chargeMdr.times(refundAmount).dividedBy(chargeAmount));
}
