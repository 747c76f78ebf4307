import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRateLimiter } from '../../src/gateway/rate-limiter.ts';
import { maxInWindow } from '../../src/simulator/request-stats.ts';

// A fake clock: every grant time is exact, so the window property is checked without timing noise
// (the tests against the simulator check it again over real HTTP).
beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

async function grantTimes(rps: number, count: number, marginMs?: number): Promise<number[]> {
  const limiter = createRateLimiter({ rps, marginMs, now: () => Date.now() });
  const times: number[] = [];
  // Each request is answered the moment it is let go: the window then runs from the grants.
  const all = Array.from({ length: count }, () => limiter.acquire().then((permit) => void (times.push(Date.now()), permit.answered())));
  await vi.advanceTimersByTimeAsync(60_000);
  await Promise.all(all);
  return times;
}

describe('sliding-window rate limiter', () => {
  it('never grants more than the cap in any one-second window, with a backlog', async () => {
    const times = await grantTimes(10, 100);
    expect(times).toHaveLength(100);
    expect(maxInWindow(times, 1000)).toBe(10);
    // Also true for the window plus its margin.
    expect(maxInWindow(times, 1010)).toBe(10);
  });

  it('paces evenly and reaches over 95% of the cap', async () => {
    const times = await grantTimes(20, 200);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(50); // (1000 + 10) / 20, rounded down to the ms
    const seconds = (times.at(-1)! - times[0]!) / 1000;
    const achieved = (times.length - 1) / seconds / 20;
    expect(achieved).toBeGreaterThan(0.95);
    expect(achieved).toBeLessThanOrEqual(1);
  });

  it('holds the cap with no margin at all', async () => {
    const times = await grantTimes(7, 50, 0);
    expect(maxInWindow(times, 1000)).toBeLessThanOrEqual(7);
  });

  it('handles caps below one request per second', async () => {
    const times = await grantTimes(0.5, 4, 0);
    expect(times.slice(1).map((t, i) => t - times[i]!)).toEqual([2000, 2000, 2000]);
  });

  it('grants at once when idle, and after an idle spell starts afresh', async () => {
    const limiter = createRateLimiter({ rps: 5, now: () => Date.now() });
    const start = Date.now();
    await limiter.acquire();
    expect(Date.now()).toBe(start);
    await vi.advanceTimersByTimeAsync(10_000);
    const before = Date.now();
    await limiter.acquire();
    expect(Date.now()).toBe(before);
  });

  it('holds every grant during a pause (Retry-After)', async () => {
    const limiter = createRateLimiter({ rps: 100, now: () => Date.now() });
    const start = Date.now();
    limiter.pause(3000);
    let grantedAt = 0;
    const waiting = limiter.acquire().then(() => void (grantedAt = Date.now()));
    await vi.advanceTimersByTimeAsync(5000);
    await waiting;
    expect(grantedAt - start).toBeGreaterThanOrEqual(3000);
  });

  it('counts the window from when the request arrived: a slow answer holds the next request back', async () => {
    const limiter = createRateLimiter({ rps: 2, marginMs: 0, now: () => Date.now() });
    const start = Date.now();
    const first = await limiter.acquire();
    const pending = limiter.acquire(); // paced: 500 ms later
    await vi.advanceTimersByTimeAsync(500);
    const second = await pending;
    expect(Date.now() - start).toBe(500);
    let thirdAt = 0;
    const third = limiter.acquire().then(() => void (thirdAt = Date.now() - start));
    // The first request's answer begins 700 ms after it was let go: it may have arrived only then,
    // so the third goes a window after that, not a window after the first was let go.
    await vi.advanceTimersByTimeAsync(200);
    first.answered();
    second.answered();
    await vi.advanceTimersByTimeAsync(5000);
    await third;
    expect(thirdAt).toBe(1700);
  });

  it('takes an unanswered request to have arrived within the transit bound, so one hang holds nothing for long', async () => {
    const limiter = createRateLimiter({ rps: 1, marginMs: 0, transitMs: 300, now: () => Date.now() });
    const start = Date.now();
    await limiter.acquire(); // never answered
    let nextAt = 0;
    const next = limiter.acquire().then(() => void (nextAt = Date.now() - start));
    await vi.advanceTimersByTimeAsync(5000);
    await next;
    expect(nextAt).toBe(1300);
  });

  it('drops a waiter whose signal aborts, without blocking the others', async () => {
    const limiter = createRateLimiter({ rps: 1, marginMs: 0, now: () => Date.now() });
    (await limiter.acquire()).answered();
    const controller = new AbortController();
    const aborted = limiter.acquire(controller.signal);
    const next = limiter.acquire();
    controller.abort(new Error('gone'));
    await expect(aborted).rejects.toThrow('gone');
    expect(limiter.waiting).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    await next;
    expect(limiter.waiting).toBe(0);
  });

  it('is a no-op without a cap and refuses nonsense', async () => {
    const limiter = createRateLimiter({ rps: Infinity });
    await Promise.all(Array.from({ length: 1000 }, () => limiter.acquire()));
    expect(() => createRateLimiter({ rps: 0 })).toThrow(RangeError);
    expect(() => createRateLimiter({ rps: Number.NaN })).toThrow(RangeError);
  });
});

describe('quiet time, for the run of the same key that follows', () => {
  it('is a window after the last request arrived (its answer, or its transit bound while unanswered)', () => {
    let t = 0;
    const limiter = createRateLimiter({ rps: 2, marginMs: 10, transitMs: 1000, now: () => t });
    expect(limiter.quietInMs()).toBe(0);
    const first = limiter.tryAcquire()!;
    t = 50;
    first.answered();
    // Arrived by 50 at the latest; the window is 1,000 + 10 ms: quiet at 1,060.
    expect(limiter.quietInMs()).toBe(1010);
    t = 505;
    const second = limiter.tryAcquire()!;
    // Unanswered: taken to arrive by 505 + 1,000 at the latest, so quiet at 1,505 + 1,010 = 2,515.
    expect(limiter.quietInMs()).toBe(2515 - 505);
    t = 600;
    second.answered();
    // Answered at 600: quiet at 600 + 1,010 = 1,610.
    expect(limiter.quietInMs()).toBe(1010);
    t = 1610;
    expect(limiter.quietInMs()).toBe(0);
  });

  it('is none without a cap', () => {
    const limiter = createRateLimiter({ rps: Infinity });
    limiter.tryAcquire();
    expect(limiter.quietInMs()).toBe(0);
  });
});
