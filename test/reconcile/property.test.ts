import { describe, expect, it } from 'vitest';
import { shiftDate } from '../../src/dates.ts';
import { money, toSatang, type Money } from '../../src/money.ts';
import { buildCharge, type ChargeSpec, type RefundSpec, type SampleCharge } from '../../src/sample/charge-builder.ts';
import { SAMPLE_PLAN, samplePlanReport } from '../../src/sample/generate-sample.ts';
import { seededRandom } from '../../src/simulator/prng.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { runScenario, type ScenarioResult } from '../helpers/scenario.ts';

/**
 * Property: random books that agree with random gateway answers reconcile with no error, and
 * changing one planted value on a charge gives exactly the codes that change explains. Seeded:
 * the same seed gives the same books, so a failure can be replayed.
 */

const SEED = Number(process.env.PROPERTY_SEED ?? 20261129);
const FROM = '2026-02-10';
const TO = '2026-02-16';
/** The day the visa rate changed (the old rule's `valid_to` is the day before). */
const RATE_CHANGE = '2026-02-13';
const AS_OF = shiftDate(TO, 1);
const CHARGES = 300;

interface Rule {
  source_type?: string;
  brand?: string;
  issuer_bank?: string;
  ipan_mode?: string;
  term?: number;
  rate: string;
  fixed?: string;
  min?: string;
  max?: string;
  valid_from?: string;
  valid_to?: string;
}

/** Every v2 field of a rule, with validity dates falling inside the run's range. */
const RULES: Rule[] = [
  { source_type: 'card', ipan_mode: '01', term: 10, rate: '0.065' },
  { source_type: 'card', brand: 'visa', issuer_bank: 'kasikorn', rate: '0.018' },
  { source_type: 'card', brand: 'visa', rate: '0.025', valid_from: RATE_CHANGE },
  { source_type: 'card', brand: 'visa', rate: '0.027', valid_to: shiftDate(RATE_CHANGE, -1) },
  { source_type: 'unionpay', rate: '0.02', fixed: '1.00' },
  { source_type: 'alipay', rate: '0.023', max: '30.00' },
  // 200.00 × 0.028 is exactly the minimum and 10000.00 × 0.028 exactly the maximum.
  { source_type: 'card', rate: '0.028', min: '5.60', max: '280.00' },
];
const FEES = { vat_rate: [{ rate: '0.07', valid_from: '2020-01-01' }], refund_fee_reversal: 'pro_rata', rules: RULES };
const VAT_RATE = '0.07';

/** The guide writes KBank three ways; other banks must not take the KBank rule. */
const ISSUERS = ['Kasikornbank Public Limited', 'Kasikornbank Public Company Limited', 'KASIKORN BANK PUBLIC COMPANY LIMITED', 'Bangkok Bank Public Company Limited', 'SIAM COMMERCIAL BANK PUBLIC COMPANY LIMITED'];
const BOUNDARY_AMOUNTS = ['200.00', '199.99', '10000.00', '10000.01', '1304.35'];

/** The test's own reading of docs/reference.md §3.3 (first match wins), so the rules are not checked against themselves. */
function ruleFor(subject: { sourceType: string; brand?: string; issuerBank?: string; ipanMode?: string; term?: number; date: string }): Rule | undefined {
  const squash = (text: string) => text.toLowerCase().replaceAll(' ', '');
  return RULES.find(
    (r) =>
      (r.source_type === undefined || r.source_type === subject.sourceType) &&
      (r.brand === undefined || r.brand === subject.brand?.toLowerCase()) &&
      (r.issuer_bank === undefined || squash(subject.issuerBank ?? '').includes(squash(r.issuer_bank))) &&
      (r.ipan_mode === undefined || r.ipan_mode === subject.ipanMode) &&
      (r.term === undefined || r.term === subject.term) &&
      (r.valid_from === undefined || r.valid_from <= subject.date) &&
      (r.valid_to === undefined || subject.date <= r.valid_to),
  );
}

function mdrOf(rule: Rule, base: Money): Money {
  let mdr = toSatang(base.times(rule.rate).plus(rule.fixed ?? '0'));
  if (rule.min && mdr.lessThan(rule.min)) mdr = money(rule.min);
  if (rule.max && mdr.greaterThan(rule.max)) mdr = money(rule.max);
  return mdr;
}

