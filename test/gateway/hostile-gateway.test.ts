import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ReconError } from '../../src/errors.ts';
import { createInquiryClient, type InquiryClient } from '../../src/gateway/inquiry-client.ts';
import { buildCharge } from '../../src/sample/charge-builder.ts';
import { FAST, TEST_KEY, capturingLogger, gatewayConfig } from './helpers.ts';
import { MAX_ANSWER_BYTES } from '../../src/gateway/answer-body.ts';
import { answerText, closedPort, drip, flood, hang, redirect, startHostileServer, type HostileServer } from './hostile-gateway.ts';

/**
 * The server counts arrivals, which lag the limiter's grants by connection set-up and event-loop
 * delay (~180 ms for the first fetch of a process on a loaded machine): the limiter counts its
 * window from answers, so the cap holds where it is measured, with no margin to tune.
 */
const CAP = 5;
/** Long enough not to fire on a loaded machine; the hang and drip tests set a short one. */
const TIMEOUT_MS = 3000;
const SHORT_TIMEOUT_MS = 300;
const charge = buildCharge({ key: 'hostile-1', date: '2026-07-01', amount: '100.00' });
const CHARGE_ID = charge.gateway.id as string;
const chargeJson = JSON.stringify(charge.gateway);
const asked = { family: 'card' as const, id: CHARGE_ID, known: { chargeId: CHARGE_ID, referenceOrder: 'ORD-hostile-1', orderId: null } };

let gateway: HostileServer;
/** A second loopback address that answers like a gateway and records whatever reaches it. */
let elsewhere: HostileServer;

beforeAll(async () => {
  gateway = await startHostileServer('127.0.0.1');
  elsewhere = await startHostileServer('127.0.0.2', answerText(200, chargeJson));
});
afterAll(async () => {
  await gateway?.close();
  await elsewhere?.close();
});
beforeEach(() => {
  gateway.requests.length = 0;
});

function client(over: Parameters<typeof gatewayConfig>[1] = {}): { c: InquiryClient; lines: string[] } {
  const { logger, lines } = capturingLogger('debug');
  const c = createInquiryClient(gatewayConfig(gateway.url, { rateLimitRps: CAP, maxRetries: 2, timeoutMs: TIMEOUT_MS, ...over }), logger, FAST);
  return { c, lines };
}

/** Whatever the test did, the key went to the gateway only, and at most CAP requests a second. */
function expectKeyStayedHome(): void {
  expect(elsewhere.requests).toEqual([]);
  expect(gateway.requests.length).toBeGreaterThan(0);
  for (const r of gateway.requests) expect(r.headers['x-api-key']).toBe(TEST_KEY);
  expect(gateway.maxInAnyWindow()).toBeLessThanOrEqual(CAP);
}

describe('redirects are never followed', () => {
  it.each([301, 302, 307, 308])('%i to another address stops the run; the key never gets there', async (status) => {
    gateway.behaviour = redirect(status, (path) => `${elsewhere.url}${path}`);
    const { c } = client();
    const error = await c.inquire(asked).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReconError);
    expect(error).toMatchObject({
      code: 'GATEWAY_REDIRECT',
      message: `K-Payment Gateway answered ${status} redirecting to ${new URL(elsewhere.url).host}; redirects are never followed (the key is sent only to ${new URL(gateway.url).host}); check KPGW_BASE_URL`,
    });
    // Every later inquiry fails the same way, without a request.
    await expect(c.inquire({ ...asked, id: 'chrg_test_other' })).rejects.toMatchObject({ code: 'GATEWAY_REDIRECT' });
    expect(gateway.requests).toHaveLength(1);
    expectKeyStayedHome();
  });

  it('a redirect loop is one request per charge in flight, not a burst past the cap', async () => {
    gateway.behaviour = redirect(302, (path) => path);
    const { c } = client({ concurrency: 4 });
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => c.inquire({ family: 'card', id: `chrg_test_loop_${i}` })));
    expect(results.every((r) => r.status === 'rejected' && (r.reason as ReconError).code === 'GATEWAY_REDIRECT')).toBe(true);
    expect((results[0] as PromiseRejectedResult).reason.message).toMatch(/^K-Payment Gateway answered 302 redirecting to 127\.0\.0\.1:\d+;/);
    expect(gateway.requests.length).toBeLessThanOrEqual(4);
    expectKeyStayedHome();
  });
});

