import { describe, expect, it } from 'vitest';
import { shiftDate } from '../../src/dates.ts';
import { buildCharge, type ChargeSpec, type SampleCharge } from '../../src/sample/charge-builder.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { nextDate, runScenario, type Scenario } from '../helpers/scenario.ts';

const database = await createTestDatabase();

type Json = Record<string, unknown>;

/**
 * One charge built clean, then changed by `tweak`, reconciled on its own date. The run is as of
 * ten days later unless told otherwise, so refunds are past the grace days.
 */
async function reconcileOne(spec: Partial<ChargeSpec>, tweak: (c: SampleCharge) => void = () => {}, extra: Partial<Scenario> = {}) {
  const date = spec.date ?? nextDate();
  const charge = buildCharge({ key: `${date}-${Math.random().toString(36).slice(2, 8)}`, amount: '500.00', ...spec, date });
  tweak(charge);
  return runScenario(database, { from: date, asOf: shiftDate(date, 10), ledger: charge.ledger, gateway: [charge.gateway], ...extra });
}

const gatewayRefunds = (c: SampleCharge) => c.gateway.refund_info as Json[];
const refundRows = (c: SampleCharge) => c.ledger.filter((r) => r.entry_type === 'refund');

describe('empty refund entries are not refunds', () => {
  for (const [label, value] of [
    ['{}', {}],
    ['[{}]', [{}]],
    ['""', ''],
    ['[""]', ['']],
    ['[null]', [null]],
    ['an entry with neither amount nor id', [{ error_code: null, error_message: null, refund_date: '20260101120000000' }]],
  ] as const) {
    it(`refund_info ${label} on a settled charge gives no finding`, async () => {
      const result = await reconcileOne({}, (c) => (c.gateway.refund_info = value));
      expect(result.codes).toEqual([]);
      expect(result.outcome.exitCode).toBe(0);
    });
  }

  it('an entry with a refund id but no amount is still a refund (of unknown amount)', async () => {
    const result = await reconcileOne({}, (c) => (c.gateway.refund_info = [{ refund_id: 'refd_test_only_id' }]));
    expect(result.codes).toEqual(['REFUND_NOT_IN_LEDGER']);
    expect(result.mismatches[0]!.field).toBe('refund_info[refd_test_only_id]');
  });
});

describe('retried refunds', () => {
  it('a refund that failed with OBAVL and was made again matches the successful one', async () => {
    const result = await reconcileOne({ refunds: ['100.00'] }, (c) => {
      delete refundRows(c)[0]!.refund_id; // matched by amount
      const done = gatewayRefunds(c)[0]!;
      const failed = { ...done, refund_id: 'refd_test_failed', error_code: 'OBAVL', error_message: 'Insufficient Balance', refund_date: '20250101090000000' };
      c.gateway.refund_info = [failed, done];
    });
    expect(result.codes).toEqual([]);
    expect(result.outcome.exitCode).toBe(0);
  });

  it('also when the gateway lists the successful one first', async () => {
    const result = await reconcileOne({ refunds: ['100.00'] }, (c) => {
      delete refundRows(c)[0]!.refund_id;
      const done = gatewayRefunds(c)[0]!;
      c.gateway.refund_info = [done, { ...done, refund_id: 'refd_test_failed', error_code: 'OBAVL', refund_date: '20990101090000000' }];
    });
    expect(result.codes).toEqual([]);
  });

  it('a refund matched by refund_id that failed is still REFUND_FAILED, even with a successful one of the same amount', async () => {
    const result = await reconcileOne({ refunds: ['100.00'] }, (c) => {
      const done = gatewayRefunds(c)[0]!;
      refundRows(c)[0]!.refund_id = 'refd_test_failed';
      c.gateway.refund_info = [{ ...done, refund_id: 'refd_test_failed', error_code: 'OBAVL', error_message: 'Insufficient Balance' }, done];
    });
    expect(result.codes).toEqual(['REFUND_FAILED', 'REFUND_NOT_IN_LEDGER']);
    const failed = result.mismatches.find((m) => m.code === 'REFUND_FAILED')!;
    expect(failed).toMatchObject({ field: 'refund_info[refd_test_failed].error_code', gateway_value: 'OBAVL' });
    expect(failed.entry_id).toMatch(/-R1$/);
  });
});