/** One generated charge: the books, what it looks like, and the warnings its shape explains. */
interface Generated {
  key: string;
  sample: SampleCharge;
  spec: ChargeSpec;
  warnings: string[];
  /** Its refunds are all successful, with gateway refund ids, booked with ids. */
  plainRefunds: boolean;
}

function generateBooks(seed: number, prefix: string): Generated[] {
  const random = seededRandom(seed);
  const chance = (p: number) => random() < p;
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const amountBetween = (lo: number, hi: number) => toSatang(money(lo + Math.floor(random() * (hi - lo) * 100) / 100)).toFixed(2);
  const days = (Date.parse(TO) - Date.parse(FROM)) / 86_400_000 + 1;
  const books: Generated[] = [];

  for (let n = 0; n < CHARGES; n += 1) {
    const key = `${prefix}${String(n).padStart(4, '0')}`;
    const date = shiftDate(FROM, Math.floor(random() * days));
    const roll = random();
    const sourceType: NonNullable<ChargeSpec['sourceType']> = roll < 0.55 ? 'card' : roll < 0.68 ? 'qr' : roll < 0.76 ? 'wechat' : roll < 0.88 ? 'alipay' : 'unionpay';
    const qr = sourceType === 'qr' || sourceType === 'wechat';
    const installment = sourceType === 'card' && chance(0.1);
    const amount = installment ? amountBetween(3000, 60000) : chance(0.1) ? pick(BOUNDARY_AMOUNTS) : amountBetween(20, 5000);
    const brand = sourceType === 'card' ? pick(['visa', 'VISA', 'mastercard', 'MasterCard', 'jcb']) : undefined;
    const issuerBank = sourceType === 'card' ? pick(ISSUERS) : undefined;
    const spec: ChargeSpec = { key, date, amount, sourceType, brand, issuerBank, vatRate: VAT_RATE, installment: installment ? SAMPLE_PLAN : undefined };
    const warnings: string[] = [];
    let plainRefunds = true;

    if (qr) {
      const r = random();
      if (r < 0.1) spec.voided = true;
      else if (r < 0.25) spec.refunds = [amount];
      else if (r < 0.4 && money(amount).greaterThan('1.00')) {
        spec.refunds = [toSatang(money(amount).times('0.4')).toFixed(2)];
        // The QR inquiry never shows a partial refund: within the grace days it is pending, after them unverifiable.
        warnings.push(date > shiftDate(AS_OF, -3) ? 'REFUND_PENDING' : 'REFUND_UNVERIFIABLE');
      }
    } else {
      const rule = ruleFor({ sourceType, brand, issuerBank, ipanMode: installment ? SAMPLE_PLAN.ipanMode : undefined, term: installment ? SAMPLE_PLAN.term : undefined, date })!;
      spec.mdrRate = rule.rate;
      spec.mdr = mdrOf(rule, money(amount)).toFixed(2);
      const shape = random();
      const refundable = !installment && money(amount).greaterThan('1.00');
      if (!installment && chance(0.12)) {
        // Books its own fees at a negotiated rate no rule has: the gateway agrees with the ledger.
        spec.ledgerFees = pick(['mdr', 'all'] as const);
        spec.mdr = toSatang(money(amount).times('0.015')).toFixed(2);
      } else if (installment && chance(0.5)) {
        spec.ledgerFees = 'all';
      } else if (sourceType === 'card' && /visa|mastercard/i.test(brand!) && chance(0.15)) {
        const fee = toSatang(money(amount).times('0.02'));
        spec.convfee = { amount: fee.toFixed(2), vat: toSatang(fee.times(VAT_RATE)).toFixed(2) };
      } else if (refundable && shape < 0.45) {
        const refund = (share: string, extra: Partial<Exclude<RefundSpec, string>> = {}) => ({
          amount: toSatang(money(amount).times(share)).toFixed(2),
          // Some refunds are booked days after the charge.
          entryDate: chance(0.3) ? shiftDate(date, Math.floor(random() * (Date.parse(TO) - Date.parse(date)) / 86_400_000 + 1)) : undefined,
          ledgerFees: chance(0.2),
          ...extra,
        });
        const kind = random();
        if (kind < 0.3) spec.refunds = [refund('1')];
        else if (kind < 0.6) spec.refunds = [refund('0.3')];
        else if (kind < 0.75) spec.refunds = [refund('0.25'), refund('0.5')];
        else {
          // A refund that failed for lack of balance (OBAVL) and was made again; the ledger books it once, without an id.
          spec.refunds = [refund(pick(['1', '0.5']), { failedFirst: 'OBAVL', withoutRefundId: true })];
          plainRefunds = false;
        }
      } else if (shape < 0.5) {
        spec.zeroFigures = true;
        warnings.push('FEES_NOT_REPORTED');
      } else if (shape < 0.53) {
        spec.voided = true;
      }
      if (chance(0.1)) spec.emptyRefunds = [pick([{}, '', { refund_id: null, refund_amount: null }])];
    }

    const sample = buildCharge(spec);
    if (spec.refunds && !qr) reverseInProportion(sample, spec);
    if (!qr && !spec.refunds && !spec.voided && !spec.zeroFigures && !spec.installment && chance(0.04)) {
      // A refund booked yesterday that the gateway does not show yet.
      sample.ledger.push({ ...sample.ledger[0]!, entry_id: `E-${key}-P`, entry_type: 'refund', entry_date: TO, amount: toSatang(money(amount).times('0.5')).toFixed(2), mdr: '', vat: '', net_amount: '', convfee_amount: '', convfee_vat: '' });
      warnings.push('REFUND_PENDING');
    } else if (!qr && !spec.refunds && !spec.voided && !spec.zeroFigures && chance(0.03)) {
      Object.assign(sample.gateway, { transaction_state: 'Captured', settlement_info: null });
      warnings.push('SETTLEMENT_PENDING');
    }
    books.push({ key, sample, spec, warnings: warnings.sort(), plainRefunds });
  }
  return [...books, ...boundaryCharges(prefix)];
}

