import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatMoney, money, ZERO, type Money } from '../../src/money.ts';
import { buildCharge, type ChargeSpec, type SampleCharge } from '../../src/sample/charge-builder.ts';
import { runCli } from '../helpers/cli.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { runScenario } from '../helpers/scenario.ts';

const database = await createTestDatabase();
const dir = await mkdtemp(join(tmpdir(), 'kpgw-vat-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const MONTH = '2026-05';
const THAI_REFERENCE = 'ใบสั่งซื้อ ๑๒๓';
const FORMULA_MID = '=HYPERLINK("http://x","y")';
type Row = Record<string, string>;

/** Every charge's merchant id, as the test books it in the ledger. */
const midOf = new Map<string, string>();

function charge(mid: string, spec: ChargeSpec): SampleCharge {
  const built = buildCharge(spec);
  for (const row of built.ledger) row.mid = mid;
  midOf.set(`chrg_test_${spec.key}`, mid);
  return built;
}

async function run(from: string, to: string, charges: SampleCharge[], faults?: Parameters<typeof runScenario>[1]['faults']) {
  await runScenario(database, { from, to, fees: null, ledger: charges.flatMap((c) => c.ledger), gateway: charges.map((c) => c.gateway), ...(faults ? { faults } : {}) });
}

beforeAll(async () => {
  // April: one refund made in April (not May's), one made in May of an April charge (May's).
  await run('2026-04-28', '2026-04-28', [
    charge('MID-A', { key: 'apr', date: '2026-04-28', amount: '400.00', refunds: ['100.00'] }),
    charge('MID-B', { key: 'aprmay', date: '2026-04-28', amount: '600.00', refunds: [{ amount: '50.00', entryDate: '2026-05-05' }] }),
  ]);
  const unverified = charge('MID-B', { key: 'down', date: '2026-05-05', amount: '321.00' });
  unverified.ledger[0]!.reference_order = THAI_REFERENCE;
  // The run covers the whole month: a day no finished run covers makes the schedule exit 1.
  await run(
    '2026-05-01',
    '2026-05-31',
    [
      charge('MID-A', { key: 'a1', date: '2026-05-04', amount: '1000.00', refunds: [{ amount: '200.00', entryDate: '2026-05-05' }] }),
      charge('MID-A', { key: 'a2', date: '2026-05-04', amount: '333.33', mdrRate: '0.0275' }),
      charge('MID-A', { key: 'a3', date: '2026-05-04', amount: '500.00', sourceType: 'alipay' }),
      charge('MID-A', { key: 'nofig', date: '2026-05-05', amount: '250.00', zeroFigures: true }),
      charge('MID-A', { key: 'qr1', date: '2026-05-05', amount: '80.00', sourceType: 'qr' }),
      charge('MID-B', { key: 'b1', date: '2026-05-05', amount: '2000.00', refunds: [{ amount: '300.00', entryDate: '2026-05-06', failedFirst: 'OBAVL' }] }),
      charge('MID-B', { key: 'b2', date: '2026-05-06', amount: '750.00', sourceType: 'unionpay', mdrRate: '0.03' }),
      charge('', { key: 'nomid', date: '2026-05-06', amount: '99.99' }),
      unverified,
    ],
    { perCharge: { chrg_test_down: 'http500' } },
  );
  await run('2026-06-01', '2026-06-01', [charge('MID-A', { key: 'jun', date: '2026-06-01', amount: '5000.00' })]);

  // July: a mid a spreadsheet would run as a formula, a capture not settled yet whose reference
  // Windows-874 cannot hold, and a settlement whose VAT figure is missing.
  const captured = charge('MID-A', { key: 'jcap', date: '2026-07-01', amount: '120.00' });
  captured.gateway.transaction_state = 'Captured';
  captured.gateway.settlement_info = null;
  captured.ledger[0]!.reference_order = captured.gateway.reference_order = 'ของขวัญ 🎁';
  const noVat = charge('MID-A', { key: 'jnovat', date: '2026-07-01', amount: '220.00' });
  delete (noVat.gateway.settlement_info as Record<string, unknown>).orig_vat;
  await run('2026-07-01', '2026-07-31', [charge(FORMULA_MID, { key: 'jf', date: '2026-07-01', amount: '100.00' }), captured, noVat]);
});

const vatReport = (...flags: string[]) => runCli(['vat-report', ...flags], { env: { DATABASE_URL: database.url, LOG_LEVEL: 'warn' } });

async function report(name: string, ...flags: string[]): Promise<{ bytes: Buffer; rows: Row[] }> {
  const out = join(dir, name);
  const result = await vatReport(...(flags.includes('--month') ? [] : ['--month', MONTH]), '--out', out, ...flags);
  expect(result.code, result.stderr).toBe(0);
  const bytes = await readFile(out);
  return { bytes, rows: parse(bytes, { columns: true, bom: true }) as Row[] };
}

/**
 * The month's fees per mid, computed from the stored gateway answers alone: every settled
 * charge created in May, its `orig_mdr` and `orig_vat`, less those of every successful refund
 * dated in May.
 */
async function expectedFromStoredAnswers(): Promise<Map<string, { mdr: Money; vat: Money }>> {
  const answers = await database.db.selectFrom('gateway_inquiries').select(['body', 'fetched_at']).where('outcome', '=', 'found').orderBy('fetched_at').execute();
  const latest = new Map<string, Record<string, any>>();
  for (const { body } of answers) {
    const parsed = JSON.parse(body!) as Record<string, any>;
    latest.set(parsed.id as string, parsed);
  }
  const totals = new Map<string, { mdr: Money; vat: Money }>();
  const add = (mid: string, mdr: Money, vat: Money) => {
    const t = totals.get(mid) ?? { mdr: ZERO, vat: ZERO };
    totals.set(mid, { mdr: t.mdr.plus(mdr), vat: t.vat.plus(vat) });
  };
  for (const [id, answer] of latest) {
    const mid = midOf.get(id)!;
    const settled = answer.settlement_info as Record<string, string> | null;
    if (String(answer.created).startsWith('202605') && settled) add(mid, money(settled.orig_mdr!), money(settled.orig_vat!));
    for (const refund of (answer.refund_info ?? []) as Record<string, string | null>[]) {
      if (refund.error_code === null && refund.refund_date!.startsWith('202605')) add(mid, money(refund.orig_mdr!).negated(), money(refund.orig_vat!).negated());
    }
  }
  return totals;
}

describe('vat-report', () => {
  let rows: Row[];
  let bytes: Buffer;
  beforeAll(async () => ({ rows, bytes } = await report('utf8.csv')));

  it('writes UTF-8 with a BOM and the documented columns', () => {
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    // v3 appends currency and date_basis.
    expect(Object.keys(rows[0]!)).toEqual(['date', 'mid', 'source_type', 'charges', 'settled_amount', 'mdr', 'vat', 'kind', 'charge_id', 'reference_order', 'amount', 'reason', 'currency', 'date_basis']);
  });

  it("each mid's MDR and VAT total equals its settled charges' orig_mdr and orig_vat in the stored answers, less May's refund reversals, to the satang", async () => {
    const expected = await expectedFromStoredAnswers();
    const totals = rows.filter((r) => r.kind === 'total');
    expect(totals.map((t) => t.mid).sort()).toEqual(['', 'MID-A', 'MID-B']);
    for (const total of totals) {
      const want = expected.get(total.mid!)!;
      expect({ mid: total.mid, mdr: total.mdr, vat: total.vat }).toEqual({ mid: total.mid, mdr: formatMoney(want.mdr), vat: formatMoney(want.vat) });
      // The total is its own rows' sum.
      const own = rows.filter((r) => r.mid === total.mid && (r.kind === 'fees' || r.kind === 'refund_reversal'));
      expect(formatMoney(own.reduce((s, r) => s.plus(r.mdr!), ZERO))).toBe(total.mdr);
    }
  });

  it('one fees row per mid x source type x day of the month, nothing of April or June', () => {
    const fees = rows.filter((r) => r.kind === 'fees');
    expect(fees.map((r) => `${r.date} ${r.mid} ${r.source_type} ${r.charges}`).sort()).toEqual([
      '2026-05-04 MID-A alipay 1',
      '2026-05-04 MID-A card 2',
      '2026-05-05 MID-B card 1',
      '2026-05-06  card 1',
      '2026-05-06 MID-B unionpay 1',
    ]);
    // 1000.00 × 2.5% + 333.33 × 2.75% (9.166… → 9.17), and their settled amounts.
    expect(fees.find((r) => r.mid === 'MID-A' && r.source_type === 'card')).toMatchObject({ settled_amount: '1333.33', mdr: '34.17', vat: '2.39' });
  });

  it("lists the fee reversals of May's refunds as negative rows by refund date, a failed attempt and April's refund left out", () => {
    const reversals = rows.filter((r) => r.kind === 'refund_reversal');
    expect(reversals.map((r) => `${r.date} ${r.mid} ${r.source_type} ${r.charges} ${r.settled_amount} ${r.mdr} ${r.vat}`).sort()).toEqual([
      '2026-05-05 MID-A card 1 -200.00 -5.00 -0.35',
      '2026-05-05 MID-B card 1 -50.00 -1.25 -0.09',
      '2026-05-06 MID-B card 1 -300.00 -7.50 -0.53',
    ]);
  });

  it('lists the charges whose fees are not known before the totals, which come last, each with why', () => {
    // v3: fees_unknown rows come before the totals; the QR charge, whose inquiry carries no fees,
    // is one of them; reasons are words; a settled amount is shown only with KBank's fees.
    const kinds = rows.map((r) => r.kind);
    expect(kinds.slice(kinds.indexOf('total'))).toEqual(['total', 'total', 'total']);
    const unknown = rows.filter((r) => r.kind === 'fees_unknown');
    expect(unknown.map((r) => ({ charge_id: r.charge_id, mid: r.mid, date: r.date, amount: r.amount, settled_amount: r.settled_amount, mdr: r.mdr, reason: r.reason }))).toEqual([
      { charge_id: 'chrg_test_down', mid: 'MID-B', date: '2026-05-05', amount: '321.00', settled_amount: '', mdr: '', reason: 'unverified' },
      { charge_id: 'chrg_test_nofig', mid: 'MID-A', date: '2026-05-05', amount: '250.00', settled_amount: '', mdr: '', reason: 'open' },
      { charge_id: 'chrg_test_qr1', mid: 'MID-A', date: '2026-05-05', amount: '80.00', settled_amount: '', mdr: '', reason: 'not reported by the gateway' },
    ]);
    expect(unknown[0]!.reference_order).toBe(THAI_REFERENCE);
  });

  it('--mid keeps one merchant', async () => {
    const { rows: only } = await report('mid-b.csv', '--mid', 'MID-B');
    expect(new Set(only.map((r) => r.mid))).toEqual(new Set(['MID-B']));
    expect(only.find((r) => r.kind === 'total')).toEqual(rows.find((r) => r.kind === 'total' && r.mid === 'MID-B'));
  });

  it('--encoding windows-874 writes TIS-620 without a BOM; --dates be writes DD/MM/BE-year', async () => {
    const out = join(dir, 'tis620.csv');
    const result = await vatReport('--month', MONTH, '--out', out, '--encoding', 'windows-874', '--dates', 'be');
    expect(result.code, result.stderr).toBe(0);
    const raw = await readFile(out);
    expect(raw.subarray(0, 4).toString('latin1')).toBe('date');
    expect(raw.includes(Buffer.from(THAI_REFERENCE, 'utf8'))).toBe(false);
    const decoded = parse(iconv.decode(raw, 'windows-874'), { columns: true }) as Row[];
    expect(decoded.find((r) => r.charge_id === 'chrg_test_down')).toMatchObject({ date: '05/05/2569', reference_order: THAI_REFERENCE });
    expect(decoded.filter((r) => r.kind === 'fees').map((r) => r.date).sort()[0]).toBe('04/05/2569');
    expect(decoded.length).toBe(rows.length);
  });

  it('a month that is not YYYY-MM is a usage error on one line', async () => {
    const result = await vatReport('--month', '2026-13', '--out', join(dir, 'bad.csv'));
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual(["kpgw-recon: vat-report: --month '2026-13' is not a month (YYYY-MM)"]);
  });

  it('guards a formula-like mid; lists a capture not settled yet and a settlement without its VAT as fees not known', async () => {
    const { rows: july } = await report('july.csv', '--month', '2026-07');
    expect(july.filter((r) => r.kind === 'total').map((r) => r.mid)).toEqual([`'${FORMULA_MID}`, 'MID-A']);
    // v3: both are open (KBank will report their fees); no settled amount without KBank's fees.
    expect(july.filter((r) => r.kind === 'fees_unknown').map((r) => `${r.charge_id} ${r.reason} ${r.amount} ${r.settled_amount}`)).toEqual([
      'chrg_test_jcap open 120.00 ',
      'chrg_test_jnovat open 220.00 ',
    ]);
    expect(july.filter((r) => r.kind === 'fees').map((r) => `${r.mid} ${r.charges} ${r.mdr}`)).toEqual([`'${FORMULA_MID} 1 2.50`]);
  });

  it('a character windows-874 cannot hold stops the report naming the row, and nothing is written', async () => {
    const out = join(dir, 'emoji.csv');
    const result = await vatReport('--month', '2026-07', '--out', out, '--encoding', 'windows-874');
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([
      "kpgw-recon: vat-report row 2 (fees_unknown, mid 'MID-A', 2026-07-01): reference_order holds '🎁' (U+1F381), which windows-874 cannot hold; export with --encoding utf8",
    ]);
    await expect(readFile(out)).rejects.toThrow(/ENOENT/);
    await expect(readFile(`${out}.partial`)).rejects.toThrow(/ENOENT/);
  });
});
