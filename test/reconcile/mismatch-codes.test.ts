import { describe, expect, it } from 'vitest';
import { shiftDate } from '../../src/dates.ts';
import { buildCharge, type ChargeSpec, type SampleCharge } from '../../src/sample/charge-builder.ts';
import { planReportCsv, planReportFileName, type PlanRow } from '../../src/sample/sample-files.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { nextDate, runScenario, type Scenario } from '../helpers/scenario.ts';

const database = await createTestDatabase();

/** One charge (built clean, then broken by `tweak`) reconciled on its own date. */
async function reconcileOne(spec: Partial<ChargeSpec>, tweak: (c: SampleCharge) => void = () => {}, extra: Partial<Scenario> = {}) {
  const date = spec.date ?? nextDate();
  const charge = buildCharge({ key: `${date}-${Math.random().toString(36).slice(2, 8)}`, amount: '1000.00', ...spec, date });
  tweak(charge);
  return runScenario(database, { from: date, ledger: charge.ledger, gateway: [charge.gateway], ...extra });
}

const settlement = (c: SampleCharge) => c.gateway.settlement_info as Record<string, unknown>;
const refund = (c: SampleCharge, i = 0) => (c.gateway.refund_info as Record<string, unknown>[])[i]!;

describe('a clean ledger', () => {
  it('matches every charge kind, reports no finding and exits 0', async () => {
    const date = nextDate();
    const charges = [
      buildCharge({ key: `${date}-card`, date, amount: '1250.50' }),
      buildCharge({ key: `${date}-qr`, date, amount: '99.00', sourceType: 'qr' }),
      buildCharge({ key: `${date}-alipay`, date, amount: '300.00', sourceType: 'alipay' }),
      buildCharge({ key: `${date}-refund`, date, amount: '500.00', refunds: ['100.00', '50.25'] }),
      buildCharge({ key: `${date}-full`, date, amount: '80.00', refunds: ['80.00'] }),
      buildCharge({ key: `${date}-void`, date, amount: '42.00', voided: true }),
    ];
    const result = await runScenario(database, { from: date, ledger: charges.flatMap((c) => c.ledger), gateway: charges.map((c) => c.gateway) });
    expect(result.codes).toEqual([]);
    expect(result.outcome.exitCode).toBe(0);
    expect(result.outcome.run.counts).toMatchObject({ charges: 6, matched: 6, mismatched: 0, unverified: 0, rejected: 0 });
  });
});

