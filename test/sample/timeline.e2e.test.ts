import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shiftDate } from '../../src/dates.ts';
import { dateOf17 } from '../../src/gateway/charge.ts';
import { buildCharge, type ChargeSpec } from '../../src/sample/charge-builder.ts';
import { generateSample } from '../../src/sample/generate-sample.ts';
import { chargeHistory, type DatedRecord } from '../../src/sample/timeline.ts';
import { writeSample, type SampleFiles } from '../../src/sample/write-sample.ts';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { TEST_KEY } from '../gateway/helpers.ts';
import { humanLines, runCli } from '../helpers/cli.ts';

const D = '2026-03-01';
const history = (spec: Partial<ChargeSpec>, plan?: Parameters<typeof chargeHistory>[1]) =>
  chargeHistory(buildCharge({ key: 'K', date: D, amount: '1000.00', ...spec }), plan);
const days = (records: DatedRecord[]) => records.map((r) => [r._from, r.transaction_state]);
const ZERO_FIGURES = { orig_amount: '0.0000', orig_mdr: '0.0000', orig_vat: '0.0000', orig_net_amount: '0.0000' };
// 1,000.00 at the builder's default 2.5 % MDR and 7 % VAT.
const FIGURES = { settle_amount: '1000.0000', orig_amount: '1000.0000', orig_mdr: '25.0000', orig_vat: '1.7500', orig_net_amount: '973.2500' };

