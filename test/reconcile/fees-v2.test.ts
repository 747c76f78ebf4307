import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ReconError } from '../../src/errors.ts';
import { createLogger } from '../../src/log.ts';
import { money } from '../../src/money.ts';
import { loadFees } from '../../src/run/ingest.ts';
import { parseFeeSchedule } from '../../src/reconcile/fee-schedule-parse.ts';
import { buildCharge, type ChargeSpec, type GatewayBody, type LedgerRow, type SampleCharge } from '../../src/sample/charge-builder.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { nextDate, runScenario, type Scenario } from '../helpers/scenario.ts';

const database = await createTestDatabase();

/** Charges (built clean, then changed by each test) reconciled together on `from`…`to`. */
function run(charges: SampleCharge[], extra: Partial<Scenario> & { from: string }) {
  return runScenario(database, { ledger: charges.flatMap((c) => c.ledger), gateway: charges.map((c) => c.gateway), ...extra });
}
let serial = 0;
function charge(spec: Partial<ChargeSpec> & { date: string }): SampleCharge {
  return buildCharge({ key: `fees-${serial++}`, amount: '1000.00', ...spec });
}
const settlement = (c: SampleCharge) => c.gateway.settlement_info as Record<string, unknown>;
const refundInfo = (c: SampleCharge, i = 0) => (c.gateway.refund_info as Record<string, unknown>[])[i]!;
/** What the gateway reports as MDR and VAT (net follows: amount − MDR − VAT). */
function gatewayFees(c: SampleCharge, mdr: string, vat: string) {
  const amount = money(c.ledger[0]!.amount!);
  Object.assign(settlement(c), { orig_mdr: mdr, orig_vat: vat, orig_net_amount: amount.minus(mdr).minus(vat).toFixed(4) });
}
const finding = (result: Awaited<ReturnType<typeof run>>, code: string) => result.mismatches.filter((m) => m.code === code);
const dayAfter = (date: string) => new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);

describe('expected fees v2: VAT and net follow the expected MDR', () => {
  it('a ledger MDR different from the rule, with no VAT or net: no false VAT or NET mismatch', async () => {
    const date = nextDate();
    // KBank charged this merchant 2 %, the schedule says 2.5 %; the ledger books the 20.00 it was charged.
    const c = charge({ date, mdrRate: '0.02' });
    c.ledger[0]!.mdr = '20.00';
    const result = await run([c], { from: date });
    expect(result.codes).toEqual([]);
    expect(result.outcome.exitCode).toBe(0);
  });
  it('VAT and net are then expected from the ledger MDR: 20.00 → VAT 1.40, net 978.60', async () => {
    const date = nextDate();
    const c = charge({ date, mdrRate: '0.02' });
    c.ledger[0]!.mdr = '20.00';
    gatewayFees(c, '20.0000', '1.7500'); // VAT of the rule's 25.00, not of the MDR charged
    const result = await run([c], { from: date });
    expect(result.codes).toEqual(['NET_MISMATCH', 'VAT_MISMATCH']);
    expect(finding(result, 'VAT_MISMATCH')[0]).toMatchObject({ field: 'orig_vat', ledger_value: '1.40', gateway_value: '1.75', difference: '0.35' });
    expect(finding(result, 'NET_MISMATCH')[0]).toMatchObject({ ledger_value: '978.60', gateway_value: '978.25', difference: '-0.35' });
  });
  it('a ledger VAT without MDR: MDR from the rule, net from the rule’s MDR and the ledger’s VAT', async () => {
    const date = nextDate();
    const c = charge({ date });
    c.ledger[0]!.vat = '1.76';
    const result = await run([c], { from: date });
    // Expected 25.00 / 1.76 / 973.24; the gateway says 25.00 / 1.75 / 973.25.
    expect(result.codes).toEqual(['NET_MISMATCH', 'VAT_MISMATCH']);
    expect(finding(result, 'NET_MISMATCH')[0]).toMatchObject({ ledger_value: '973.24', gateway_value: '973.25' });
  });
  it('a ledger MDR and no rule for the charge: VAT and net are not guessed (skipped)', async () => {
    const date = nextDate();
    const c = charge({ date, mdrRate: '0.02' });
    c.ledger[0]!.mdr = '20.00';
    settlement(c).orig_vat = '9.9900';
    const result = await run([c], { from: date, fees: { vat_rate: '0.07', rules: [{ source_type: 'qr', rate: '0.01' }] } });
    // Only the gateway's own arithmetic is left to check, and it no longer adds up.
    expect(result.codes).toEqual(['SETTLEMENT_INCONSISTENT']);
  });
  it('a non-THB charge: fees on settlement_info.baht_amount', async () => {
    const date = nextDate();
    const c = charge({ date, amount: '100.00', currency: 'USD' });
    Object.assign(settlement(c), { baht_amount: '3500.0000', exchange_rate: '35.0000', orig_amount: '3500.0000' });
    gatewayFees(c, '87.5000', '6.1300'); // 3500 × 2.5 % = 87.50, VAT 6.125 → 6.13
    settlement(c).orig_net_amount = '3406.3700';
    const result = await run([c], { from: date });
    expect(result.codes).toEqual([]);
  });
});