describe('the state Refund Fail', () => {
  it('with a ledger refund is REFUND_FAILED, not STATE_MISMATCH (any case)', async () => {
    for (const state of ['Refund Fail', 'REFUND FAIL']) {
      const result = await reconcileOne({ refunds: ['100.00'] }, (c) => (c.gateway.transaction_state = state));
      expect(result.codes).toEqual(['REFUND_FAILED']);
      expect(result.mismatches[0]).toMatchObject({ field: 'transaction_state', gateway_value: state, severity: 'error' });
    }
  });

  it('without a ledger refund is a STATE_MISMATCH (the ledger expects Settled)', async () => {
    const result = await reconcileOne({}, (c) => (c.gateway.transaction_state = 'Refund Fail'));
    expect(result.codes).toEqual(['STATE_MISMATCH']);
    expect(result.mismatches[0]!.ledger_value).toBe('Settled');
  });
});

describe('REFUND_EXCEEDS_AMOUNT', () => {
  it('ledger refunds one satang over the charge: an error, and the state is checked as a full refund', async () => {
    const result = await reconcileOne({ amount: '100.00', refunds: ['60.00', '40.01'] });
    expect(result.codes).toEqual(['REFUND_EXCEEDS_AMOUNT']);
    expect(result.mismatches[0]).toMatchObject({ severity: 'error', ledger_value: '100.01', field: 'refunded_amount' });
    expect(result.mismatches[0]!.entry_id).toMatch(/^E-[^R]*$/); // the charge row
    expect(result.outcome.exitCode).toBe(1);
  });

  it('one satang over, and the gateway says Partial Refund: the state is still expected as for a full refund', async () => {
    const result = await reconcileOne({ amount: '100.00', refunds: ['60.00', '40.01'] }, (c) => (c.gateway.transaction_state = 'Partial Refund'));
    expect(result.codes).toEqual(['REFUND_EXCEEDS_AMOUNT', 'STATE_MISMATCH']);
    expect(result.mismatches.find((m) => m.code === 'STATE_MISMATCH')!.ledger_value).toBe('Refunded or Refund Sent');
  });

  it('refunds exactly equal to the charge are fine', async () => {
    const result = await reconcileOne({ amount: '100.00', refunds: ['60.00', '40.00'] });
    expect(result.codes).toEqual([]);
  });
});