describe('chargeHistory', () => {
  it('a card charge: Captured on D, Settled without figures on D+1, with figures on D+2', () => {
    const records = history({});
    expect(days(records)).toEqual([[D, 'Captured'], ['2026-03-02', 'Settled'], ['2026-03-03', 'Settled']]);
    expect(records[0]!.settlement_info).toBeNull();
    expect(records[1]!.settlement_info).toMatchObject({ settle_amount: '1000.0000', ...ZERO_FIGURES });
    expect(records[2]!.settlement_info).toMatchObject(FIGURES);
    for (const record of records) expect(record).toMatchObject({ id: 'chrg_test_K', amount: 1000, refund_info: null, status: 'success' });
  });

  it('a card charge whose figures are not late: Captured on D, Settled with its figures on D+1', () => {
    const records = history({}, { figuresLate: false });
    expect(days(records)).toEqual([[D, 'Captured'], ['2026-03-02', 'Settled']]);
    expect(records[0]!.settlement_info).toBeNull();
    expect(records[1]!.settlement_info).toMatchObject(FIGURES);
  });

  it('Alipay and UnionPay follow the card lifecycle; Thai QR and WeChat are Authorized, then Settled, with no settlement_info', () => {
    for (const sourceType of ['alipay', 'unionpay'] as const) expect(days(history({ sourceType })).map(([, s]) => s)).toEqual(['Captured', 'Settled', 'Settled']);
    for (const sourceType of ['qr', 'wechat'] as const) {
      const records = history({ sourceType });
      expect(days(records)).toEqual([[D, 'Authorized'], ['2026-03-02', 'Settled']]);
      for (const record of records) expect(record).toMatchObject({ settlement_info: null, refund_info: null });
    }
  });

  it('a void holds from D; a charge that never settles or never gets its figures stays so', () => {
    expect(days(history({ voided: true }))).toEqual([[D, 'Voided']]);
    expect(days(history({ sourceType: 'qr', voided: true }))).toEqual([[D, 'VOID']]);
    const pending = buildCharge({ key: 'K', date: D, amount: '1000.00' });
    Object.assign(pending.gateway, { transaction_state: 'Captured', settlement_info: null });
    expect(days(chargeHistory(pending))).toEqual([[D, 'Captured']]);
    const noFigures = history({ zeroFigures: true });
    expect(days(noFigures)).toEqual([[D, 'Captured'], ['2026-03-02', 'Settled']]);
    expect(noFigures[1]!.settlement_info).toMatchObject(ZERO_FIGURES);
  });

  it('a refund made only at the gateway shows from its day, with its refund_info entry and fee figures', () => {
    const records = history({}, { gatewayRefunds: [{ afterDays: 12, amount: '300.00' }] });
    expect(days(records)).toEqual([[D, 'Captured'], ['2026-03-02', 'Settled'], ['2026-03-03', 'Settled'], ['2026-03-13', 'Partial Refund']]);
    expect(records[3]!.settlement_info).toMatchObject(FIGURES);
    // 300.00 × 2.5 % = 7.50, VAT 0.525 → 0.53, net 291.97.
    expect(records[3]!.refund_info).toEqual([{
      refund_amount: '300.0000', baht_amount: '300.0000', exchange_rate: '1.0000', orig_amount: '300.0000', orig_mdr: '7.5000',
      orig_vat: '0.5300', orig_net_amount: '291.9700', refund_id: 'refd_test_K_gw1', error_code: null, error_message: null,
      refund_date: '20260313180000000',
    }]);
    expect(days(history({}, { gatewayRefunds: [{ afterDays: 4, amount: '1000.00' }] })).at(-1)).toEqual(['2026-03-05', 'Refunded']);
  });

  it('a refund that fails with OBAVL: listed failed on its day (still Settled), made again successfully the next', () => {
    const records = history({}, { gatewayRefunds: [{ afterDays: 5, amount: '1000.00', failsFirstWith: 'OBAVL' }] });
    expect(days(records).slice(3)).toEqual([['2026-03-06', 'Settled'], ['2026-03-07', 'Refunded']]);
    expect(records[3]!.refund_info).toEqual([expect.objectContaining({ refund_id: 'refd_test_K_gw1_failed', error_code: 'OBAVL', refund_date: '20260306170000000' })]);
    expect(records[4]!.refund_info).toEqual([
      expect.objectContaining({ refund_id: 'refd_test_K_gw1_failed', error_code: 'OBAVL' }),
      expect.objectContaining({ refund_id: 'refd_test_K_gw1', error_code: null, refund_date: '20260307180000000' }),
    ]);
  });

  it("a ledger refund booked later shows at the gateway on its booking day; on D itself, from D", () => {
    const later = history({ refunds: [{ amount: '400.00', entryDate: '2026-03-09' }] });
    expect(days(later)).toEqual([[D, 'Captured'], ['2026-03-02', 'Settled'], ['2026-03-03', 'Settled'], ['2026-03-09', 'Partial Refund']]);
    expect(later[2]!.refund_info).toBeNull();
    expect(later[3]!.refund_info).toEqual([expect.objectContaining({ refund_id: 'refd_test_K_1', refund_amount: '400.0000' })]);
    expect(days(history({ refunds: ['1000.00'] }))).toEqual([[D, 'Refunded'], ['2026-03-02', 'Refunded'], ['2026-03-03', 'Refunded']]);
  });

  it('a QR refund shows only as Refunded, when full (the QR inquiry lists no refunds)', () => {
    const full = history({ sourceType: 'qr' }, { gatewayRefunds: [{ afterDays: 3, amount: '1000.00' }] });
    expect(days(full)).toEqual([[D, 'Authorized'], ['2026-03-02', 'Settled'], ['2026-03-04', 'Refunded']]);
    expect(full[2]!.refund_info).toBeNull();
    expect(days(history({ sourceType: 'qr' }, { gatewayRefunds: [{ afterDays: 3, amount: '100.00' }] }))).toEqual([[D, 'Authorized'], ['2026-03-02', 'Settled']]);
  });

  it('refuses a gateway refund on the charge day or before', () => {
    expect(() => history({}, { gatewayRefunds: [{ afterDays: 0, amount: '1.00' }] })).toThrow(/afterDays/);
  });
});