describe('fee rules with dates, bounds and a fixed fee, end to end', () => {
  it('a rule applies on its valid_to day and not the day after', async () => {
    const last = nextDate();
    const next = dayAfter(last);
    nextDate(); // `next` is this test's too
    const fees = { vat_rate: '0.07', rules: [{ source_type: 'card', rate: '0.02', valid_to: last }, { source_type: 'card', rate: '0.025', valid_from: next }] };
    const onLastDay = charge({ date: last, mdrRate: '0.02' });
    const dayAfterAtOldRate = charge({ date: next, mdrRate: '0.02' });
    const result = await run([onLastDay, dayAfterAtOldRate], { from: last, to: next, fees });
    expect(result.mismatches.map((m) => [m.entry_id, m.code]).sort()).toEqual([
      [dayAfterAtOldRate.ledger[0]!.entry_id, 'MDR_MISMATCH'],
      [dayAfterAtOldRate.ledger[0]!.entry_id, 'NET_MISMATCH'],
      [dayAfterAtOldRate.ledger[0]!.entry_id, 'VAT_MISMATCH'],
    ]);
    expect(finding(result, 'MDR_MISMATCH')[0]).toMatchObject({ ledger_value: '25.00', gateway_value: '20.00' });
  });

  it('re-running a month after a rate change: old charges keep their old rate through valid_to', async () => {
    const before = nextDate();
    const after = dayAfter(before);
    nextDate();
    const oldSchedule = { vat_rate: '0.07', rules: [{ source_type: 'card', rate: '0.02' }] };
    const old = charge({ date: before, mdrRate: '0.02' });
    expect((await run([old], { from: before, fees: oldSchedule })).codes).toEqual([]);
    // The rate went up the next day; the schedule now says so, with the old rate closed off.
    const newSchedule = {
      vat_rate: '0.07',
      rules: [{ source_type: 'card', rate: '0.02', valid_to: before }, { source_type: 'card', rate: '0.025', valid_from: after }],
    };
    const current = charge({ date: after, mdrRate: '0.025' });
    const rerun = await run([old, current], { from: before, to: after, fees: newSchedule });
    expect(rerun.codes).toEqual([]);
    expect(rerun.outcome.run.counts).toMatchObject({ charges: 2, matched: 2 });
  });

  it('min and max exactly hit, and an MDR the gateway did not bound', async () => {
    const date = nextDate();
    const fees = { vat_rate: '0.07', rules: [{ source_type: 'card', rate: '0.028', min: '5.00', max: '500.00' }] };
    const atMin = charge({ date, amount: '100.00' }); // 2.80 → 5.00
    gatewayFees(atMin, '5.0000', '0.3500');
    const exactlyMin = charge({ date, amount: '178.57' }); // 4.99996 → 5.00
    gatewayFees(exactlyMin, '5.0000', '0.3500');
    const exactlyMax = charge({ date, amount: '17857.14' }); // 499.99992 → 500.00
    gatewayFees(exactlyMax, '500.0000', '35.0000');
    const overMax = charge({ date, amount: '20000.00' }); // 560.00 → 500.00
    gatewayFees(overMax, '500.0000', '35.0000');
    const unbounded = charge({ date, amount: '150.00' }); // 4.20 → 5.00, the gateway charged 4.20
    gatewayFees(unbounded, '4.2000', '0.2900');
    const result = await run([atMin, exactlyMin, exactlyMax, overMax, unbounded], { from: date, fees });
    expect(result.mismatches.map((m) => m.entry_id).every((id) => id === unbounded.ledger[0]!.entry_id)).toBe(true);
    expect(result.codes).toEqual(['MDR_MISMATCH', 'NET_MISMATCH', 'VAT_MISMATCH']);
    expect(finding(result, 'MDR_MISMATCH')[0]).toMatchObject({ ledger_value: '5.00', gateway_value: '4.20', difference: '-0.80' });
  });

  it('a fixed fee per charge: 100.00 × 2 % + 1.00 = 3.00; without the fixed fee it is a mismatch', async () => {
    const date = nextDate();
    const fees = { vat_rate: '0.07', rules: [{ source_type: 'unionpay', rate: '0.02', fixed: '1.00' }] };
    const withFixed = charge({ date, amount: '100.00', sourceType: 'unionpay' });
    gatewayFees(withFixed, '3.0000', '0.2100');
    const withoutFixed = charge({ date, amount: '100.00', sourceType: 'unionpay', mdrRate: '0.02' });
    const result = await run([withFixed, withoutFixed], { from: date, fees });
    expect(result.codes).toEqual(['MDR_MISMATCH', 'NET_MISMATCH', 'VAT_MISMATCH']);
    expect(finding(result, 'MDR_MISMATCH')[0]).toMatchObject({ entry_id: withoutFixed.ledger[0]!.entry_id, ledger_value: '3.00', gateway_value: '2.00' });
  });

  it('a dated vat_rate list switches on its first day', async () => {
    const last = nextDate();
    const first = dayAfter(last);
    nextDate();
    const fees = { vat_rate: [{ rate: '0.07', valid_to: last }, { rate: '0.10', valid_from: first }], rules: [{ source_type: 'card', rate: '0.025' }] };
    const at7 = charge({ date: last });
    const at10 = charge({ date: first, vatRate: '0.10' }); // 25.00 → VAT 2.50
    const stillAt7 = charge({ date: first }); // the gateway kept 7 %: 1.75
    const result = await run([at7, at10, stillAt7], { from: last, to: first, fees });
    expect(result.codes).toEqual(['NET_MISMATCH', 'VAT_MISMATCH']);
    expect(finding(result, 'VAT_MISMATCH')[0]).toMatchObject({ entry_id: stillAt7.ledger[0]!.entry_id, ledger_value: '2.50', gateway_value: '1.75' });
  });

  it('an issuer_bank rule matches however the gateway spells KBank', async () => {
    const date = nextDate();
    const fees = { vat_rate: '0.07', rules: [{ source_type: 'card', issuer_bank: 'kasikorn', rate: '0.018' }, { source_type: 'card', rate: '0.025' }] };
    const spellings = ['Kasikornbank Public Limited', 'KASIKORN BANK PUBLIC COMPANY LIMITED', 'Kasikornbank Public Company Limited'];
    const onUs = spellings.map((issuer) => {
      const c = charge({ date, mdrRate: '0.018' });
      (c.gateway.source as Record<string, unknown>).issuer_bank = issuer;
      return c;
    });
    const otherBank = charge({ date });
    (otherBank.gateway.source as Record<string, unknown>).issuer_bank = 'Bangkok Bank Public Company Limited';
    const result = await run([...onUs, otherBank], { from: date, fees });
    expect(result.codes).toEqual([]);
    expect(result.outcome.run.counts).toMatchObject({ charges: 4, matched: 4 });
  });
});

