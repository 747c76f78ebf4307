import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCharge, type SampleCharge } from '../../src/sample/charge-builder.ts';
import { humanLines, runCli } from '../helpers/cli.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { runScenario } from '../helpers/scenario.ts';

/**
 * A finance team's month, on books small enough to check by hand (issue 22's failures of the
 * export and the VAT schedule, each in the books below). Runs go through the pipeline against
 * the simulator; the export and the schedule through the CLI.
 */
const database = await createTestDatabase();
const dir = await mkdtemp(join(tmpdir(), 'kpgw-month-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const MID = '401202106042001';
/** Cards at 2.5 %, Thai QR at 1 %, VAT 7 %: the rates the simulated KBank charges. */
const FEES = { vat_rate: '0.07', rules: [{ source_type: 'card', rate: '0.025' }, { source_type: 'qr', rate: '0.01' }] };
type Row = Record<string, string>;

/** 100.00 USD settled at 34 THB: 3,400.00 THB; MDR 2.5 % = 85.00; VAT 7 % of it = 5.95; net 3,400 − 85 − 5.95 = 3,309.05. */
function inDollars(charge: SampleCharge): SampleCharge {
  charge.gateway.settlement_info = {
    settle_amount: '100.0000', baht_amount: '3400.0000', exchange_rate: '34.0000',
    orig_amount: '3400.0000', orig_mdr: '85.0000', orig_vat: '5.9500', orig_net_amount: '3309.0500',
  };
  return charge;
}

/** KBank's refunds without `refund_date`, as in the guide's own Inquiry sample. */
function undatedRefunds(charge: SampleCharge): SampleCharge {
  for (const refund of charge.gateway.refund_info as Record<string, unknown>[]) delete refund.refund_date;
  return charge;
}

const scenario = (from: string, to: string, charges: SampleCharge[], ledger = charges.flatMap((c) => c.ledger)) =>
  runScenario(database, { from, to, fees: FEES, ledger, gateway: charges.map((c) => c.gateway) });

// March: booked 2026-03-02 … 2026-03-05 (a run covers 03-01 to 03-05), and again 03-06 (a
// second run covers 03-06 to 03-30); nothing covers 03-31.
const fee = buildCharge({ key: 'fee', date: '2026-03-02', amount: '1000.00' });
// Refunded 100.00 on 2026-03-10 by the ledger; KBank's refund carries no refund_date.
const refundNoDate = undatedRefunds(buildCharge({ key: 'nodate', date: '2026-03-03', amount: '500.00', refunds: [{ amount: '100.00', entryDate: '2026-03-10' }] }));
// KBank refunded 40.00, undated, and the ledger books no refund: only the run saw it.
const seenOnly = undatedRefunds(buildCharge({ key: 'seen', date: '2026-03-04', amount: '400.00', refunds: ['40.00'] }));
seenOnly.ledger.pop();
const dollars = inDollars(buildCharge({ key: 'usd', date: '2026-03-04', amount: '100.00', currency: 'USD' }));
const twice = buildCharge({ key: 'dup', date: '2026-03-05', amount: '300.00' });
const twiceAgain = { ...twice.ledger[0]!, entry_id: 'E-dup-again', transaction_date: '2026-03-06' };
const voided = buildCharge({ key: 'void', date: '2026-03-05', amount: '300.00', voided: true });
const noFigures = buildCharge({ key: 'nofig', date: '2026-03-05', amount: '250.00', zeroFigures: true });
const qr = buildCharge({ key: 'qr', date: '2026-03-05', amount: '80.00', sourceType: 'qr' });
const retracted = buildCharge({ key: 'gone', date: '2026-03-05', amount: '700.00' });
// Booked on the 31st, in a file a run of other dates loaded: no run covers its day.
const late = buildCharge({ key: 'late', date: '2026-03-31', amount: '90.00' });

beforeAll(async () => {
  // December and January: KBank created 'utc' at 00:30 on 1 January (Bangkok); the ledger,
  // booking in UTC, has it on 31 December.
  const utc = buildCharge({ key: 'utc', date: '2025-12-31', amount: '1000.00' });
  utc.gateway.created = '20260101003000000';
  await scenario('2025-12-01', '2026-01-31', [utc, buildCharge({ key: 'dec', date: '2025-12-15', amount: '2000.00' })]);
  // February: three charges of 20.00, MDR 0.50 each, VAT 0.035 → 0.04 each.
  await scenario('2026-02-01', '2026-02-28', ['r1', 'r2', 'r3'].map((key) => buildCharge({ key, date: '2026-02-10', amount: '20.00' })));

  const firstDays = [fee, refundNoDate, seenOnly, dollars, twice, voided, noFigures, qr, retracted];
  await scenario('2026-03-01', '2026-03-05', firstDays, [...firstDays, late].flatMap((c) => c.ledger));
  // The second run also reconciles 'nodate' again (its refund is booked on the 10th).
  await scenario('2026-03-06', '2026-03-30', [twice, refundNoDate], [twiceAgain]);
  await database.db.insertInto('ledger_retractions').values({ entry_id: 'E-gone', reason: 'booked by mistake', retracted_by: 'test' }).execute();
});

const env = { DATABASE_URL: database.url, LOG_LEVEL: 'warn', RECON_MID: MID };
const cli = (args: string[]) => runCli(args, { env });
async function csv(file: string): Promise<Row[]> {
  return parse(await readFile(file), { columns: true, bom: true }) as Row[];
}

describe('export of a month (v3)', () => {
  let result: Awaited<ReturnType<typeof cli>>;
  let rows: Map<string, Row>;
  let all: Row[];
  beforeAll(async () => {
    const out = join(dir, 'march.csv');
    result = await cli(['export', '--from', '2026-03-01', '--to', '2026-03-31', '--out', out]);
    all = await csv(out);
    rows = new Map(all.map((r) => [r.charge_id!, r]));
  });

  it('lists every ledger charge once, NOT_RECONCILED where no run covered its day, named on stderr with exit 1', () => {
    expect(result.code).toBe(1);
    expect(humanLines(result.stderr)).toEqual(['kpgw-recon: export: 1 charge is NOT_RECONCILED; no finished run covers 2026-03-31 (run or rerun those dates)']);
    // Nine charges: the retracted one is left out; the one booked twice is one row.
    expect(all.map((r) => r.charge_id).sort()).toEqual(
      ['fee', 'late', 'nodate', 'nofig', 'qr', 'seen', 'dup', 'usd', 'void'].map((k) => `chrg_test_${k}`).sort(),
    );
    expect(rows.get('chrg_test_late')).toMatchObject({ transaction_date: '2026-03-31', status: 'NOT_RECONCILED', amount: '90.00', mdr: '', open: 'true' });
  });

  it('counts a charge booked on two dates once, on the first date', () => {
    expect(all.filter((r) => r.charge_id === 'chrg_test_dup').map((r) => r.transaction_date)).toEqual(['2026-03-05']);
  });

  it('writes fees KBank has not reported as empty cells with status PENDING, never 0.0000 and MATCHED', () => {
    expect(rows.get('chrg_test_nofig')).toMatchObject({ status: 'PENDING', settled_amount: '', mdr: '', vat: '', net_amount: '', codes: 'FEES_NOT_REPORTED' });
    // QR: the inquiry carries no fees; reconciled, but its fees are not known.
    expect(rows.get('chrg_test_qr')).toMatchObject({ status: 'MATCHED', mdr: '', net_amount: '', card_masking: '' });
  });

  it("gives KBank's figures in THB for a charge in dollars, its amount in dollars", () => {
    expect(rows.get('chrg_test_usd')).toMatchObject({ currency: 'USD', amount: '100.00', settled_amount: '3400.0000', mdr: '85.0000', vat: '5.9500', net_amount: '3309.0500' });
  });

  it("appends the gateway's state, the mid and the masked card: a voided charge reads Voided, with no fees", () => {
    expect(rows.get('chrg_test_void')).toMatchObject({ transaction_state: 'Voided', settled_amount: '', mdr: '', mid: MID });
    // 1,000.00 at 2.5 %: MDR 25.00, VAT 1.75, net 973.25.
    expect(rows.get('chrg_test_fee')).toMatchObject({
      status: 'MATCHED', transaction_state: 'Settled', mid: MID, card_masking: '441770*****5830', approval_code: '000941',
      settled_amount: '1000.0000', mdr: '25.0000', vat: '1.7500', net_amount: '973.2500',
    });
  });

  it('writes nothing and exits 1 with one line for a range no finished run covers', async () => {
    const out = join(dir, 'nothing.csv');
    const nothing = await cli(['export', '--from', '2027-01-01', '--to', '2027-01-31', '--out', out]);
    expect(nothing.code).toBe(1);
    expect(humanLines(nothing.stderr)).toEqual([
      'kpgw-recon: export: no finished run covers 2027-01-01 to 2027-01-31 in this database, so nothing was written (run or rerun those dates first)',
    ]);
    await expect(access(out)).rejects.toThrow(/ENOENT/);
  });
});

describe('VAT schedule of a month (v3)', () => {
  it('dates fees by the day KBank created the charge: a UTC-booked 31 December charge is January’s, tied to the invoice to the satang', async () => {
    const december = await schedule('2025-12');
    expect(december.result.code, december.result.stderr).toBe(0);
    expect(december.rows.map((r) => `${r.kind} ${r.date} ${r.charge_id} ${r.mdr} ${r.vat}`)).toEqual(['fees 2025-12-15  50.00 3.50', 'total   50.00 3.50']);

    // January: the one charge, 1,000.00 at 2.5 % = MDR 25.00, VAT 1.75; KBank's invoice says the same.
    const january = await schedule('2026-01', '--invoice-mdr', '25.00', '--invoice-vat', '1.75', '--invoice-no', 'INV-2601', '--invoice-date', '2026-02-05');
    expect(january.result.code, january.result.stderr).toBe(0);
    expect(january.rows.map(({ kind, date, mid, charges, settled_amount, mdr, vat, currency, date_basis, reason }) => ({ kind, date, mid, charges, settled_amount, mdr, vat, currency, date_basis, reason }))).toEqual([
      { kind: 'fees', date: '2026-01-01', mid: MID, charges: '1', settled_amount: '1000.00', mdr: '25.00', vat: '1.75', currency: 'THB', date_basis: 'created', reason: '' },
      { kind: 'total', date: '', mid: MID, charges: '1', settled_amount: '1000.00', mdr: '25.00', vat: '1.75', currency: 'THB', date_basis: '', reason: '' },
      { kind: 'invoice', date: '2026-02-05', mid: MID, charges: '', settled_amount: '', mdr: '25.00', vat: '1.75', currency: 'THB', date_basis: '', reason: 'KBank tax invoice INV-2601 of 2026-02-05' },
      { kind: 'difference', date: '', mid: MID, charges: '', settled_amount: '', mdr: '0.00', vat: '0.00', currency: 'THB', date_basis: '', reason: 'ties to the invoice to the satang' },
    ]);
  });

  it('explains a VAT difference that is only rounding per charge, with both figures, and exits 1 on one that is not', async () => {
    // Three charges of 20.00: MDR 0.50 each, 1.50 in all; VAT per charge 0.035 → 0.04, 0.12 in
    // all; KBank's invoice charges VAT on the total: 1.50 × 7 % = 0.105 → 0.11.
    const rounding = await schedule('2026-02', '--invoice-mdr', '1.50', '--invoice-vat', '0.11');
    expect(rounding.result.code, rounding.result.stderr).toBe(0);
    expect(rounding.rows.find((r) => r.kind === 'total')).toMatchObject({ charges: '3', mdr: '1.50', vat: '0.12' });
    expect(rounding.rows.at(-1)).toMatchObject({
      kind: 'difference', mdr: '0.00', vat: '-0.01',
      reason: "rounding only: VAT on the month's MDR total (1.50 × 0.07 = 0.11, the invoice's) against the sum of VAT rounded per charge (0.12)",
    });
    expect(rounding.result.stdout).toMatch(/^invoice: rounding only/m);

    const wrong = await schedule('2026-02', '--invoice-mdr', '1.60', '--invoice-vat', '0.11');
    expect(wrong.result.code).toBe(1);
    expect(humanLines(wrong.result.stderr)).toEqual([
      "kpgw-recon: vat-report: the schedule does not tie to the invoice: MDR differs by 0.10; VAT differs by -0.01, which rounding does not explain (VAT on the schedule's MDR total would be 0.11)",
    ]);
    expect(wrong.rows.at(-1)).toMatchObject({ kind: 'difference', mdr: '0.10', vat: '-0.01' });
  });

  describe('March: every charge in one place, in THB, every reversal kept', () => {
    let march: { result: Awaited<ReturnType<typeof cli>>; rows: Row[] };
    beforeAll(async () => {
      march = await schedule('2026-03');
    });

    it('names the day no run covered and exits 1; its charge is listed as not reconciled', () => {
      expect(march.result.code).toBe(1);
      expect(humanLines(march.result.stderr)).toEqual([
        'kpgw-recon: vat-report: no finished run covers 2026-03-31: their charges are listed as fees_unknown, not reconciled (run or rerun those dates)',
      ]);
    });

    it('lists fee rows, then reversals, then fees unknown, then the total, in THB', () => {
      expect(march.rows.map((r) => [r.kind, r.date, r.mid, r.source_type, r.charges, r.settled_amount, r.mdr, r.vat, r.amount, r.currency, r.date_basis, r.charge_id, r.reason].join(' '))).toEqual([
        // 1,000.00 × 2.5 % = 25.00, VAT 1.75
        `fees 2026-03-02 ${MID} card 1 1000.00 25.00 1.75 1000.00 THB created  `,
        // 500.00 × 2.5 % = 12.50, VAT 0.875 → 0.88
        `fees 2026-03-03 ${MID} card 1 500.00 12.50 0.88 500.00 THB created  `,
        // 400.00 × 2.5 % = 10.00, VAT 0.70
        `fees 2026-03-04 ${MID} card 1 400.00 10.00 0.70 400.00 THB created  `,
        // 100.00 USD = 3,400.00 THB: MDR 85.00, VAT 5.95; the amount stays in dollars
        `fees 2026-03-04 ${MID} card 1 3400.00 85.00 5.95 100.00 USD created  `,
        // booked on the 5th and again on the 6th: once. 300.00 × 2.5 % = 7.50, VAT 0.525 → 0.53
        `fees 2026-03-05 ${MID} card 1 300.00 7.50 0.53 300.00 THB created  `,
        // the refund KBank made but the ledger never booked, undated: the day the first run saw it (as of 03-05).
        // 40.00 × 2.5 % = 1.00, VAT 0.07
        `refund_reversal 2026-03-05 ${MID} card 1 -40.00 -1.00 -0.07 -40.00 THB seen_on  `,
        // undated at KBank: the ledger refund's entry_date. 100.00 × 2.5 % = 2.50, VAT 0.175 → 0.18
        `refund_reversal 2026-03-10 ${MID} card 1 -100.00 -2.50 -0.18 -100.00 THB ledger_entry_date  `,
        `fees_unknown 2026-03-05 ${MID} card 1    250.00 THB created chrg_test_nofig open`,
        // 80.00 × 1 % = 0.80, VAT 0.056 → 0.06: the fee schedule's estimate, said so
        `fees_unknown 2026-03-05 ${MID} qr 1  0.80 0.06 80.00 THB created chrg_test_qr not reported by the gateway (mdr and vat: estimate from the fee schedule)`,
        `fees_unknown 2026-03-31 ${MID} card 1    90.00 THB transaction_date chrg_test_late not reconciled`,
        // settled 1,000 + 500 + 400 + 3,400 + 300 − 40 − 100 = 5,460.00; MDR 25 + 12.50 + 10 + 85 + 7.50 − 1 − 2.50 = 136.50;
        // VAT 1.75 + 0.88 + 0.70 + 5.95 + 0.53 − 0.07 − 0.18 = 9.56. The voided and the retracted charge are nowhere.
        `total  ${MID}  5 5460.00 136.50 9.56  THB   `,
      ]);
    });
  });

  it('writes nothing and exits 1 with one line for a month no finished run covers', async () => {
    const out = join(dir, 'vat-none.csv');
    const nothing = await cli(['vat-report', '--month', '2027-01', '--out', out]);
    expect(nothing.code).toBe(1);
    expect(humanLines(nothing.stderr)).toEqual(['kpgw-recon: vat-report: no finished run covers any day of 2027-01 in this database, so nothing was written (run or rerun those dates first)']);
    await expect(access(out)).rejects.toThrow(/ENOENT/);
  });

  it('refuses an invoice VAT without its MDR, and an amount that is not baht', async () => {
    const half = await cli(['vat-report', '--month', '2026-02', '--out', join(dir, 'x.csv'), '--invoice-vat', '0.11']);
    expect(half.code).toBe(2);
    expect(humanLines(half.stderr)).toEqual(['kpgw-recon: vat-report: --invoice-mdr is required (see kpgw-recon vat-report --help)']);
    const bad = await cli(['vat-report', '--month', '2026-02', '--out', join(dir, 'x.csv'), '--invoice-mdr', '1,50', '--invoice-vat', '0.11']);
    expect(bad.code).toBe(2);
    expect(humanLines(bad.stderr)).toEqual(["kpgw-recon: vat-report: --invoice-mdr '1,50' is not an amount in baht (e.g. 1234.56)"]);
  });
});

async function schedule(month: string, ...flags: string[]): Promise<{ result: Awaited<ReturnType<typeof cli>>; rows: Row[] }> {
  const out = join(dir, `vat-${month}-${flags.length}-${flags[1] ?? ''}.csv`);
  const result = await cli(['vat-report', '--month', month, '--out', out, ...flags]);
  return { result, rows: await csv(out) };
}