describe('generateSample with a timeline', () => {
  const options = { from: D, days: 3, chargesPerDay: 120, seed: 11, defectRate: 0.2 };
  const plain = generateSample(options);
  const timed = generateSample({ ...options, timeline: { lateRefunds: 0.2 } });

  it('is deterministic for a seed, and leaves the ledger and the expected codes as they are', () => {
    expect(generateSample({ ...options, timeline: { lateRefunds: 0.2 } })).toEqual(timed);
    expect(timed.ledger).toEqual(plain.ledger);
    expect(timed.expected).toEqual(plain.expected);
    expect(plain.lateRefunds).toEqual([]);
    expect(plain.gateway.some((g) => '_from' in g)).toBe(false);
  });

  it('with lateFigures, only that share of the card-family charges gets its figures a day after settling; the ledger is the same', () => {
    /** How many charges show their fee figures first on D+1 (with their settlement), how many later. */
    const firstFigures = (sample: typeof timed) => {
      const seen = new Set<string>();
      const counts = { onTime: 0, late: 0 };
      for (const g of sample.gateway) {
        const mdr = (g.settlement_info as Record<string, string> | null)?.orig_mdr;
        if (mdr === undefined || mdr === '0.0000' || seen.has(String(g.id))) continue;
        seen.add(String(g.id));
        counts[g._from === shiftDate(dateOf17(String(g.created))!, 1) ? 'onTime' : 'late'] += 1;
      }
      return counts;
    };
    const none = generateSample({ ...options, timeline: { lateRefunds: 0.2, lateFigures: 0 } });
    const some = generateSample({ ...options, timeline: { lateRefunds: 0.2, lateFigures: 0.3 } });
    expect(generateSample({ ...options, timeline: { lateRefunds: 0.2, lateFigures: 0.3 } })).toEqual(some);
    expect(none.ledger).toEqual(plain.ledger);
    const all = firstFigures(timed);
    expect(all.onTime).toBe(0);
    expect(firstFigures(none)).toEqual({ onTime: all.late, late: 0 });
    const split = firstFigures(some);
    expect(split.late).toBeGreaterThan(0);
    expect(split.onTime).toBeGreaterThan(split.late);
    expect(split.onTime + split.late).toBe(all.late);
  });

  it("writes each charge's records in date order, from its day, ending with its final answer", () => {
    const byId = new Map<string, typeof timed.gateway>();
    for (const record of timed.gateway) byId.set(String(record.id), [...(byId.get(String(record.id)) ?? []), record]);
    expect([...byId.keys()].sort()).toEqual(plain.gateway.map((g) => String(g.id)).sort());
    const late = new Set(timed.lateRefunds.map((r) => r.chargeId));
    for (const final of plain.gateway) {
      const records = byId.get(String(final.id))!;
      const froms = records.map((r) => r._from as string);
      expect(froms).toEqual([...new Set(froms)].sort());
      expect(froms[0]!.replaceAll('-', '')).toBe(String(final.created).slice(0, 8));
      const { _from, ...last } = records.at(-1)!;
      if (!late.has(String(final.id))) expect(last).toEqual(final);
    }
  });

  it('plants refunds made only at the gateway on clean card-family charges, with no ledger row', () => {
    expect(timed.lateRefunds.length).toBeGreaterThan(3);
    expect(timed.lateRefunds.some((r) => r.failedFirst)).toBe(true);
    for (const refund of timed.lateRefunds) {
      expect(timed.expected.get(refund.entryId)).toEqual([]);
      const chargeDate = timed.ledger.find((row) => row.entry_id === refund.entryId)!.transaction_date!;
      // Made 2 to 28 days after the charge (a failed attempt goes through a day later): within the default 30-day re-check.
      expect(refund.date >= shiftDate(chargeDate, 2) && refund.date <= shiftDate(chargeDate, 29)).toBe(true);
      expect(timed.ledger.filter((row) => row.charge_id === refund.chargeId).map((row) => row.entry_type)).toEqual(['charge']);
      const records = timed.gateway.filter((g) => g.id === refund.chargeId);
      const on = records.find((r) => r._from === refund.date)!;
      expect(['Refunded', 'Partial Refund']).toContain(on.transaction_state);
      expect(records.filter((r) => (r._from as string) < refund.date).map((r) => r.transaction_state)).not.toContain('Refunded');
      expect(on.refund_info).toContainEqual(expect.objectContaining({ refund_amount: Number(refund.amount).toFixed(4), error_code: null }));
    }
  });
});

