import { describe, expect, it } from 'vitest';
import { ReconError } from '../../src/errors.ts';
import { money } from '../../src/money.ts';
import { closestName } from '../../src/reconcile/closest-name.ts';
import { findRule, proRataMdr, ruleMdr, vatOn, vatRateOn, type FeeSubject } from '../../src/reconcile/fee-schedule.ts';
import { parseFeeSchedule } from '../../src/reconcile/fee-schedule-parse.ts';

/** The message a schedule is rejected with (and that it is rejected as bad input: exit 2). */
function rejection(json: unknown): string {
  try {
    parseFeeSchedule(json, 'fees.json');
  } catch (error) {
    expect(error).toBeInstanceOf(ReconError);
    expect((error as ReconError).code).toBe('INPUT');
    expect((error as Error).message).not.toContain('\n');
    return (error as Error).message;
  }
  throw new Error('the schedule was accepted');
}
const withRules = (...rules: object[]) => ({ vat_rate: '0.07', rules });
const card = (over: Partial<FeeSubject> = {}): FeeSubject => ({ sourceType: 'card', currency: 'THB', date: '2026-03-15', ...over });
/** The example of docs/reference.md §3.3, with `pro_rata` and a rate that ended (`valid_to`). */
const EXAMPLE = {
  vat_rate: '0.07',
  refund_fee_reversal: 'pro_rata',
  rules: [
    { source_type: 'card', ipan_mode: '01', term: 10, rate: '0.065' },
    { source_type: 'card', brand: 'visa', issuer_bank: 'kasikorn', rate: '0.018' },
    { source_type: 'card', brand: 'visa', rate: '0.025', valid_from: '2026-01-01' },
    { source_type: 'card', brand: 'visa', rate: '0.027', valid_to: '2025-12-31' },
    { source_type: 'unionpay', rate: '0.02', fixed: '1.00' },
    { source_type: 'card', rate: '0.028', min: '5.00', max: '500.00' },
  ],
};
const rateOf = (json: object, subject: FeeSubject) => findRule(parseFeeSchedule(json), subject)?.rate.toString();