describe('QR family refunds (the QR inquiry has no refund_info, §6.4.1)', () => {
  const qrAnswer = (state: string) => (c: SampleCharge) => {
    delete c.gateway.refund_info;
    c.gateway.transaction_state = state;
  };

  it('a full refund expects Refunded, with no REFUND_MISSING_AT_GATEWAY', async () => {
    for (const sourceType of ['qr', 'wechat'] as const) {
      const result = await reconcileOne({ sourceType, amount: '100.00', refunds: ['100.00'] }, qrAnswer('Refunded'));
      expect(result.codes, sourceType).toEqual([]);
    }
  });

  it('a full refund the gateway has Settled is a STATE_MISMATCH, still no REFUND_MISSING_AT_GATEWAY', async () => {
    const result = await reconcileOne({ sourceType: 'qr', amount: '100.00', refunds: ['100.00'] }, qrAnswer('Settled'));
    expect(result.codes).toEqual(['STATE_MISMATCH']);
  });

  it('a partial refund is REFUND_UNVERIFIABLE (a warning) and the state is expected Settled', async () => {
    for (const sourceType of ['qr', 'wechat'] as const) {
      const result = await reconcileOne({ sourceType, amount: '100.00', refunds: ['99.99'] }, qrAnswer('Settled'));
      expect(result.codes, sourceType).toEqual(['REFUND_UNVERIFIABLE']);
      expect(result.mismatches[0]).toMatchObject({ severity: 'warning', ledger_value: '99.99' });
      expect(result.outcome.exitCode).toBe(0);
    }
  });

  it('a partial refund with the gateway saying Refunded: the state does not fit the books', async () => {
    const result = await reconcileOne({ sourceType: 'qr', amount: '100.00', refunds: ['40.00'] }, qrAnswer('Refunded'));
    expect(result.codes).toEqual(['REFUND_UNVERIFIABLE', 'STATE_MISMATCH']);
  });

  it('no refund fee check for the QR family', async () => {
    const result = await reconcileOne({ sourceType: 'qr', amount: '100.00', refunds: ['100.00'] }, (c) => {
      qrAnswer('Refunded')(c);
      Object.assign(refundRows(c)[0]!, { mdr: '9.99', vat: '0.70', net_amount: '89.31' });
    });
    expect(result.codes).toEqual([]);
  });

  it('a card charge still has its refunds matched and their fees checked', async () => {
    const result = await reconcileOne({ sourceType: 'card', amount: '100.00', refunds: ['100.00'] }, (c) => {
      Object.assign(refundRows(c)[0]!, { mdr: '9.99' });
    });
    expect(result.codes).toEqual(['REFUND_MDR_MISMATCH']);
  });
});

describe('REFUND_PENDING: a booked refund the gateway does not show yet', () => {
  /** A charge of D with a refund of 100.00 booked on D + 5 that the gateway does not show (still Settled). */
  async function refundNotShown(asOfDaysAfterRefund: number, extra: Partial<Scenario> = {}, spec: Partial<ChargeSpec> = {}) {
    const date = nextDate();
    const refundDate = shiftDate(date, 5);
    return reconcileOne(
      { date, refunds: ['100.00'], ...spec },
      (c) => {
        refundRows(c)[0]!.entry_date = refundDate;
        c.gateway.refund_info = null;
        c.gateway.transaction_state = 'Settled';
      },
      { asOf: shiftDate(refundDate, asOfDaysAfterRefund), ...extra },
    );
  }

  it('booked 2 days before --as-of (default 3 grace days): pending, a warning, and the state expected Settled', async () => {
    const result = await refundNotShown(2);
    expect(result.codes).toEqual(['REFUND_PENDING']);
    expect(result.mismatches[0]).toMatchObject({ severity: 'warning', ledger_value: '100.00' });
    expect(result.mismatches[0]!.entry_id).toMatch(/-R1$/);
    expect(result.outcome.exitCode).toBe(0);
  });

  it('booked 3 days before --as-of: missing at the gateway, and the state no longer fits', async () => {
    const result = await refundNotShown(3);
    expect(result.codes).toEqual(['REFUND_MISSING_AT_GATEWAY', 'STATE_MISMATCH']);
  });

  it('RECON_REFUND_GRACE_DAYS widens the window', async () => {
    const result = await refundNotShown(3, { env: { RECON_REFUND_GRACE_DAYS: '4' } });
    expect(result.codes).toEqual(['REFUND_PENDING']);
  });

  it('a pending refund the gateway already counts in its state (Refund Sent) is pending, not a state mismatch', async () => {
    const date = nextDate();
    const result = await reconcileOne(
      { date, refunds: ['100.00'] },
      (c) => {
        c.gateway.refund_info = null;
        c.gateway.transaction_state = 'Refund Sent';
      },
      { asOf: shiftDate(date, 1) },
    );
    expect(result.codes).toEqual(['REFUND_PENDING']);
  });

  it('a QR refund booked within the grace days while the gateway still says Settled is pending', async () => {
    const result = await refundNotShown(1, {}, { sourceType: 'qr', amount: '100.00' });
    expect(result.codes).toEqual(['REFUND_PENDING']);
  });
});