/**
 * KBank's figures for a card refund (v3): its share of the charge's MDR, fixed fee, minimum or
 * maximum included, round_half_up(MDR × refund ÷ amount, 2), VAT on that, and the rest; a ledger
 * refund row that books its own fees books these. (The builder figures refunds at the rate.)
 */
function reverseInProportion(sample: SampleCharge, spec: ChargeSpec): void {
  const figures = new Map<string, Record<string, string>>();
  for (const refund of (sample.gateway.refund_info ?? []) as Body[]) {
    if (!refund.refund_amount) continue; // an empty entry
    const amount = money(String(refund.refund_amount));
    const mdr = toSatang(money(spec.mdr!).times(amount).dividedBy(spec.amount));
    const vat = toSatang(mdr.times(VAT_RATE));
    Object.assign(refund, { orig_mdr: mdr.toFixed(4), orig_vat: vat.toFixed(4), orig_net_amount: amount.minus(mdr).minus(vat).toFixed(4) });
    figures.set(String(refund.refund_id), { mdr: mdr.toFixed(2), vat: vat.toFixed(2), net_amount: amount.minus(mdr).minus(vat).toFixed(2) });
  }
  sample.ledger.forEach((row, i) => {
    if (row.entry_type === 'refund' && row.mdr) Object.assign(row, figures.get(`refd_test_${spec.key}_${i}`));
  });
}

