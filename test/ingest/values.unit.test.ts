import { describe, expect, it } from 'vitest';
import { readDate, readDecimal } from '../../src/ingest/values.ts';

const AMOUNT = { maxIntegerDigits: 12, sign: 'positive' } as const;

describe('readDate', () => {
  it.each([
    ['2024-05-01', '2024-05-01'],
    ['01/05/2024', '2024-05-01'],
    ['1/5/2024', '2024-05-01'],
    ['01/05/2567', '2024-05-01'],
    ['2567-05-01', '2024-05-01'],
    ['29/02/2567', '2024-02-29'],
  ])('%s → %s', (text, value) => expect(readDate(text, 'd')).toEqual({ ok: true, value }));

  it.each([
    ['29/02/2566', "d '29/02/2566' is not a calendar date"],
    ['2024/05/01', "d '2024/05/01' is not a date (YYYY-MM-DD or DD/MM/YYYY)"],
    ['05-01-2024', "d '05-01-2024' is not a date (YYYY-MM-DD or DD/MM/YYYY)"],
  ])('%s is rejected', (text, problem) => expect(readDate(text, 'd')).toEqual({ ok: false, problem }));
});

describe('readDecimal', () => {
  it.each([
    ['1234.5', '1234.50'],
    ['1,234.50', '1234.50'],
    ['1,234,567', '1234567.00'],
    ['0.01', '0.01'],
    [' 007.1 ', '7.10'],
  ])('%s → %s', (text, value) => expect(readDecimal(text, 'amount', AMOUNT)).toEqual({ ok: true, value }));

  it.each([
    ['12,34.5', "amount '12,34.5' is not a number"],
    ['1,2345', "amount '1,2345' is not a number"],
    [',123', "amount ',123' is not a number"],
    ['1.', "amount '1.' is not a number"],
    ['1e3', "amount '1e3' is not a number"],
    ['฿100', "amount '฿100' is not a number"],
    ['1.234', "amount '1.234' has more than 2 decimals"],
    ['0.00', "amount '0.00' is not a positive amount"],
    ['-5', "amount '-5' is not a positive amount"],
    ['1234567890123', "amount '1234567890123' is too large"],
  ])('%s is rejected', (text, problem) => expect(readDecimal(text, 'amount', AMOUNT)).toEqual({ ok: false, problem }));

  it('fees may be zero or negative', () => {
    expect(readDecimal('-1.5', 'mdr', { maxIntegerDigits: 12, sign: 'any' })).toEqual({ ok: true, value: '-1.50' });
    expect(readDecimal('0', 'mdr', { maxIntegerDigits: 12, sign: 'any' })).toEqual({ ok: true, value: '0.00' });
  });
});