describe('a timeline sample served by the simulator', () => {
  let dir: string;
  let sample: SampleFiles;
  let simulator: Simulator;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kpgw-timeline-'));
    sample = await writeSample(dir, { from: D, days: 1, chargesPerDay: 40, seed: 3, defectRate: 0, badRows: false, timeline: { lateRefunds: 0.5 } });
    simulator = await startSimulator({ secretKey: TEST_KEY, dataFile: sample.gateway, today: D });
  });
  afterAll(async () => {
    await simulator?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const answerOn = async (today: string, chargeId: string) => {
    simulator.setToday(today);
    const response = await fetch(`${simulator.url}/card/v2/charge/${chargeId}`, { headers: { 'x-api-key': TEST_KEY } });
    expect(response.status).toBe(200);
    return (await response.json()) as Record<string, unknown>;
  };

  it('answers a card charge Captured on D, Settled without figures on D+1, with figures on D+2', async () => {
    const late = new Set(sample.data.lateRefunds.map((r) => r.chargeId));
    const card = sample.data.gateway.find((g) => (g.source as { object: string }).object === 'card' && g.transaction_state === 'Captured' && !late.has(String(g.id)) && sample.data.ledger.filter((row) => row.charge_id === g.id).length === 1)!;
    expect(await answerOn(D, String(card.id))).toMatchObject({ transaction_state: 'Captured', settlement_info: null, refund_info: null });
    const settled = await answerOn('2026-03-02', String(card.id));
    expect(settled).toMatchObject({ transaction_state: 'Settled', settlement_info: ZERO_FIGURES });
    expect(settled).not.toHaveProperty('_from');
    const amount = Number(settled.amount).toFixed(4);
    expect((settled.settlement_info as Record<string, string>).settle_amount).toBe(amount);
    const figures = (await answerOn('2026-03-03', String(card.id))).settlement_info as Record<string, string>;
    expect(figures.orig_amount).toBe(amount);
    expect(Number(figures.orig_mdr)).toBeGreaterThan(0);
    expect((Number(figures.orig_amount) - Number(figures.orig_mdr) - Number(figures.orig_vat)).toFixed(4)).toBe(figures.orig_net_amount);
  });

  it('answers a refund made only at the gateway from its day on, and not the day before', async () => {
    const refund = sample.data.lateRefunds[0]!;
    const ledgerText = await readFile(sample.ledger, 'utf8');
    expect(ledgerText.split('\n').filter((line) => line.includes(refund.chargeId))).toHaveLength(1);
    const before = await answerOn(shiftDate(refund.date, -1), refund.chargeId);
    expect(before.transaction_state).toBe('Settled');
    const on = await answerOn(refund.date, refund.chargeId);
    expect(['Refunded', 'Partial Refund']).toContain(on.transaction_state);
    expect(on.refund_info).toContainEqual(expect.objectContaining({ refund_amount: Number(refund.amount).toFixed(4), error_code: null }));
  });
});

describe('kpgw-recon generate --timeline', () => {
  let dir: string;
  beforeAll(async () => void (dir = await mkdtemp(join(tmpdir(), 'kpgw-timeline-cli-'))));
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('writes dated gateway records, and refuses --late-refunds without it or out of range', async () => {
    const out = join(dir, 'inbox');
    const result = await runCli(['generate', '--out', out, '--from', D, '--days', '2', '--per-day', '20', '--timeline', '--late-refunds', '0.5']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/wrote 40 charges .* with their gateway histories \(\d+ dated records, \d+ refunds made only at the gateway\)/);
    const records = (await readFile(join(out, 'gateway.jsonl'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as DatedRecord);
    expect(records.length).toBeGreaterThan(40);
    expect(records.every((r) => /^\d{4}-\d{2}-\d{2}$/.test(r._from))).toBe(true);
    // The rows it says it wrote are the ledger file's, the three planted unreadable rows among them.
    const ledgerRows = (await readFile(join(out, 'ledger', 'orders.csv'), 'utf8')).trimEnd().split('\n').length - 1;
    const counted = (n: number) => n.toLocaleString('en-US');
    expect(result.stdout).toContain(`wrote 40 charges (${counted(ledgerRows)} ledger rows, 3 of them unreadable on purpose) with their gateway histories (${counted(records.length)} dated records, `);
    const alone = await runCli(['generate', '--out', out, '--late-refunds', '0.5']);
    expect([alone.code, humanLines(alone.stderr)]).toEqual([2, ['kpgw-recon: generate: --late-refunds needs --timeline']]);
    const over = await runCli(['generate', '--out', out, '--timeline', '--late-refunds', '1.5']);
    expect([over.code, humanLines(over.stderr)]).toEqual([2, ["kpgw-recon: generate: --late-refunds must be a share from 0 to 1, got '1.5'"]]);
  });
});
