import { describe, expect, it } from 'vitest';
import { inquiryPath } from '../../src/gateway/inquiry-path.ts';
import { backoffDelay, parseRetryAfter, sleep } from '../../src/gateway/retry.ts';

describe('backoff with full jitter', () => {
  const options = { baseMs: 500, capMs: 30_000 };
  it('grows exponentially up to the cap, scaled by the random draw', () => {
    const top = (retry: number) => backoffDelay(retry, { ...options, random: () => 0.999999 });
    expect([0, 1, 2, 3, 10].map(top)).toEqual([499, 999, 1999, 3999, 29999]);
    expect(backoffDelay(3, { ...options, random: () => 0 })).toBe(0);
    expect(backoffDelay(2, { ...options, random: () => 0.5 })).toBe(1000);
  });

  it('never comes back sooner than Retry-After', () => {
    expect(backoffDelay(0, { ...options, random: () => 0.5 }, 2000)).toBe(2000);
    expect(backoffDelay(6, { ...options, random: () => 0.5 }, 2000)).toBe(15000);
  });
});

describe('Retry-After', () => {
  it('reads seconds and HTTP dates, ignores nonsense, caps absurd waits', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(' 0 ')).toBe(0);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('86400')).toBe(300_000);
  });
});

describe('sleep', () => {
  it('rejects with the abort reason', async () => {
    const controller = new AbortController();
    const waiting = sleep(10_000, controller.signal);
    controller.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
  });
});

describe('inquiryPath', () => {
  it('builds the card path with and without the date segment', () => {
    expect(inquiryPath({ family: 'card', id: 'chrg_prod_1' })).toBe('/card/v2/charge/chrg_prod_1');
    expect(inquiryPath({ family: 'card', id: 'chrg_prod_1', transactionDate: '20240131' })).toBe('/card/v2/charge/chrg_prod_1/20240131');
    expect(inquiryPath({ family: 'card', id: 'REF-1', transactionDate: '2024-01-31' })).toBe('/card/v2/charge/REF-1/20240131');
  });

  it('builds the QR path (which has no date segment)', () => {
    expect(inquiryPath({ family: 'qr', id: 'order_prod_9', transactionDate: '20240131' })).toBe('/qr/v2/qr/order_prod_9');
  });

  it('URL-encodes the merchant reference', () => {
    expect(inquiryPath({ family: 'card', id: 'INV 2024/01#7?ก' })).toBe('/card/v2/charge/INV%202024%2F01%237%3F%E0%B8%81');
  });

  it('refuses an empty id and a malformed date', () => {
    expect(() => inquiryPath({ family: 'card', id: '' })).toThrow(TypeError);
    expect(() => inquiryPath({ family: 'card', id: 'x', transactionDate: '31/01/2024' })).toThrow(/YYYYMMDD/);
  });
});
