import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulatorCommand } from '../../src/commands/simulator.ts';
import { loadConfig } from '../../src/config/config.ts';
import { startSimulator, syntheticCharges, type Simulator } from '../../src/simulator/index.ts';
import { TEST_KEY, capturingLogger, guideSample } from '../gateway/helpers.ts';

const get = async (url: string, key = TEST_KEY) => {
  const response = await fetch(url, { headers: { 'x-api-key': key } });
  return { status: response.status, text: await response.text(), headers: response.headers };
};

describe('simulator endpoints', () => {
  let dir: string;
  let simulator: Simulator;
  const refundSample = join(import.meta.dirname, '../fixtures/guide/6.1.5-refund.json');

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kpgw-sim-'));
    // JSON lines: the §6.1.5 sample on one line, served byte for byte (60.0 stays 60.0).
    const line = (await readFile(refundSample, 'utf8')).replace(/\s*\n\s*/g, ' ').trim();
    const qrAsCard = { ...guideSample('6.4.2-void-qr.json'), _family: 'card' };
    await writeFile(join(dir, 'charges.jsonl'), `# comment\n${line}\n\n${JSON.stringify(guideSample('6.4.1-inquiry-qr.json'))}\n${JSON.stringify(qrAsCard)}\n`);
    simulator = await startSimulator({ secretKey: TEST_KEY, dataFile: join(dir, 'charges.jsonl'), charges: [guideSample('6.1.2-inquiry.json')] });
  });
  afterAll(async () => {
    await simulator.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves file records verbatim and object records as JSON', async () => {
    expect(simulator.charges).toBe(4);
    const answer = await get(`${simulator.url}/card/v2/charge/chrg_prod_2082d5d99e4bb90422fa3fcfe2ba3714234`);
    expect(answer.status).toBe(200);
    expect(answer.text).toContain('"amount": 60.0,');
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    expect(JSON.parse((await get(`${simulator.url}/card/v2/charge/JUASU95Q4F`)).text).id).toBe('chrg_prod_208adcd781192334b1eab9c626a287cc18e');
  });

  it('routes QR charges to the QR endpoint only, by charge id or order id; a hint overrides', async () => {
    const qrId = 'chrg_test_192f3dac0c01a3048a19678d13c180e2d21';
    expect((await get(`${simulator.url}/qr/v2/qr/${qrId}`)).status).toBe(200);
    expect((await get(`${simulator.url}/qr/v2/qr/order_test_1927d35fb9b9cf943a19963e5387678db60`)).status).toBe(200);
    expect((await get(`${simulator.url}/card/v2/charge/${qrId}`)).status).toBe(404);
    expect((await get(`${simulator.url}/qr/v2/qr/c2676e3f99283143a7d9`)).status).toBe(404); // reference order: card only
    expect((await get(`${simulator.url}/qr/v2/qr/chrg_prod_208adcd781192334b1eab9c626a287cc18e`)).status).toBe(404);
    const hinted = await get(`${simulator.url}/card/v2/charge/chrg_test_2092372cd2a07d3e14414b697288904f84df8`);
    expect(hinted.status).toBe(200);
    expect(JSON.parse(hinted.text)).not.toHaveProperty('_family');
  });

  it('answers with the guide error bodies', async () => {
    const id = 'chrg_prod_208adcd781192334b1eab9c626a287cc18e';
    const cases: [string, string, number, string][] = [
      [`/card/v2/charge/${id}`, 'skey_wrong', 401, 'authentication_failure'],
      [`/card/v2/charge/${id}`, '', 401, 'authentication_failure'],
      ['/card/v2/charge/chrg_nobody', TEST_KEY, 404, 'charge_id_not_exist'],
      [`/card/v2/charge/${id}/20190605`, TEST_KEY, 400, 'invalid_parameter'],
      [`/card/v2/charge/${id}/2019-06-04`, TEST_KEY, 400, 'transaction_date_invalid'],
      ['/card/v2/nothing', TEST_KEY, 404, 'not_found'],
      ['/', TEST_KEY, 404, 'not_found'],
    ];
    for (const [path, key, status, code] of cases) {
      const answer = await get(`${simulator.url}${path}`, key);
      expect([path, answer.status, JSON.parse(answer.text)]).toEqual([path, status, { object: 'error', code, message: expect.any(String) }]);
    }
    expect((await get(`${simulator.url}/card/v2/charge/${id}/20190604`)).status).toBe(200);
    expect((await get(`${simulator.url}/card/v2/charge/${id}/`)).status).toBe(200);
    expect((await fetch(`${simulator.url}/card/v2/charge/${id}`, { method: 'POST', headers: { 'x-api-key': TEST_KEY } })).status).toBe(405);
  });

  it('counts requests per second; faults can be switched and counters reset over HTTP', async () => {
    await fetch(`${simulator.url}/__stats`, { method: 'DELETE' });
    await Promise.all(Array.from({ length: 5 }, () => get(`${simulator.url}/card/v2/charge/JUASU95Q4F`)));
    const stats = (await (await fetch(`${simulator.url}/__stats`)).json()) as { total: number; maxInAnyWindow: number; perSecond: { count: number }[]; outcomes: Record<string, number> };
    expect(stats.total).toBe(5);
    expect(stats.maxInAnyWindow).toBe(5);
    expect(stats.perSecond.reduce((n, s) => n + s.count, 0)).toBe(5);
    expect(stats.outcomes).toEqual({ 200: 5 });

    const set = await fetch(`${simulator.url}/__faults`, { method: 'POST', body: JSON.stringify({ perCharge: { JUASU95Q4F: { kind: 'http429', times: 1 } }, retryAfterSeconds: 7 }) });
    expect(set.status).toBe(200);
    const limited = await get(`${simulator.url}/card/v2/charge/JUASU95Q4F`);
    expect([limited.status, limited.headers.get('retry-after')]).toEqual([429, '7']);
    expect((await get(`${simulator.url}/card/v2/charge/JUASU95Q4F`)).status).toBe(200);
    expect((await fetch(`${simulator.url}/__faults`, { method: 'POST', body: '{"random":{"http500":2}}' })).status).toBe(400);
    simulator.setFaults({});
  });
});