describe('fee schedule: what is rejected, naming the rule', () => {
  it.each([
    [withRules({ source_type: 'card', rate: '0.02' }, { rat: '0.025' }), "fees.json: rules[1]: unknown field 'rat' (did you mean 'rate'?)"],
    [withRules({ rate: '0.025', Valid_To: '2026-01-01' }), "fees.json: rules[0]: unknown field 'Valid_To' (did you mean 'valid_to'?)"],
    [withRules({ rate: '0.025', issuerbank: 'kasikorn' }), "fees.json: rules[0]: unknown field 'issuerbank' (did you mean 'issuer_bank'?)"],
    [{ vat_rate: '0.07', rules: [], refund_fee_reversl: 'pro_rata' }, "fees.json: unknown field 'refund_fee_reversl' (did you mean 'refund_fee_reversal'?)"],
    [{ vat_rate: [{ rate: '0.07', from: '2024-01-01' }], rules: [] }, "fees.json: vat_rate[0]: unknown field 'from' (known: rate, valid_from, valid_to)"],
  ])('an unknown or misspelt key at any level: %j', (json, message) => {
    expect(rejection(json)).toBe(message);
  });

  it('a rate outside [0, 1), a negative one, a percentage written as a number of percent', () => {
    expect(rejection(withRules({ rate: '1' }))).toMatch(/^fees\.json: rules\[0\]\.rate: 1 is outside \[0, 1\)/);
    expect(rejection(withRules({ rate: '2.5' }))).toMatch(/rules\[0\]\.rate: 2\.5 is outside \[0, 1\).*"0\.025"/);
    expect(rejection(withRules({ rate: '-0.01' }))).toMatch(/rules\[0\]\.rate: -0\.01 is outside \[0, 1\)/);
    expect(rejection({ vat_rate: '7', rules: [] })).toMatch(/^fees\.json: vat_rate: 7 is outside \[0, 1\)/);
    // The bounds themselves: 0 is a rate (a free scheme), 0.9999 too.
    expect(() => parseFeeSchedule(withRules({ source_type: 'qr', rate: '0' }, { rate: '0.9999' }))).not.toThrow();
  });

  it('non-decimal strings and numbers where a decimal string is required', () => {
    expect(rejection(withRules({ rate: '2,5%' }))).toBe('fees.json: rules[0].rate: must be a decimal string such as "0.025", not "2,5%"');
    expect(rejection(withRules({ rate: '1e-2' }))).toMatch(/rules\[0\]\.rate: must be a decimal string/);
    expect(rejection(withRules({ rate: 0.025 }))).toMatch(/rules\[0\]\.rate: must be a decimal string .*not 0\.025 \(write it in quotes/);
    expect(rejection(withRules({ rate: '0.02', fixed: 'one baht' }))).toMatch(/rules\[0\]\.fixed: must be a decimal string such as "5\.00"/);
    expect(rejection({ rules: [] })).toMatch(/^fees\.json: vat_rate: must be a decimal string such as "0\.07", or a list/);
  });

  it('a negative fixed, min or max, and min above max (min = max is a flat fee, allowed)', () => {
    expect(rejection(withRules({ rate: '0.02', fixed: '-1.00' }))).toBe('fees.json: rules[0].fixed: -1 is negative');
    expect(rejection(withRules({ rate: '0.02', min: '-0.01' }))).toBe('fees.json: rules[0].min: -0.01 is negative');
    expect(rejection(withRules({ rate: '0.02', max: '-5' }))).toBe('fees.json: rules[0].max: -5 is negative');
    expect(rejection(withRules({ rate: '0.02', min: '10.00', max: '9.99' }))).toBe('fees.json: rules[0]: min 10.00 is more than max 9.99');
    expect(() => parseFeeSchedule(withRules({ rate: '0.02', min: '10.00', max: '10.00' }))).not.toThrow();
  });

  it('dates that are not YYYY-MM-DD calendar dates, and valid_from after valid_to', () => {
    for (const bad of ['01/01/2026', '2026-1-1', '2026-02-30', '2569-01-01T00:00', 20260101]) {
      expect(rejection(withRules({ rate: '0.02', valid_from: bad }))).toMatch(/^fees\.json: rules\[0\]\.valid_from: must be a date YYYY-MM-DD/);
    }
    expect(rejection(withRules({ rate: '0.02', valid_from: '2026-02-01', valid_to: '2026-01-31' }))).toBe(
      'fees.json: rules[0]: valid_from 2026-02-01 is after valid_to 2026-01-31',
    );
    // One day is a valid period.
    expect(() => parseFeeSchedule(withRules({ rate: '0.02', valid_from: '2026-02-01', valid_to: '2026-02-01' }))).not.toThrow();
  });

  it('two rules with the same fields whose dates overlap, even by one day; brand and issuer bank compared as matched', () => {
    expect(
      rejection(withRules(
        { source_type: 'card', brand: 'visa', rate: '0.027', valid_to: '2026-01-01' },
        { source_type: 'card', rate: '0.03' },
        { source_type: 'card', brand: 'VISA', rate: '0.025', valid_from: '2026-01-01' },
      )),
    ).toBe(
      'fees.json: rules[2]: same fields as rules[0] (source_type card, brand visa) and their dates overlap (always to 2026-01-01 and 2026-01-01 to open); give one of them valid_from/valid_to',
    );
    expect(rejection(withRules({ issuer_bank: 'Kasikorn Bank', rate: '0.01' }, { issuer_bank: 'kasikornbank', rate: '0.02' }))).toMatch(/^fees\.json: rules\[1\]: same fields as rules\[0\]/);
    // The day after is no overlap; different fields are no overlap (the first match wins by design).
    expect(() =>
      parseFeeSchedule(withRules(
        { source_type: 'card', brand: 'visa', rate: '0.027', valid_to: '2025-12-31' },
        { source_type: 'card', brand: 'visa', rate: '0.025', valid_from: '2026-01-01' },
        { source_type: 'card', rate: '0.03' },
      )),
    ).not.toThrow();
  });

  it('overlapping vat_rate entries, an empty list, an entry without rate', () => {
    expect(rejection({ vat_rate: [{ rate: '0.07', valid_to: '2024-09-30' }, { rate: '0.10', valid_from: '2024-09-30' }], rules: [] })).toBe(
      'fees.json: vat_rate[1]: its dates overlap vat_rate[0] (always to 2024-09-30 and 2024-09-30 to open)',
    );
    expect(rejection({ vat_rate: [], rules: [] })).toMatch(/^fees\.json: vat_rate: must be/);
    expect(rejection({ vat_rate: [{ valid_from: '2024-10-01' }], rules: [] })).toBe('fees.json: vat_rate[0]: has no rate');
  });

  it('wrong shapes and types: not an object, rules not a list, a rule not an object, bad match values', () => {
    expect(rejection([])).toMatch(/^fees\.json: not a JSON object/);
    expect(rejection({ vat_rate: '0.07', rules: {} })).toBe('fees.json: rules: must be a list of rules');
    expect(rejection({ vat_rate: '0.07', rules: ['card 2.5%'] })).toMatch(/^fees\.json: rules\[0\]: must be an object/);
    expect(rejection(withRules({ source_type: 'crad', rate: '0.02' }))).toMatch(/rules\[0\]\.source_type: unknown source type 'crad'/);
    expect(rejection(withRules({ ipan_mode: 1, rate: '0.02' }))).toMatch(/rules\[0\]\.ipan_mode: must be a non-empty string \(in quotes\), not 1/);
    expect(rejection(withRules({ term: 2.5, rate: '0.02' }))).toMatch(/rules\[0\]\.term: must be a whole number of months/);
    expect(rejection(withRules({ currency: 'baht', rate: '0.02' }))).toMatch(/rules\[0\]\.currency: 'BAHT' is not a 3-letter ISO code/);
    expect(rejection({ vat_rate: '0.07', refund_fee_reversal: 'prorata', rules: [] })).toBe('fees.json: refund_fee_reversal: must be "none" or "pro_rata", not "prorata"');
    expect(rejection(withRules({ source_type: 'card' }))).toBe('fees.json: rules[0]: has no rate');
  });

  it('accepts the reference’s example (§3.3), with pro_rata and none as the default', () => {
    const schedule = parseFeeSchedule(EXAMPLE);
    expect(schedule.refundFeeReversal).toBe('pro_rata');
    expect(schedule.rules).toHaveLength(6);
    expect(parseFeeSchedule({ vat_rate: '0.07', rules: [] }).refundFeeReversal).toBe('none');
  });
});

describe('fee schedule: which rule applies', () => {
  const schedule = EXAMPLE;
  it('the first rule whose given fields all match; brand case-insensitive', () => {
    expect(rateOf(schedule, card({ brand: 'VISA', ipanMode: '01', term: 10 }))).toBe('0.065');
    expect(rateOf(schedule, card({ brand: 'VISA', ipanMode: '01', term: 6 }))).toBe('0.025');
    expect(rateOf(schedule, card({ brand: 'jcb' }))).toBe('0.028');
    expect(rateOf(schedule, { sourceType: 'qr', currency: 'THB', date: '2026-03-15' })).toBeUndefined();
  });
  it('issuer_bank: the guide’s spellings of KBank all contain "kasikorn", ignoring case and spaces', () => {
    for (const issuerBank of ['Kasikornbank Public Limited', 'Kasikornbank Public Company Limited', 'KASIKORN BANK PUBLIC COMPANY LIMITED']) {
      expect(rateOf(schedule, card({ brand: 'visa', issuerBank }))).toBe('0.018');
    }
    expect(rateOf(schedule, card({ brand: 'visa', issuerBank: 'Bangkok Bank Public Company Limited' }))).toBe('0.025');
    expect(rateOf(schedule, card({ brand: 'visa', issuerBank: null }))).toBe('0.025');
    // The rule's own spaces do not matter either.
    expect(rateOf(withRules({ issuer_bank: 'Kasikorn Bank', rate: '0.01' }), card({ issuerBank: 'KASIKORNBANK' }))).toBe('0.01');
  });
  it('valid_to is inclusive: the rule applies on its last day and not the day after', () => {
    expect(rateOf(schedule, card({ brand: 'visa', date: '2025-12-31' }))).toBe('0.027');
    expect(rateOf(schedule, card({ brand: 'visa', date: '2026-01-01' }))).toBe('0.025');
    const ending = withRules({ source_type: 'card', rate: '0.02', valid_to: '2026-03-15' });
    expect(rateOf(ending, card({ date: '2026-03-15' }))).toBe('0.02');
    expect(rateOf(ending, card({ date: '2026-03-16' }))).toBeUndefined();
    const starting = withRules({ source_type: 'card', rate: '0.02', valid_from: '2026-03-15' });
    expect(rateOf(starting, card({ date: '2026-03-14' }))).toBeUndefined();
    expect(rateOf(starting, card({ date: '2026-03-15' }))).toBe('0.02');
  });
  it('mid, currency and term narrow a rule; a term given as text "10" is the number 10', () => {
    const json = withRules({ mid: '401202106042001', currency: 'usd', term: '10', rate: '0.03' }, { rate: '0.02' });
    expect(rateOf(json, card({ mid: '401202106042001', currency: 'USD', term: 10 }))).toBe('0.03');
    expect(rateOf(json, card({ mid: '401202106042002', currency: 'USD', term: 10 }))).toBe('0.02');
    expect(rateOf(json, card({ mid: '401202106042001', currency: 'THB', term: 10 }))).toBe('0.02');
  });
  it('the vat_rate list switches on its first day; a day no entry covers has no rate', () => {
    const dated = parseFeeSchedule({
      vat_rate: [{ rate: '0.07', valid_to: '2026-09-30' }, { rate: '0.10', valid_from: '2026-10-01', valid_to: '2027-12-31' }],
      rules: [],
    });
    expect(vatRateOn(dated, '2026-09-30')?.toString()).toBe('0.07');
    expect(vatRateOn(dated, '2026-10-01')?.toString()).toBe('0.1');
    expect(vatRateOn(dated, '2028-01-01')).toBeUndefined();
    expect(vatRateOn(parseFeeSchedule({ vat_rate: '0.07', rules: [] }), '1999-01-01')?.toString()).toBe('0.07');
  });
});

describe('fee arithmetic', () => {
  const rule = (json: object) => parseFeeSchedule(withRules(json)).rules[0]!;
  const mdr = (json: object, base: string) => ruleMdr(rule(json), money(base)).toFixed(2);
  it('the guide’s sample: 11 THB at 2.5 % → MDR 0.28 (0.275 half-up), VAT 0.02 (0.0196)', () => {
    expect(mdr({ rate: '0.025' }, '11')).toBe('0.28');
    expect(vatOn(money('0.28'), money('0.07')).toFixed(2)).toBe('0.02');
  });
  it('rounds a half satang up, and just under half down', () => {
    expect(mdr({ rate: '0.025' }, '10.10')).toBe('0.25'); // 0.2525
    expect(mdr({ rate: '0.025' }, '10.20')).toBe('0.26'); // 0.255
  });
  it('a fixed fee is added before rounding: 100.00 × 2 % + 1.00 = 3.00; 10.25 × 2 % + 1.00 = 1.205 → 1.21', () => {
    expect(mdr({ rate: '0.02', fixed: '1.00' }, '100.00')).toBe('3.00');
    expect(mdr({ rate: '0.02', fixed: '1.00' }, '10.25')).toBe('1.21');
  });
  it('min and max bound the MDR, and a computed MDR exactly at a bound is kept', () => {
    const bounded = { rate: '0.028', min: '5.00', max: '500.00' };
    expect(mdr(bounded, '100.00')).toBe('5.00'); // 2.80 → min
    expect(mdr(bounded, '178.57')).toBe('5.00'); // 4.99996 rounds to 5.00: exactly min
    expect(mdr(bounded, '178.39')).toBe('5.00'); // 4.99 → min
    expect(mdr(bounded, '200.00')).toBe('5.60'); // inside
    expect(mdr(bounded, '17857.14')).toBe('500.00'); // 499.99992 → 500.00: exactly max
    expect(mdr(bounded, '17857.50')).toBe('500.00'); // 500.01 → max
  });
  it('pro_rata: the refund’s share of the charge’s MDR, so a fixed fee, a minimum or a maximum is given back in proportion', () => {
    const share = (chargeMdr: string, refund: string, charge: string) => proRataMdr(money(chargeMdr), money(refund), money(charge)).toFixed(2);
    expect(share('0.28', '11.00', '11.00')).toBe('0.28'); // the guide's Inquiry sample: all of it
    expect(share('5.60', '50.00', '100.00')).toBe('2.80'); // a minimum of 5.60 on 100.00, half refunded
    expect(share('5.60', '100.00', '300.00')).toBe('1.87'); // 5.60 × 100 ÷ 300 = 1.8666… → 1.87
    expect(share('3.50', '25.00', '100.00')).toBe('0.88'); // 3.50 × 25 ÷ 100 = 0.875: half up → 0.88
    expect(share('0.01', '1.00', '300.00')).toBe('0.00'); // 0.0000333…
  });
});

describe('did you mean', () => {
  it('suggests a known name one or two edits away, ignoring case, and nothing for a stranger', () => {
    expect(closestName('rat', ['rate', 'fixed'])).toBe('rate');
    expect(closestName('VALID_TO', ['valid_from', 'valid_to'])).toBe('valid_to');
    expect(closestName('soruce_type', ['source_type'])).toBe('source_type');
    expect(closestName('comment', ['rate', 'min', 'max'])).toBeUndefined();
  });
});