describe('FEES_NOT_REPORTED', () => {
  it('settled, all orig_* figures zero: one warning, no "KBank paid 0.00" errors, exit 0', async () => {
    const date = nextDate();
    const c = charge({ date });
    Object.assign(settlement(c), { orig_amount: 0.0, orig_mdr: 0.0, orig_vat: 0.0, orig_net_amount: 0.0 });
    const result = await run([c], { from: date });
    expect(result.codes).toEqual(['FEES_NOT_REPORTED']);
    expect(result.mismatches[0]).toMatchObject({ severity: 'warning', field: 'settlement_info', gateway_value: '1000.00' });
    expect(result.outcome.exitCode).toBe(0);
  });
  it('absent figures count as zero; the settled amount is still checked', async () => {
    const date = nextDate();
    const c = charge({ date });
    for (const key of ['orig_amount', 'orig_mdr', 'orig_vat', 'orig_net_amount']) delete settlement(c)[key];
    settlement(c).settle_amount = '999.0000';
    const result = await run([c], { from: date });
    expect(result.codes).toEqual(['FEES_NOT_REPORTED', 'SETTLE_AMOUNT_MISMATCH']);
  });
  it('one figure reported (orig_amount) is figures: the zero fees are checked', async () => {
    const date = nextDate();
    const c = charge({ date });
    Object.assign(settlement(c), { orig_mdr: 0.0, orig_vat: 0.0, orig_net_amount: 0.0 });
    const result = await run([c], { from: date });
    expect(result.codes).toEqual(['MDR_MISMATCH', 'NET_MISMATCH', 'SETTLEMENT_INCONSISTENT', 'VAT_MISMATCH']);
  });
  it('nothing settled yet (settle_amount 0): not this warning', async () => {
    const date = nextDate();
    const c = charge({ date, amount: '10.00' });
    Object.assign(settlement(c), { settle_amount: 0.0, orig_amount: 0.0, orig_mdr: 0.0, orig_vat: 0.0, orig_net_amount: 0.0 });
    const result = await run([c], { from: date, fees: null });
    expect(result.codes).toEqual(['SETTLE_AMOUNT_MISMATCH']);
  });
});