describe('simulator faults', () => {
  const charges = syntheticCharges(200);

  it('random faults follow the seed', async () => {
    const runOnce = async (seed: number) => {
      const simulator = await startSimulator({ secretKey: TEST_KEY, charges, seed, faults: { random: { http500: 0.2, pending_state: 0.1 } } });
      try {
        const statuses: number[] = [];
        for (let n = 1; n <= 60; n += 1) statuses.push((await get(`${simulator.url}/card/v2/charge/SIM${n}`)).status);
        return { statuses, outcomes: simulator.stats().outcomes };
      } finally {
        await simulator.close();
      }
    };
    const [a, b, c] = await Promise.all([runOnce(42), runOnce(42), runOnce(43)]);
    expect(a.statuses).toEqual(b.statuses);
    expect(a.statuses).not.toEqual(c.statuses);
    expect(a.outcomes['fault:http500']).toBeGreaterThan(3);
    expect(a.outcomes['fault:pending_state']).toBeGreaterThan(0);
  });

  it('close() ends hanging requests and latency waits instead of waiting for them', async () => {
    // An hour's latency and a request never answered: a close() that waited for either would
    // outlast the test's timeout.
    const simulator = await startSimulator({ secretKey: TEST_KEY, charges, faults: { latencyMs: 3_600_000, perCharge: { SIM1: 'hang' } } });
    const hanging = get(`${simulator.url}/card/v2/charge/SIM1`).catch((e: unknown) => e);
    const slow = get(`${simulator.url}/card/v2/charge/SIM2`).catch((e: unknown) => e);
    // Both requests are at the simulator before it closes.
    while (simulator.stats().inFlight < 2) await new Promise((r) => setImmediate(r));
    await simulator.close();
    expect(await hanging).toBeInstanceOf(Error);
    expect(await slow).toBeInstanceOf(Error);
  });
});