describe('an answer about another charge is never matched', () => {
  const answerWith = (over: Record<string, unknown>) => answerText(200, JSON.stringify({ ...charge.gateway, ...over }));

  it('an answer whose id is not the one asked for is failed, naming both, and logged as a warning', async () => {
    gateway.behaviour = answerWith({ id: 'chrg_test_someone_else', reference_order: 'ORD-else' });
    const { c, lines } = client();
    const outcome = await c.inquire(asked);
    expect(outcome).toMatchObject({ kind: 'failed', attempts: 1, reason: `answer is about another charge: its charge id is chrg_test_someone_else, the ledger's is ${CHARGE_ID}` });
    const warning = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'inquiry failed');
    expect(warning).toMatchObject({ level: 40, reason: expect.stringContaining('chrg_test_someone_else') });
    expectKeyStayedHome();
  });

  it('a reference order or order id that contradicts the ledger is failed even when the id asked is there', async () => {
    gateway.behaviour = answerWith({ reference_order: 'ORD-else' });
    const { c } = client();
    expect(await c.inquire(asked)).toMatchObject({ kind: 'failed', reason: `answer is about another charge: its reference_order is ORD-else, the ledger's is ORD-hostile-1` });
    gateway.behaviour = answerWith({ order_id: 'ordr_else' });
    expect(await c.inquire({ ...asked, known: { ...asked.known, orderId: 'ordr_mine' } })).toMatchObject({
      kind: 'failed', reason: `answer is about another charge: its order_id is ordr_else, the ledger's is ordr_mine`,
    });
  });

  it('an answer that does not carry the id asked by is failed, even when the ledger knows no other id', async () => {
    gateway.behaviour = answerWith({ id: 'chrg_test_x', reference_order: 'ORD-x' });
    const { c } = client();
    expect(await c.inquire({ family: 'card', id: 'ORD-hostile-1' })).toMatchObject({
      kind: 'failed', reason: 'answer is about another charge: asked for ORD-hostile-1, answered about chrg_test_x',
    });
  });

  it('the same charge, asked by its reference order, is found (fields the ledger lacks are no contradiction)', async () => {
    gateway.behaviour = answerWith({});
    const { c } = client();
    const outcome = await c.inquire({ family: 'card', id: 'ORD-hostile-1', known: { chargeId: null, referenceOrder: 'ORD-hostile-1' } });
    expect(outcome.kind === 'found' && outcome.charge.id).toBe(CHARGE_ID);
  });
});