describe('refund fees under refund_fee_reversal', () => {
  const guideInquiry = async (): Promise<GatewayBody> =>
    JSON.parse(await readFile(join(import.meta.dirname, '../fixtures/guide/6.1.2-inquiry.json'), 'utf8')) as GatewayBody;
  /** The guide's §6.1.2 sample with the books that agree with it: 11 THB charged and refunded in full. */
  async function guideCase() {
    const gateway = await guideInquiry();
    // The sample is a live answer; the scenario's simulator holds a test key. The one change.
    gateway.livemode = false;
    const date = '2019-06-04';
    const common: LedgerRow = { charge_id: String(gateway.id), reference_order: 'JUASU95Q4F', transaction_date: date, source_type: 'card', currency: 'THB' };
    const ledger: LedgerRow[] = [
      { ...common, entry_id: 'G-6.1.2', entry_type: 'charge', amount: '11.00' },
      { ...common, entry_id: 'G-6.1.2-R', entry_type: 'refund', amount: '11.00', refund_id: 'refd_prod_00000012345678901234567890123456789' },
    ];
    return { gateway, ledger, date };
  }
  const proRata = { vat_rate: '0.07', refund_fee_reversal: 'pro_rata', rules: [{ source_type: 'card', rate: '0.025' }] };

  it('the guide’s Inquiry sample (a full refund of 11 THB returning 0.28 / 0.02 / 10.70) passes under pro_rata at 2.5 %', async () => {
    const { gateway, ledger, date } = await guideCase();
    const result = await runScenario(database, { from: date, ledger, gateway: [gateway], fees: proRata });
    expect(result.codes).toEqual([]);
  });
  it('under pro_rata, a refund returning one satang too little MDR is REFUND_MDR_MISMATCH; under none it is not checked', async () => {
    const { gateway, ledger, date } = await guideCase();
    (gateway.refund_info as Record<string, unknown>[])[0]!.orig_mdr = 0.27;
    const result = await runScenario(database, { from: date, ledger, gateway: [gateway], fees: proRata });
    expect(result.codes).toEqual(['REFUND_MDR_MISMATCH']);
    expect(result.mismatches[0]).toMatchObject({
      entry_id: 'G-6.1.2-R',
      field: 'refund_info[refd_prod_00000012345678901234567890123456789].orig_mdr',
      ledger_value: '0.28',
      gateway_value: '0.27',
      difference: '-0.01',
    });
    const none = await runScenario(database, { from: date, ledger, gateway: [gateway], fees: { ...proRata, refund_fee_reversal: 'none' } });
    expect(none.codes).toEqual([]);
  });
  it('a partial refund: 100.00 of a 1000.00 charge returns 2.50 / 0.18 / 97.32; a refund that returned no fee is flagged', async () => {
    const date = nextDate();
    const partial = charge({ date, refunds: ['100.00'] });
    expect(refundInfo(partial)).toMatchObject({ orig_mdr: '2.5000', orig_vat: '0.1800', orig_net_amount: '97.3200' });
    const noReversal = charge({ date, refunds: ['100.00'] });
    Object.assign(refundInfo(noReversal), { orig_mdr: '0.0000', orig_vat: '0.0000', orig_net_amount: '100.0000' });
    const result = await run([partial, noReversal], { from: date, fees: proRata });
    expect(result.codes).toEqual(['REFUND_MDR_MISMATCH', 'REFUND_NET_MISMATCH', 'REFUND_VAT_MISMATCH']);
    expect(result.mismatches.every((m) => m.entry_id === noReversal.ledger[1]!.entry_id)).toBe(true);
    expect(finding(result, 'REFUND_NET_MISMATCH')[0]).toMatchObject({ ledger_value: '97.32', gateway_value: '100.00' });
  });
  it('the ledger refund row’s own figures win over pro_rata; a failed refund is REFUND_FAILED only', async () => {
    const date = nextDate();
    const booked = charge({ date, refunds: ['100.00'] });
    Object.assign(booked.ledger[1]!, { mdr: '0.00', vat: '0.00', net_amount: '100.00' });
    Object.assign(refundInfo(booked), { orig_mdr: '0.0000', orig_vat: '0.0000', orig_net_amount: '100.0000' });
    const failed = charge({ date, refunds: ['100.00'] });
    Object.assign(refundInfo(failed), { orig_mdr: 0.0, orig_vat: 0.0, orig_net_amount: 100.0, error_code: 'OBAVL', error_message: 'Insufficient Balance' });
    const result = await run([booked, failed], { from: date, fees: proRata });
    expect(result.mismatches.map((m) => [m.entry_id, m.code])).toEqual([[failed.ledger[1]!.entry_id, 'REFUND_FAILED']]);
  });
});