describe("the simulator's clock", () => {
  // One charge's life as the gateway tells it: captured on the 1st, settled on the 2nd with its
  // fee figures only on the 3rd, refunded at the gateway on the 13th.
  const captured = { ...(guideSample('6.1.2-inquiry.json') as { id: string; reference_order: string }), transaction_state: 'Captured', settlement_info: null, refund_info: null };
  const history = [
    { ...captured, _from: '2026-03-01' },
    { ...captured, _from: '2026-03-02', transaction_state: 'Settled', settlement_info: { settle_amount: 11, orig_amount: 0, orig_mdr: 0, orig_vat: 0, orig_net_amount: 0 } },
    { ...captured, _from: '2026-03-03', transaction_state: 'Settled', settlement_info: { settle_amount: 11, orig_amount: 11, orig_mdr: 0.28, orig_vat: 0.02, orig_net_amount: 10.7 } },
    { ...captured, _from: '2026-03-13', transaction_state: 'Refunded', refund_info: [{ refund_amount: 11, refund_id: 'refd_test_1' }] },
  ];
  let simulator: Simulator;
  beforeAll(async () => {
    // Listed out of order on purpose: the history is ordered by `_from`, not by position.
    simulator = await startSimulator({ secretKey: TEST_KEY, charges: [history[2], history[0], history[3], history[1]], today: '2026-02-28' });
  });
  afterAll(async () => simulator.close());

  const stateOn = async (today: string) => {
    simulator.setToday(today);
    const answer = await get(`${simulator.url}/card/v2/charge/${captured.id}`);
    return answer.status === 200 ? (JSON.parse(answer.text) as { transaction_state: string; _from?: string }) : answer.status;
  };

  it('answers each day with the record in force, and not at all before the charge exists', async () => {
    expect(simulator.charges).toBe(1);
    expect(await stateOn('2026-02-28')).toBe(404);
    expect(await stateOn('2026-03-01')).toMatchObject({ transaction_state: 'Captured' });
    expect(await stateOn('2026-03-02')).toMatchObject({ transaction_state: 'Settled', settlement_info: { orig_mdr: 0 } });
    expect(await stateOn('2026-03-12')).toMatchObject({ transaction_state: 'Settled', settlement_info: { orig_mdr: 0.28 } });
    const refunded = await stateOn('2026-03-13');
    expect(refunded).toMatchObject({ transaction_state: 'Refunded', refund_info: [{ refund_id: 'refd_test_1' }] });
    expect(refunded).not.toHaveProperty('_from');
    // By reference order too, the same record.
    expect(JSON.parse((await get(`${simulator.url}/card/v2/charge/${captured.reference_order}`)).text).transaction_state).toBe('Refunded');
  });

  it('is moved over HTTP, and refuses a date that is not one', async () => {
    const post = (body: string) => fetch(`${simulator.url}/__clock`, { method: 'POST', body });
    expect((await post('{"today":"2026-03-01"}')).status).toBe(200);
    expect(await (await fetch(`${simulator.url}/__clock`)).json()).toEqual({ today: '2026-03-01' });
    expect(simulator.today()).toBe('2026-03-01');
    expect((await post('{"today":"1 March"}')).status).toBe(400);
    expect(simulator.today()).toBe('2026-03-01');
  });
});

describe('kpgw-recon simulator', () => {
  it('prints its URL, serves, and stops cleanly on the signal', async () => {
    let out = '';
    const stdout = new Writable({ write: (chunk, _enc, done) => { out += String(chunk); done(); } });
    const controller = new AbortController();
    const config = loadConfig({ KPGW_SECRET_KEY: TEST_KEY });
    const running = simulatorCommand.run(['--port', '0', '--synthetic', '1200', '--fault', 'SIM2=http500:1', '--latency', '1'], {
      config, logger: capturingLogger('warn').logger, stdout, stderr: process.stderr, signal: controller.signal, runId: 'test',
    });
    // However long a busy machine takes to start it (the test's timeout bounds the wait).
    while (!out.includes('listening')) await new Promise((r) => setTimeout(r, 20));
    const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(out).toContain('(1,200 charges; '); // grouped as every count a person reads
    expect(out).not.toContain(TEST_KEY);
    expect((await get(`${url}/card/v2/charge/SIM2`)).status).toBe(500);
    expect((await get(`${url}/card/v2/charge/SIM2`)).status).toBe(200);
    controller.abort();
    expect(await running).toBe(0);
    expect(out).toContain('stopped after 2 requests');
    await expect(fetch(`${url}/__stats`)).rejects.toThrow();
  });

  it('refuses bad flags as usage errors', async () => {
    const ctx = {
      config: loadConfig({}), logger: capturingLogger('warn').logger, stdout: new Writable({ write: (_c, _e, d) => d() }),
      stderr: process.stderr, signal: AbortSignal.abort(), runId: 'test',
    };
    await expect(simulatorCommand.run(['--port', 'x'], ctx)).rejects.toMatchObject({ code: 'USAGE' });
    await expect(simulatorCommand.run(['--fault', 'SIM1=explode'], ctx)).rejects.toMatchObject({ code: 'USAGE' });
    await expect(simulatorCommand.run(['--port', '0', '--data', '/nonexistent/charges.jsonl'], ctx)).rejects.toMatchObject({ code: 'INPUT' });
  });
});