/** The boundaries a finance clerk would try, on every run whatever the seed. */
function boundaryCharges(prefix: string): Generated[] {
  const cases: Array<Omit<ChargeSpec, 'key' | 'mdr' | 'mdrRate' | 'vatRate'> & { mdr: string }> = [
    { date: FROM, amount: '200.00', brand: 'jcb', issuerBank: ISSUERS[3], mdr: '5.60' }, // exactly the minimum
    { date: FROM, amount: '199.99', brand: 'jcb', issuerBank: ISSUERS[3], mdr: '5.60' }, // raised to it
    { date: FROM, amount: '10000.00', brand: 'mastercard', issuerBank: ISSUERS[4], mdr: '280.00' }, // exactly the maximum
    { date: FROM, amount: '10000.01', brand: 'mastercard', issuerBank: ISSUERS[4], mdr: '280.00' }, // capped
    { date: FROM, amount: '1304.35', sourceType: 'alipay', mdr: '30.00' }, // 30.00005: the maximum after rounding
    { date: FROM, amount: '100.00', sourceType: 'unionpay', mdr: '3.00' }, // 2.00 + fixed 1.00
    { date: shiftDate(RATE_CHANGE, -1), amount: '1000.00', brand: 'visa', issuerBank: ISSUERS[3], mdr: '27.00' }, // the old rate's valid_to day
    { date: RATE_CHANGE, amount: '1000.00', brand: 'visa', issuerBank: ISSUERS[3], mdr: '25.00' }, // the new rate's first day
    { date: RATE_CHANGE, amount: '1000.00', brand: 'Visa', issuerBank: ISSUERS[2], mdr: '18.00' }, // KBank's own cards
  ];
  return cases.map((c, i) => {
    const rule = ruleFor({ sourceType: c.sourceType ?? 'card', brand: c.brand, issuerBank: c.issuerBank, date: c.date })!;
    // The rule the test reads must give the figure written above, or the test itself is wrong.
    expect(mdrOf(rule, money(c.amount)).toFixed(2), `boundary ${i}`).toBe(c.mdr);
    const spec: ChargeSpec = { ...c, key: `${prefix}b${i}`, mdrRate: rule.rate, vatRate: VAT_RATE };
    return { key: spec.key, sample: buildCharge(spec), spec, warnings: [], plainRefunds: true };
  });
}

/** One way to change one planted value, and the codes that change must give. */
interface Defect {
  name: string;
  codes: string[];
  fits(g: Generated): boolean;
  apply(c: SampleCharge): void;
}
type Body = Record<string, unknown>;
const settlement = (c: SampleCharge) => c.gateway.settlement_info as Body;
const gatewayRefunds = (c: SampleCharge) => c.gateway.refund_info as Body[];
const plus = (value: unknown, delta: string) => money(String(value)).plus(delta).toFixed(2);
const cardFamily = (g: Generated) => !['qr', 'wechat'].includes(g.spec.sourceType!);
const settled = (g: Generated) => cardFamily(g) && !g.spec.voided && !g.spec.zeroFigures && g.sample.gateway.settlement_info !== null;
const withRefund = (g: Generated) => settled(g) && !!g.spec.refunds?.length && g.plainRefunds;
const partialRefund = (g: Generated) => withRefund(g) && g.spec.refunds!.length === 1 && g.sample.gateway.transaction_state === 'Partial Refund';
/** Booked long enough before as-of that a refund the gateway does not show is missing, not pending. */
const pastGrace = (g: Generated) => g.sample.ledger.every((row) => !row.entry_date || row.entry_date <= shiftDate(AS_OF, -3));