describe('absurd numbers are unreadable, never a crash', () => {
  const withAmount = (amountText: string) => answerText(200, chargeJson.replace(/"amount":[^,]+,/, `"amount":${amountText},`));

  it.each([
    ['1e400', 'charge chrg_test_hostile-1 has no readable amount (1e400)'],
    ['1e+300', 'charge chrg_test_hostile-1 has no readable amount (1e+300)'],
    ['1234567890123456789012345678901234567890', 'charge chrg_test_hostile-1 has no readable amount (1234567890123456789012345678901234567890)'],
    ['"NaN"', 'charge chrg_test_hostile-1 has no readable amount ("NaN")'],
    ['1000000000000', 'charge chrg_test_hostile-1 has no readable amount (1000000000000)'],
  ])('amount %s: failed, the charge unverified', async (amountText, reason) => {
    gateway.behaviour = withAmount(amountText);
    const { c } = client();
    expect(await c.inquire(asked)).toMatchObject({ kind: 'failed', attempts: 1, reason: `unreadable charge: ${reason}` });
  });

  it('a bare NaN is not JSON: retried as malformed, then failed', async () => {
    gateway.behaviour = withAmount('NaN');
    const { c } = client({ maxRetries: 1 });
    expect(await c.inquire(asked)).toMatchObject({ kind: 'failed', attempts: 2, reason: 'malformed JSON body (HTTP 200); gave up after 2 attempts' });
  });

  it('twelve integer digits and exact decimals are read as sent', async () => {
    gateway.behaviour = withAmount('999999999999.9900');
    const { c } = client();
    const outcome = await c.inquire(asked);
    expect(outcome.kind === 'found' && outcome.charge.amount.toFixed(4)).toBe('999999999999.9900');
  });

  it('an absurd fee figure is a warning and null; the charge is still read', async () => {
    gateway.behaviour = answerText(200, chargeJson.replace(/"orig_mdr":"[^"]+"/, '"orig_mdr":1e+300'));
    const { c } = client();
    const outcome = await c.inquire(asked);
    expect(outcome.kind).toBe('found');
    if (outcome.kind !== 'found') return;
    expect(outcome.charge.settlement?.origMdr).toBeNull();
    expect(outcome.charge.warnings).toEqual(['settlement_info.orig_mdr: not a number 1e+300']);
    // The audit trail keeps the body exactly as received, the absurd figure included.
    expect(outcome.bodyText).toContain('"orig_mdr":1e+300');
  });
});

describe('answers too large to trust', () => {
  const tooLarge = 'answer too large (over 1 MiB, HTTP 200); not read further';

  it.each([
    ['declared by Content-Length', { declared: true }],
    ['sent chunked, with no length', { declared: false }],
  ])('100 MB %s: failed at once, never retried', async (_how, options) => {
    gateway.behaviour = flood(100 * 1024 * 1024, options);
    const { c } = client();
    expect(await c.inquire(asked)).toMatchObject({ kind: 'failed', attempts: 1, reason: tooLarge });
    expect(gateway.requests).toHaveLength(1);
    expect(c.unreachable()).toBeUndefined();
  });

  it('one byte over the cap is too large; an answer of exactly the cap is read', async () => {
    gateway.behaviour = flood(MAX_ANSWER_BYTES + 1);
    const { c } = client({ maxRetries: 0 });
    expect(await c.inquire(asked)).toMatchObject({ kind: 'failed', reason: tooLarge });
    // Exactly 1 MiB: read whole (an unclosed object, so malformed; the point is it was read).
    gateway.behaviour = flood(MAX_ANSWER_BYTES);
    expect(await c.inquire(asked)).toMatchObject({ kind: 'failed', reason: 'malformed JSON body (HTTP 200); gave up after 1 attempt' });
  });
});

describe('an answer that echoes the key', () => {
  it('has the key replaced, in any letter case, before anything reads it; nothing else changes', async () => {
    const echo = { ...charge.gateway, failure_message: `bad key ${TEST_KEY}`, description: TEST_KEY.toLowerCase(), source: { ...(charge.gateway.source as object), brand: TEST_KEY.toUpperCase() } };
    const body = JSON.stringify(echo);
    gateway.behaviour = answerText(200, body);
    const { c } = client();
    const outcome = await c.inquire(asked);
    if (outcome.kind !== 'found') throw new Error(`expected found, got ${outcome.kind}`);
    expect(outcome.bodyText).toBe(body.replace(TEST_KEY, '[REDACTED]').replace(TEST_KEY.toLowerCase(), '[REDACTED]').replace(TEST_KEY.toUpperCase(), '[REDACTED]'));
    expect(outcome.charge.failureMessage).toBe('bad key [REDACTED]');
    expect(outcome.charge.source?.brand).toBe('[REDACTED]');
    expect(outcome.charge.extra.description).toBe('[REDACTED]');
  });

  it('a redirect to a host that carries the key lower-cased names the host without it', async () => {
    gateway.behaviour = redirect(302, (path) => `http://${TEST_KEY}.example.com${path}`);
    const { c } = client();
    const error = await c.inquire(asked).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'GATEWAY_REDIRECT' });
    expect((error as Error).message.toLowerCase()).not.toContain(TEST_KEY.toLowerCase());
    expect((error as Error).message).toMatch(/^K-Payment Gateway answered 302 redirecting to /);
  });

  it('an error body that quotes the key: the reason does not', async () => {
    gateway.behaviour = answerText(400, JSON.stringify({ object: 'error', code: 'invalid_parameter', message: `unknown key ${TEST_KEY.toUpperCase()}` }));
    const { c } = client();
    expect(await c.inquire(asked)).toMatchObject({ kind: 'failed', reason: 'gateway error invalid_parameter: unknown key [REDACTED]' });
  });
});