describe('each mismatch code, end to end', () => {
  it('MISSING_AT_GATEWAY when the gateway does not know the charge, and no other check', async () => {
    const result = await reconcileOne({}, () => {}, { gateway: [] });
    expect(result.codes).toEqual(['MISSING_AT_GATEWAY']);
    expect(result.outcome.exitCode).toBe(1);
  });

  it('INQUIRY_FAILED (a warning: unverified, never matched) when every attempt fails', async () => {
    const date = nextDate();
    const c = buildCharge({ key: `${date}-fail`, date, amount: '10.00' });
    const result = await runScenario(database, {
      from: date,
      ledger: c.ledger,
      gateway: [c.gateway],
      faults: { perCharge: { [c.gateway.id as string]: 'http500' } },
    });
    expect(result.codes).toEqual(['INQUIRY_FAILED']);
    expect(result.mismatches[0]!.severity).toBe('warning');
    expect(result.outcome.run.counts).toMatchObject({ matched: 0, unverified: 1 });
    expect(result.requests).toBe(3); // KPGW_MAX_RETRIES=2: one try and two retries
    expect(result.outcome.exitCode).toBe(0);
  });

  it('CURRENCY_MISMATCH, with amount and fee checks skipped', async () => {
    const result = await reconcileOne({}, (c) => {
      c.gateway.currency = 'USD';
      c.gateway.amount = 30;
    });
    expect(result.codes).toEqual(['CURRENCY_MISMATCH']);
  });

  it('AMOUNT_MISMATCH with the difference gateway minus ledger', async () => {
    const result = await reconcileOne({}, (c) => (c.gateway.amount = '999.99'));
    expect(result.codes).toEqual(['AMOUNT_MISMATCH']);
    expect(result.mismatches[0]).toMatchObject({ field: 'amount', ledger_value: '1000.00', gateway_value: '999.99', difference: '-0.01', severity: 'error' });
  });

  it('STATE_MISMATCH when the gateway voided a charge the ledger settled', async () => {
    const result = await reconcileOne({}, (c) => (c.gateway.transaction_state = 'Voided'));
    expect(result.codes).toEqual(['STATE_MISMATCH']);
    expect(result.mismatches[0]).toMatchObject({ field: 'transaction_state', gateway_value: 'Voided' });
  });

  it('STATE_MISMATCH when the gateway says the charge failed', async () => {
    const result = await reconcileOne({}, (c) => {
      c.gateway.status = 'fail';
      c.gateway.transaction_state = 'Declined';
      c.gateway.failure_code = '51';
      c.gateway.settlement_info = null;
    });
    expect(result.codes).toEqual(['STATE_MISMATCH']);
    expect(result.mismatches[0]).toMatchObject({ field: 'status', gateway_value: 'fail' });
  });

  it('SETTLEMENT_PENDING (a warning) when the gateway has it Authorized or Captured', async () => {
    for (const state of ['Authorized', 'Captured', 'Auhtorized']) {
      const result = await reconcileOne({}, (c) => {
        c.gateway.transaction_state = state;
        c.gateway.settlement_info = null;
      });
      expect(result.codes, state).toEqual(['SETTLEMENT_PENDING']);
      expect(result.outcome.exitCode, state).toBe(0);
      expect(result.outcome.run.counts.matched, state).toBe(1);
    }
  });

  it('DATE_MISMATCH (a warning) when the gateway created the charge on another Bangkok day', async () => {
    const result = await reconcileOne({}, (c) => {
      c.gateway.created = `${(c.gateway.created as string).slice(0, 6)}${String(Number((c.gateway.created as string).slice(6, 8)) + 1).padStart(2, '0')}003000000`;
    });
    expect(result.codes).toEqual(['DATE_MISMATCH']);
    expect(result.mismatches[0]!.severity).toBe('warning');
  });

  it('SETTLE_AMOUNT_MISMATCH when settle_amount differs from the ledger amount', async () => {
    const result = await reconcileOne({}, (c) => (settlement(c).settle_amount = '990.0000'));
    expect(result.codes).toEqual(['SETTLE_AMOUNT_MISMATCH']);
    expect(result.mismatches[0]).toMatchObject({ field: 'settle_amount', difference: '-10.00' });
  });

  it('reads settlement_amount, the name in the guide’s table, as the settled amount too', async () => {
    const result = await reconcileOne({}, (c) => {
      const s = settlement(c);
      s.settlement_amount = '990.0000';
      delete s.settle_amount;
    });
    expect(result.codes).toEqual(['SETTLE_AMOUNT_MISMATCH']);
  });

  it('MDR_MISMATCH, VAT_MISMATCH and NET_MISMATCH against the fee schedule', async () => {
    // The gateway charged 2.8 % where the schedule says 2.5 %: 28.00/1.96/970.04 vs 25.00/1.75/973.25.
    const result = await reconcileOne({ mdrRate: '0.028' });
    expect(result.codes).toEqual(['MDR_MISMATCH', 'NET_MISMATCH', 'VAT_MISMATCH']);
    const byCode = Object.fromEntries(result.mismatches.map((m) => [m.code, m]));
    expect(byCode.MDR_MISMATCH).toMatchObject({ field: 'orig_mdr', ledger_value: '25.00', gateway_value: '28.00', difference: '3.00' });
    expect(byCode.VAT_MISMATCH).toMatchObject({ field: 'orig_vat', ledger_value: '1.75', gateway_value: '1.96', difference: '0.21' });
    expect(byCode.NET_MISMATCH).toMatchObject({ field: 'orig_net_amount', ledger_value: '973.25', gateway_value: '970.04', difference: '-3.21' });
  });

  it('VAT_MISMATCH and NET_MISMATCH against the ledger’s own fee figures, which win over the schedule', async () => {
    const result = await reconcileOne({}, (c) => {
      Object.assign(c.ledger[0]!, { mdr: '25.00', vat: '1.75', net_amount: '973.25' });
      Object.assign(settlement(c), { orig_vat: '1.7600', orig_net_amount: '973.2400' });
    }, { fees: { vat_rate: '0.07', rules: [{ rate: '0.5' }] } });
    expect(result.codes).toEqual(['NET_MISMATCH', 'VAT_MISMATCH']);
  });

  it('SETTLEMENT_INCONSISTENT when the gateway’s net is not amount − MDR − VAT', async () => {
    const result = await reconcileOne({}, (c) => (settlement(c).orig_net_amount = '973.2600'), { fees: null });
    expect(result.codes).toEqual(['SETTLEMENT_INCONSISTENT']);
  });

  it('REFUND_MISSING_AT_GATEWAY when a ledger refund is not at the gateway after the grace days', async () => {
    const date = nextDate();
    const asOf = shiftDate(date, 3); // RECON_REFUND_GRACE_DAYS' default: before that it is only pending
    const result = await reconcileOne({ date, amount: '500.00', refunds: ['100.00'] }, (c) => (c.gateway.refund_info = null), { asOf });
    expect(result.codes).toEqual(['REFUND_MISSING_AT_GATEWAY']);
    expect(result.mismatches[0]!.entry_id).toMatch(/-R1$/);
  });

  it('REFUND_NOT_IN_LEDGER when the gateway refunded something the ledger does not book', async () => {
    const result = await reconcileOne({ amount: '500.00', refunds: ['100.00'] }, (c) => c.ledger.splice(1, 1));
    // …and the ledger, without the refund, expects the charge Settled, not Partial Refund.
    expect(result.codes).toEqual(['REFUND_NOT_IN_LEDGER', 'STATE_MISMATCH']);
  });

  it('REFUND_FAILED when the matched gateway refund carries an error_code', async () => {
    const result = await reconcileOne({ amount: '500.00', refunds: ['100.00'] }, (c) =>
      Object.assign(refund(c), { error_code: 'OBAVL', error_message: 'Insufficient Balance' }),
    );
    expect(result.codes).toEqual(['REFUND_FAILED']);
    expect(result.mismatches[0]).toMatchObject({ gateway_value: 'OBAVL' });
  });

  it('REFUND_AMOUNT_MISMATCH when refunds matched by refund_id differ in amount', async () => {
    const result = await reconcileOne({ amount: '500.00', refunds: ['100.00'] }, (c) => (refund(c).refund_amount = '100.5000'));
    expect(result.codes).toEqual(['REFUND_AMOUNT_MISMATCH']);
    expect(result.mismatches[0]!.field).toMatch(/^refund_info\[refd_test_.*_1\]\.refund_amount$/);
    expect(result.mismatches[0]!.difference).toBe('0.50');
  });

  it('REFUND_MDR_MISMATCH, REFUND_VAT_MISMATCH, REFUND_NET_MISMATCH against the ledger refund row', async () => {
    const result = await reconcileOne({ amount: '500.00', refunds: ['100.00'] }, (c) => {
      Object.assign(c.ledger[1]!, { mdr: '2.00', vat: '0.14', net_amount: '97.86' });
      // the gateway's refund fees are 2.50 / 0.18 / 97.32
    });
    expect(result.codes).toEqual(['REFUND_MDR_MISMATCH', 'REFUND_NET_MISMATCH', 'REFUND_VAT_MISMATCH']);
    expect(result.mismatches.find((m) => m.code === 'REFUND_VAT_MISMATCH')!.field).toMatch(/\]\.orig_vat$/);
  });

  it('DUPLICATE_IN_LEDGER for a second charge row of the same charge', async () => {
    const result = await reconcileOne({}, (c) => c.ledger.push({ ...c.ledger[0]!, entry_id: `${c.ledger[0]!.entry_id}-again`, charge_id: '' }));
    expect(result.codes).toEqual(['DUPLICATE_IN_LEDGER']);
    expect(result.mismatches[0]!.entry_id).toMatch(/-again$/);
    expect(result.outcome.run.counts.charges).toBe(1);
  });
});