const DEFECTS: Defect[] = [
  { name: 'amount', codes: ['AMOUNT_MISMATCH'], fits: () => true, apply: (c) => void (c.gateway.amount = plus(c.gateway.amount, '1.00')) },
  { name: 'state', codes: ['STATE_MISMATCH'], fits: (g) => settled(g) && !g.spec.refunds, apply: (c) => void (c.gateway.transaction_state = 'Voided') },
  { name: 'qr-refund-not-seen', codes: ['STATE_MISMATCH'], fits: (g) => !cardFamily(g) && g.sample.gateway.transaction_state === 'Refunded' && pastGrace(g), apply: (c) => void (c.gateway.transaction_state = 'Settled') },
  { name: 'mdr', codes: ['MDR_MISMATCH'], fits: (g) => settled(g) && g.spec.ledgerFees === 'all', apply: (c) => void (c.ledger[0]!.mdr = plus(c.ledger[0]!.mdr, '1.00')) },
  { name: 'vat', codes: ['VAT_MISMATCH'], fits: (g) => settled(g) && g.spec.ledgerFees === 'all', apply: (c) => void (c.ledger[0]!.vat = plus(c.ledger[0]!.vat, '0.01')) },
  {
    name: 'gateway-mdr',
    codes: ['MDR_MISMATCH', 'NET_MISMATCH'],
    // Without refunds: a refund is expected to give back its share of the MDR KBank reports (v3).
    fits: (g) => settled(g) && !g.spec.ledgerFees && !g.spec.refunds,
    apply: (c) => void Object.assign(settlement(c), { orig_mdr: plus(settlement(c).orig_mdr, '0.01'), orig_net_amount: plus(settlement(c).orig_net_amount, '-0.01') }),
  },
  { name: 'settle-amount', codes: ['SETTLE_AMOUNT_MISMATCH'], fits: settled, apply: (c) => void (settlement(c).settle_amount = plus(settlement(c).settle_amount, '-10.00')) },
  { name: 'refund-amount', codes: ['REFUND_AMOUNT_MISMATCH'], fits: withRefund, apply: (c) => void (gatewayRefunds(c)[0]!.refund_amount = plus(gatewayRefunds(c)[0]!.refund_amount, '0.50')) },
  { name: 'refund-failed', codes: ['REFUND_FAILED'], fits: withRefund, apply: (c) => void Object.assign(gatewayRefunds(c)[0]!, { error_code: 'OBAVL', error_message: 'Insufficient Balance' }) },
  { name: 'refund-missing', codes: ['REFUND_MISSING_AT_GATEWAY'], fits: (g) => partialRefund(g) && pastGrace(g), apply: (c) => void gatewayRefunds(c).splice(0, 1) },
  {
    name: 'extra-gateway-refund',
    codes: ['REFUND_NOT_IN_LEDGER'],
    fits: partialRefund,
    apply: (c) => void gatewayRefunds(c).push({ ...gatewayRefunds(c)[0]!, refund_id: `${gatewayRefunds(c)[0]!.refund_id}_extra`, refund_amount: '1.0000' }),
  },
  {
    name: 'refund-over-charge',
    codes: ['REFUND_AMOUNT_MISMATCH', 'REFUND_EXCEEDS_AMOUNT'],
    fits: (g) => withRefund(g) && g.sample.gateway.transaction_state === 'Refunded' && g.spec.refunds!.length === 1,
    apply: (c) => {
      // The clerk books the full refund one satang over the charge; its fees are the gateway's.
      const g = gatewayRefunds(c)[0]!;
      Object.assign(c.ledger[1]!, { amount: plus(c.ledger[1]!.amount, '0.01'), mdr: plus(g.orig_mdr, '0'), vat: plus(g.orig_vat, '0'), net_amount: plus(g.orig_net_amount, '0') });
    },
  },
  { name: 'convfee', codes: ['CONVFEE_MISMATCH'], fits: (g) => settled(g) && !!g.spec.convfee, apply: (c) => void ((c.gateway.convfee as Body).convfee_amount = plus((c.gateway.convfee as Body).convfee_amount, '0.10')) },
  { name: 'convfee-vat', codes: ['CONVFEE_MISMATCH'], fits: (g) => settled(g) && !!g.spec.convfee, apply: (c) => void (c.ledger[0]!.convfee_vat = plus(c.ledger[0]!.convfee_vat, '0.01')) },
  // Both the fee and its VAT differ from what the ledger (does not) book.
  { name: 'convfee-not-booked', codes: ['CONVFEE_MISMATCH', 'CONVFEE_MISMATCH'], fits: (g) => settled(g) && !!g.spec.convfee, apply: (c) => void Object.assign(c.ledger[0]!, { convfee_amount: '', convfee_vat: '' }) },
  { name: 'livemode', codes: ['LIVEMODE_MISMATCH'], fits: () => true, apply: (c) => void (c.gateway.livemode = true) },
  { name: 'livemode-text', codes: ['LIVEMODE_MISMATCH'], fits: () => true, apply: (c) => void (c.gateway.livemode = 'true') },
  { name: 'missing', codes: ['MISSING_AT_GATEWAY'], fits: () => true, apply: (c) => void (c.gateway.__missing = true) },
  { name: 'duplicate', codes: ['DUPLICATE_IN_LEDGER'], fits: () => true, apply: (c) => void c.ledger.splice(1, 0, { ...c.ledger[0]!, entry_id: `${c.ledger[0]!.entry_id}-DUP` }) },
  { name: 'ipan-mode', codes: ['IPAN_MODE_MISMATCH'], fits: (g) => !!g.spec.installment && g.spec.ledgerFees === 'all', apply: (c) => void (c.ledger[0]!.ipan_mode = '03') },
];

const codesByCharge = (result: ScenarioResult) => {
  const byCharge = new Map<string, string[]>();
  for (const m of result.mismatches) byCharge.set(m.charge_id!, [...(byCharge.get(m.charge_id!) ?? []), m.code!]);
  return byCharge;
};
const chargeId = (g: Generated) => g.sample.gateway.id as string;
const plans = () => {
  const report = samplePlanReport();
  return { [report.fileName]: report.csv };
};