describe('CONVFEE_MISMATCH', () => {
  /** The guide's convfee object (§6.1.2) on a charge of 10.00: 2.50 fee, 0.18 VAT, 12.68 in all. */
  function withConvfee(date: string) {
    const c = charge({ date, amount: '10.00' });
    c.gateway.convfee = { convfee_amount: 2.5, convfee_vat_amount: 0.18, net_amount: 12.68 };
    return c;
  }
  it('booked as the gateway has it: no finding, and amount is compared without the fee', async () => {
    const date = nextDate();
    const c = withConvfee(date);
    Object.assign(c.ledger[0]!, { convfee_amount: '2.50', convfee_vat: '0.18' });
    expect((await run([c], { from: date })).codes).toEqual([]);
  });
  it('a fee the ledger does not book: both figures against 0.00', async () => {
    const date = nextDate();
    const result = await run([withConvfee(date)], { from: date });
    expect(result.mismatches.map((m) => [m.code, m.field, m.ledger_value, m.gateway_value, m.difference])).toEqual([
      ['CONVFEE_MISMATCH', 'convfee_amount', '0.00', '2.50', '2.50'],
      ['CONVFEE_MISMATCH', 'convfee_vat_amount', '0.00', '0.18', '0.18'],
    ]);
  });
  it('a fee the ledger books and the gateway does not show', async () => {
    const date = nextDate();
    const c = charge({ date, amount: '10.00' });
    Object.assign(c.ledger[0]!, { convfee_amount: '2.50' });
    const result = await run([c], { from: date });
    expect(result.mismatches.map((m) => [m.code, m.field, m.ledger_value, m.gateway_value])).toEqual([['CONVFEE_MISMATCH', 'convfee_amount', '2.50', '0.00']]);
  });
  it('VAT on the fee one satang off; the fee folded into the amount is AMOUNT_MISMATCH', async () => {
    const date = nextDate();
    const vatOff = withConvfee(date);
    Object.assign(vatOff.ledger[0]!, { convfee_amount: '2.50', convfee_vat: '0.17' });
    const folded = withConvfee(date);
    Object.assign(folded.ledger[0]!, { amount: '12.68', convfee_amount: '2.50', convfee_vat: '0.18' });
    const result = await run([vatOff, folded], { from: date, fees: null });
    const found = result.mismatches.map((m) => [m.entry_id, m.code, m.field]);
    expect(found).toContainEqual([vatOff.ledger[0]!.entry_id, 'CONVFEE_MISMATCH', 'convfee_vat_amount']);
    expect(found).toContainEqual([folded.ledger[0]!.entry_id, 'AMOUNT_MISMATCH', 'amount']);
    expect(found.filter(([id]) => id === vatOff.ledger[0]!.entry_id)).toHaveLength(1);
  });
});