describe('installment checks against the Installment Plan Report', () => {
  const supplier = '09902';
  const plan = (over: Partial<PlanRow> = {}): PlanRow => ({
    'SeqNo.': '1', PromotionName: 'ผ่อน 0% นาน 10 เดือน', ValidFrom: '01/01/2026', ValidTo: '31/12/2026', IPanMode: '01',
    ProductName: 'ALL PRODUCT', 'SupplierNo.': supplier, ProductType: '3', 'ModelNo.': '999999', PlanID: '999',
    ModelName: 'Galaxy Z Flip3 5G', MinPrice: '3000.00', MaxPrice: '999999999', PaymentTerm: '10', CardType: 'C', ...over,
  });
  const plans = (...rows: PlanRow[]) => ({ [planReportFileName(supplier, '2026-01-01', '2026-12-31')]: planReportCsv(rows) });
  const installment = { planId: '999', ipanMode: '01', term: 10, supplierNo: supplier, modelNo: '999999', productType: '003' };
  const fees = { vat_rate: '0.07', rules: [{ source_type: 'card', ipan_mode: '01', term: 10, rate: '0.065' }] };

  // Each case its own supplier: reports of one supplier imported today are versions, and a past
  // charge is judged by the earliest of them (docs/reference.md §3.2), i.e. by the first case's report.
  let suppliers = 0;
  async function installmentCase(over: Partial<typeof installment>, planRows: PlanRow[], amount = '12000.00', date?: string) {
    const supplierNo = `1${String(++suppliers).padStart(4, '0')}`;
    const report = { [planReportFileName(supplierNo, '2026-01-01', '2026-12-31')]: planReportCsv(planRows.map((r) => ({ ...r, 'SupplierNo.': supplierNo }))) };
    return reconcileOne({ amount, date, installment: { ...installment, supplierNo, ...over }, mdrRate: '0.065' }, () => {}, { plans: report, fees });
  }

  it('passes a charge on a valid plan (ProductType 3 is the charge’s 003), fees from the installment rule', async () => {
    expect((await installmentCase({}, [plan()])).codes).toEqual([]);
  });
  it('INSTALLMENT_PLAN_UNKNOWN when no plan has that supplier, plan, model and product type', async () => {
    expect((await installmentCase({ modelNo: '111111' }, [plan()])).codes).toEqual(['INSTALLMENT_PLAN_UNKNOWN']);
  });
  it('INSTALLMENT_PLAN_INACTIVE the day after the plan ends, and not on its last day', async () => {
    const rows = [plan({ ValidFrom: '01/01/2026', ValidTo: '15/03/2026' })];
    expect((await installmentCase({}, rows, '12000.00', '2026-03-15')).codes).toEqual([]);
    expect((await installmentCase({}, rows, '12000.00', '2026-03-16')).codes).toEqual(['INSTALLMENT_PLAN_INACTIVE']);
  });
  it('INSTALLMENT_TERM_INVALID when the active plan does not offer the term', async () => {
    expect((await installmentCase({ term: 6 }, [plan()])).codes).toEqual(['INSTALLMENT_TERM_INVALID']);
  });
  it('INSTALLMENT_PRICE_OUT_OF_RANGE below MinPrice, and not at MinPrice exactly', async () => {
    expect((await installmentCase({}, [plan()], '3000.00')).codes).toEqual([]);
    expect((await installmentCase({}, [plan()], '2999.99')).codes).toEqual(['INSTALLMENT_PRICE_OUT_OF_RANGE']);
  });
  it('IPAN_MODE_MISMATCH when the ledger’s ipan mode is not the plan’s', async () => {
    const result = await reconcileOne(
      { amount: '12000.00', installment: { ...installment, ipanMode: '02' }, mdrRate: '0.025' },
      () => {},
      { plans: plans(plan()), fees: { vat_rate: '0.07', rules: [{ rate: '0.025' }] } },
    );
    expect(result.codes).toEqual(['IPAN_MODE_MISMATCH']);
  });
});
