import Decimal from 'decimal.js';
import { describe, expect, it } from 'vitest';
import { formatMoneyGrouped, money, moneyReusing, sameAmount, sameDigits, toSatang, ZERO, type Money } from '../src/money.ts';
import { seededRandom } from '../src/simulator/prng.ts';

/**
 * The fast paths in src/money.ts skip decimal.js work, so each is compared here with plain
 * decimal.js over many seeded random cases and the edge cases: negative, zero and -0, many
 * decimals, leading and trailing zeros, large values, texts `money` refuses.
 */

const random = seededRandom(20261130);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const digits = (n: number) => Array.from({ length: n }, () => String(Math.floor(random() * 10))).join('');

/** A plain decimal text: sign, leading zeros, 0 to 30 integer digits, 0 to 14 decimals, trailing zeros. */
function randomText(): string {
  const sign = random() < 0.2 ? '-' : '';
  const lead = random() < 0.1 ? '0'.repeat(1 + Math.floor(random() * 3)) : '';
  const whole = pick(['0', digits(1), digits(3), digits(6), digits(7), digits(8), digits(14), digits(30)]).replace(/^0+(?=\d)/, '');
  const decimals = pick([0, 0, 1, 2, 2, 2, 3, 5, 7, 8, 14]);
  const fraction = decimals === 0 ? '' : `.${digits(decimals)}${random() < 0.2 ? '0'.repeat(1 + Math.floor(random() * 4)) : ''}`;
  return `${sign}${lead}${whole}${fraction}`;
}

const EDGE_TEXTS = [
  '0', '0.00', '-0', '-0.00', '00', '00.10', '0.10', '0.1', '1000.00', '1000', '1000.', '.5', '1e5', '1E-2', '', ' 1.00', '1.00 ',
  '+1.00', '786.60', '786.6', '786.600000', '-786.60', '0.000000001', '0.0000001', '123456789012345678901234567890.12',
  '99999999999999999999999999999999999999999999.99', 'NaN', 'Infinity', '-Infinity', '1,000.00',
];

/** Sign, exponent, digits and decimal context: what decides every result decimal.js gives. */
function shape(value: Money): string {
  return `${value.s} ${value.e} [${value.d?.join(',')}] ${value.constructor === ZERO.constructor ? 'money' : 'other context'}`;
}

function outcome(f: () => Money): string {
  try {
    return shape(f());
  } catch (error) {
    return `threw ${String(error)}`;
  }
}

/** Money values to reuse: the text's own value, values near it, arithmetic results, odd ones. */
function candidatesFor(text: string): Money[] {
  const found: Money[] = [ZERO, money('-0'), money('0.00'), new Decimal(NaN) as Money, new Decimal(Infinity) as Money];
  if (!outcome(() => money(text)).startsWith('threw')) {
    const value = money(text);
    // The same digits in decimal.js's default context (other precision and rounding) are not reused.
    // A digit just above or below the text's places: the text's own digits match, but not all of them.
    const plain = text.trim();
    const unsigned = plain.replace(/^-/, '');
    found.push(money(`${plain.startsWith('-') ? '-' : ''}1${unsigned}`), money(`${plain}${plain.includes('.') ? '' : '.'}1`));
    found.push(value, new Decimal(value.toString()) as Money, value.negated(), value.plus('0.01'), value.minus('0.001'), value.times('10'), value.dividedBy('10'), toSatang(value), value.times('1.00'));
  }
  found.push(money(randomText()), money(randomText()).times(money(randomText())));
  return found;
}

describe('moneyReusing', () => {
  it('gives what money(text) gives, over random and edge texts and candidates', () => {
    const texts = [...EDGE_TEXTS, ...Array.from({ length: 8_000 }, randomText)];
    let reused = 0;
    for (const text of texts) {
      for (const known of candidatesFor(text)) {
        const expected = outcome(() => money(text));
        const got = outcome(() => moneyReusing(text, known));
        // `expect` only on a difference: it is slow, and there are some 100,000 cases.
        if (got !== expected) expect(got, `${JSON.stringify(text)} with ${known.toString()}`).toBe(expected);
        if (!expected.startsWith('threw') && moneyReusing(text, known) === known) reused++;
      }
    }
    // The fast path is taken, not only proved harmless.
    expect(reused).toBeGreaterThan(6_000);
  });

  it('reuses the Money for the texts PostgreSQL writes for it', () => {
    for (const [text, value] of [['786.60', '786.6'], ['1000.00', '1000'], ['0.50', '0.5'], ['12.34', '12.34'], ['-5.00', '-5']] as const) {
      const known = money(value);
      expect(moneyReusing(text, known)).toBe(known);
    }
  });

  it('parses texts that are not exactly the value, and -0, anew', () => {
    const minusZero = money('-0');
    expect(moneyReusing('0.00', minusZero)).not.toBe(minusZero);
    expect(moneyReusing('0.00', minusZero).isNegative()).toBe(false);
    expect(moneyReusing('786.61', money('786.6')).toString()).toBe('786.61');
    expect(moneyReusing('0786.60', money('786.6')).toString()).toBe('786.6');
    expect(() => moneyReusing('786.6 x', money('786.6'))).toThrow(TypeError);
    // decimal.js writes these in exponent notation, which `money` refuses.
    expect(() => moneyReusing('1e-7', money('0.0000001'))).toThrow(TypeError);
    expect(() => moneyReusing('1e+21', money(`1${'0'.repeat(21)}`))).toThrow(TypeError);
  });
});

describe('sameDigits and sameAmount', () => {
  it('agree with decimal.js equals over random pairs, near pairs and edge values', () => {
    const values = [...EDGE_TEXTS.flatMap((t) => { try { return [money(t)]; } catch { return []; } }), new Decimal(NaN) as Money, new Decimal(Infinity) as Money, new Decimal(-Infinity) as Money];
    for (let i = 0; i < 20_000; i++) values.push(money(randomText()));
    for (let i = 0; i < values.length; i++) {
      const a = values[i]!;
      const pairs = [values[(i * 7919) % values.length]!, a, money(a.isFinite() ? a.toFixed() : '0'), a.negated(), a.plus('0.01'), toSatang(a.isFinite() ? a : ZERO)];
      for (const b of pairs) {
        const equal = a.equals(b);
        if (sameAmount(a, b) !== equal) expect(sameAmount(a, b), `${a.toString()} = ${b.toString()}`).toBe(equal);
        // Same digits is sufficient for equality, never a different verdict.
        if (sameDigits(a, b) && !(equal && a.toString() === b.toString() && a.isNegative() === b.isNegative())) expect.fail(`${a.toString()} and ${b.toString()}: same digits`);
      }
    }
  });
});

describe('formatMoneyGrouped', () => {
  it('groups thousands with commas and keeps two decimals, rounding half up', () => {
    expect(formatMoneyGrouped(money('12135238.34'))).toBe('12,135,238.34');
    expect(formatMoneyGrouped(money('999.995'))).toBe('1,000.00');
    expect(formatMoneyGrouped(money('-1234567'))).toBe('-1,234,567.00');
    expect(formatMoneyGrouped(money('0.5'))).toBe('0.50');
    expect(formatMoneyGrouped(money('100'))).toBe('100.00');
  });
});
