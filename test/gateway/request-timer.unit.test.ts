import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRequestTimer } from '../../src/gateway/request-timer.ts';

describe('request timer', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('aborts each request when its own timeout is up, not before', async () => {
    const timer = createRequestTimer(100, () => Date.now());
    const run = new AbortController().signal;
    const first = timer.start(run);
    await vi.advanceTimersByTimeAsync(60);
    const second = timer.start(run);
    await vi.advanceTimersByTimeAsync(40);
    expect([first.signal.aborted, first.timedOut]).toEqual([true, true]);
    expect((first.signal.reason as DOMException).name).toBe('TimeoutError');
    expect(second.signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(60);
    expect([second.signal.aborted, second.timedOut]).toEqual([true, true]);
  });

  it('leaves a request that ended alone, and keeps no timer once none is in flight', async () => {
    const timer = createRequestTimer(100, () => Date.now());
    const request = timer.start(new AbortController().signal);
    timer.end(request);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(200);
    expect([request.signal.aborted, request.timedOut]).toEqual([false, false]);
  });

  it('cancels only the requests started with the signal cancelled, with its reason', () => {
    const timer = createRequestTimer(100, () => Date.now());
    const one = new AbortController();
    const other = new AbortController();
    const a = timer.start(one.signal);
    const b = timer.start(other.signal);
    one.abort(new Error('stopped'));
    timer.cancel(one.signal);
    expect(a.signal.reason).toEqual(new Error('stopped'));
    expect([a.timedOut, b.signal.aborted]).toEqual([false, false]);
    // A request started after its signal aborted is aborted at once.
    expect(timer.start(one.signal).signal.aborted).toBe(true);
  });
});