const clean = await createTestDatabase();
const broken = await createTestDatabase();

describe(`random books that agree with the gateway (seed ${SEED})`, () => {
  it('reconcile with no error finding, and only the warnings their shape explains', async () => {
    const books = generateBooks(SEED, 'p');
    // The generator reaches every shape the rules care about.
    const has = (test: (g: Generated) => boolean) => books.filter(test).length;
    expect(has((g) => g.warnings.includes('FEES_NOT_REPORTED'))).toBeGreaterThan(0);
    expect(has((g) => g.warnings.includes('REFUND_UNVERIFIABLE'))).toBeGreaterThan(0);
    expect(has((g) => g.warnings.includes('REFUND_PENDING'))).toBeGreaterThan(0);
    expect(has((g) => !g.plainRefunds)).toBeGreaterThan(0);
    expect(has((g) => !!g.spec.convfee)).toBeGreaterThan(0);
    expect(has((g) => !!g.spec.emptyRefunds)).toBeGreaterThan(0);
    expect(has((g) => !!g.spec.installment)).toBeGreaterThan(0);
    expect(has((g) => g.spec.ledgerFees === 'mdr')).toBeGreaterThan(0);
    expect(has((g) => g.spec.date === shiftDate(RATE_CHANGE, -1) && /visa/i.test(g.spec.brand ?? '') && !/kasikorn/i.test(g.spec.issuerBank!))).toBeGreaterThan(0);
    expect(has((g) => g.spec.refunds?.some((r) => typeof r !== 'string' && !!r.entryDate && r.entryDate !== g.spec.date) ?? false)).toBeGreaterThan(0);

    const result = await runScenario(clean, {
      from: FROM,
      to: TO,
      asOf: AS_OF,
      ledger: books.flatMap((g) => g.sample.ledger),
      gateway: books.map((g) => g.sample.gateway),
      fees: FEES,
      plans: plans(),
    });
    expect(result.mismatches.filter((m) => m.severity === 'error').map((m) => `${m.charge_id} ${m.code} ${m.field}: ${m.message}`)).toEqual([]);
    const got = codesByCharge(result);
    for (const g of books) expect([chargeId(g), ...(got.get(chargeId(g)) ?? []).sort()]).toEqual([chargeId(g), ...g.warnings]);
    expect(result.outcome.run.counts).toMatchObject({ charges: books.length, mismatched: 0, unverified: 0, rejected: 0 });
  });

  it('one planted change on a charge gives exactly its codes, and leaves every other charge as it was', async () => {
    const books = generateBooks(SEED + 1, 'q');
    const random = seededRandom(SEED + 2);
    const planted = new Map<string, Defect>();
    // Each kind of change on up to three charges it fits, each charge changed once.
    for (const defect of DEFECTS) {
      const candidates = books.filter((g) => !planted.has(g.key) && defect.fits(g));
      expect(candidates.length, `no charge fits ${defect.name}`).toBeGreaterThan(0);
      for (let i = 0; i < 3 && candidates.length; i += 1) {
        const [g] = candidates.splice(Math.floor(random() * candidates.length), 1);
        defect.apply(g!.sample);
        planted.set(g!.key, defect);
      }
    }
    const result = await runScenario(broken, {
      from: FROM,
      to: TO,
      asOf: AS_OF,
      ledger: books.flatMap((g) => g.sample.ledger),
      gateway: books.filter((g) => !g.sample.gateway.__missing).map((g) => g.sample.gateway),
      fees: FEES,
      plans: plans(),
    });
    const got = codesByCharge(result);
    for (const g of books) {
      const defect = planted.get(g.key);
      // A charge the gateway does not know, or answered in the wrong mode, gets no other check.
      const warnings = defect && ['MISSING_AT_GATEWAY', 'LIVEMODE_MISMATCH'].includes(defect.codes[0]!) ? [] : g.warnings;
      const expected = [...(defect?.codes ?? []), ...warnings].sort();
      expect([chargeId(g), defect?.name, ...(got.get(chargeId(g)) ?? []).sort()]).toEqual([chargeId(g), defect?.name, ...expected]);
    }
    expect(result.outcome.run.counts.mismatched).toBe(planted.size);
  });
});