describe('LIVEMODE_MISMATCH', () => {
  it('a live answer for a test key: that code and no other check, the charge mismatched', async () => {
    const date = nextDate();
    const c = charge({ date });
    c.gateway.livemode = true;
    c.gateway.amount = 999.0; // would be AMOUNT_MISMATCH if the answer were used
    const result = await run([c], { from: date });
    expect(result.mismatches.map((m) => [m.code, m.field, m.ledger_value, m.gateway_value])).toEqual([['LIVEMODE_MISMATCH', 'livemode', 'false', 'true']]);
    expect(result.outcome.exitCode).toBe(1);
    expect(result.outcome.run.counts).toMatchObject({ mismatched: 1, matched: 0 });
  });
  it('livemode as the string "true" is a mismatch, "false" or absent is not', async () => {
    const date = nextDate();
    const asText = charge({ date });
    asText.gateway.livemode = 'true';
    const falseText = charge({ date });
    falseText.gateway.livemode = 'false';
    const absent = charge({ date });
    delete absent.gateway.livemode;
    const result = await run([asText, falseText, absent], { from: date });
    expect(result.mismatches.map((m) => [m.entry_id, m.code])).toEqual([[asText.ledger[0]!.entry_id, 'LIVEMODE_MISMATCH']]);
  });
});

describe('a fee schedule that is wrong stops the run before anything is ingested', () => {
  it('exit 2 (ReconError INPUT) with one line naming the rule; the ledger is not read', async () => {
    const date = nextDate();
    const c = charge({ date });
    const fees = { vat_rate: '0.07', rules: [{ source_type: 'card', rate: '0.02' }, { source_type: 'card', brand: 'visa', rat: '0.025' }] };
    const error = await run([c], { from: date, fees }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReconError);
    expect((error as ReconError).code).toBe('INPUT');
    expect((error as Error).message).toMatch(/fees\.json: rules\[1\]: unknown field 'rat' \(did you mean 'rate'\?\)$/);
    const stored = await database.db.selectFrom('ledger_entries').select('entry_id').where('transaction_date', '=', date).execute();
    expect(stored).toEqual([]);
  });
  it('a stored schedule (what rerun uses) parses to the same schedule as the file', async () => {
    const date = nextDate();
    const fees = {
      vat_rate: [{ rate: '0.07', valid_to: '2024-09-30' }, { rate: '0.0700', valid_from: '2024-10-01' }],
      refund_fee_reversal: 'pro_rata',
      rules: [
        { source_type: 'card', brand: 'Visa', issuer_bank: 'Kasikorn Bank', rate: '0.0180', valid_from: '2026-01-01' },
        { source_type: 'card', ipan_mode: '01', term: 10, rate: '0.065', fixed: '1.00', min: '5.00', max: '500.00' },
      ],
    };
    await run([charge({ date })], { from: date, fees });
    const stored = await loadFees(database.db, { kind: 'latest' }, createLogger({ level: 'silent' }));
    expect(stored).toEqual(parseFeeSchedule(fees));
    expect(stored!.rules[0]!.rate.toFixed()).toBe('0.018');
  });
});