describe('slow and silent gateways', () => {
  it('a hang times out on every attempt, at most CAP requests a second', async () => {
    gateway.behaviour = hang;
    const { c, lines } = client({ concurrency: 8, timeoutMs: SHORT_TIMEOUT_MS });
    const outcomes = await Promise.all(Array.from({ length: 4 }, (_, i) => c.inquire({ family: 'card', id: `chrg_test_hang_${i}` })));
    expect(outcomes.every((o) => o.kind === 'failed' && o.reason === 'timeout after 300 ms; gave up after 3 attempts')).toBe(true);
    expectKeyStayedHome();
    // Retries are debug lines, not info.
    const retries = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'inquiry will be retried');
    expect(retries.length).toBeGreaterThan(0);
    expect(retries.every((l) => l.level === 20)).toBe(true);
    expect(c.unreachable()).toMatchObject({ code: 'GATEWAY_UNREACHABLE' });
  });

  it('a drip (headers, then a byte every 200 ms) is a timeout, not an answer', async () => {
    gateway.behaviour = drip(chargeJson);
    const { c } = client({ maxRetries: 1, timeoutMs: SHORT_TIMEOUT_MS });
    expect(await c.inquire(asked)).toMatchObject({ kind: 'failed', reason: 'timeout after 300 ms; gave up after 2 attempts' });
    expectKeyStayedHome();
  });

  it('a closed port: no answer to any request is GATEWAY_UNREACHABLE naming the host and the reason', async () => {
    const port = await closedPort();
    const c = createInquiryClient(gatewayConfig(`http://127.0.0.1:${port}`, { maxRetries: 1 }), capturingLogger().logger, FAST);
    expect(c.unreachable()).toBeUndefined(); // nothing asked yet
    expect(await c.inquire(asked)).toMatchObject({ kind: 'failed', attempts: 2 });
    const error = c.unreachable();
    expect(error).toBeInstanceOf(ReconError);
    expect(error?.message).toBe(
      `K-Payment Gateway at 127.0.0.1:${port} gave no answer to any request (last: connection error: connect ECONNREFUSED 127.0.0.1:${port}); check KPGW_BASE_URL and the network`,
    );
  });

  it('one whole answer, even an error, means the gateway is reachable', async () => {
    gateway.behaviour = answerText(500, '<html>busy</html>');
    const { c } = client({ maxRetries: 0 });
    expect(await c.inquire(asked)).toMatchObject({ kind: 'failed' });
    expect(c.unreachable()).toBeUndefined();
  });
});

describe('answers that stop the run or wait', () => {
  it('ip_not_allow stops every inquiry with GATEWAY_IP_NOT_ALLOWED', async () => {
    gateway.behaviour = answerText(403, JSON.stringify({ object: 'error', code: 'ip_not_allow', message: 'IP not allowed' }));
    const { c } = client({ concurrency: 1 });
    const results = await Promise.allSettled([asked, { ...asked, id: 'chrg_test_2' }].map((r) => c.inquire(r)));
    for (const r of results) {
      expect(r).toMatchObject({ status: 'rejected', reason: { code: 'GATEWAY_IP_NOT_ALLOWED', message: "this machine's address is not allowed by KBank (ip_not_allow)" } });
    }
    expect(gateway.requests).toHaveLength(1);
  });

  it('Pending_state (as the guide spells it once) is retried like pending_state', async () => {
    gateway.behaviour = answerText(400, JSON.stringify({ object: 'error', code: 'Pending_state', message: 'Transaction is pending' }));
    const { c } = client({ maxRetries: 1 });
    expect(await c.inquire(asked)).toMatchObject({ kind: 'failed', attempts: 2, reason: 'Pending_state; gave up after 2 attempts' });
  });
});
