import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { money } from '../../src/money.ts';
import { parseFeeSchedule } from '../../src/reconcile/fee-schedule-parse.ts';
import { planBook } from '../../src/reconcile/installment-check.ts';
import { keyModeOf } from '../../src/reconcile/livemode-check.ts';
import type { ReconcileContext } from '../../src/reconcile/charge-result.ts';
import type { GatewayBody, LedgerRow } from '../../src/sample/charge-builder.ts';
import { reconcileSample } from '../helpers/reconcile-sample.ts';

/**
 * The guide's own samples, unchanged, are live answers (`livemode: true`): reconciled here as a
 * production key would, without the simulator (which holds a test key).
 */
const sample = async (name: string) => JSON.parse(await readFile(join(import.meta.dirname, '../fixtures/guide', name), 'utf8')) as GatewayBody;
const live: ReconcileContext = {
  fees: parseFeeSchedule({ vat_rate: '0.07', refund_fee_reversal: 'pro_rata', rules: [{ source_type: 'card', rate: '0.025' }] }),
  plans: planBook([], []),
  tolerance: money('0'),
  keyMode: keyModeOf('skey_prod_41Bbw6At8dJjVyKV3ZaXghhLpRro5oAtR'),
  // Long after every sample's dates: no refund is still within its grace days.
  asOf: '2026-01-01',
  refundGraceDays: 3,
};
const codes = (result: { mismatches: readonly { code: string }[] }) => result.mismatches.map((m) => m.code).sort();

describe('the guide’s samples and the v2 fee rules', () => {
  it('§6.1.2 Inquiry: 11 THB refunded in full, 0.28 / 0.02 / 10.70 on both the charge and the refund, passes under pro_rata', async () => {
    const gateway = await sample('6.1.2-inquiry.json');
    const common: LedgerRow = { charge_id: String(gateway.id), reference_order: 'JUASU95Q4F', transaction_date: '2019-06-04', source_type: 'card', currency: 'THB' };
    const ledger: LedgerRow[] = [
      { ...common, entry_id: 'C', entry_type: 'charge', amount: '11.00' },
      { ...common, entry_id: 'R', entry_type: 'refund', amount: '11.00' },
    ];
    expect(codes(reconcileSample({ ledger, gateway }, live))).toEqual([]);
    // The same answer for a test key says nothing about these books.
    expect(codes(reconcileSample({ ledger, gateway }, { ...live, keyMode: keyModeOf('skey_test_x') }))).toEqual(['LIVEMODE_MISMATCH']);
  });

  it('§6.1.5 Refund: settled, every orig_* figure 0.0: FEES_NOT_REPORTED, and no MDR, VAT, NET or SETTLEMENT_INCONSISTENT', async () => {
    const gateway = await sample('6.1.5-refund.json');
    const common: LedgerRow = { charge_id: String(gateway.id), transaction_date: '2021-09-20', source_type: 'card', currency: 'THB' };
    const ledger: LedgerRow[] = [
      { ...common, entry_id: 'C', entry_type: 'charge', amount: '60.00' },
      { ...common, entry_id: 'R', entry_type: 'refund', amount: '60.00' },
    ];
    const found = codes(reconcileSample({ ledger, gateway }, live));
    expect(found).toContain('FEES_NOT_REPORTED');
    for (const code of ['MDR_MISMATCH', 'VAT_MISMATCH', 'NET_MISMATCH', 'SETTLEMENT_INCONSISTENT', 'LIVEMODE_MISMATCH']) expect(found).not.toContain(code);
  });
});

describe('the key’s mode', () => {
  it('skey_prod_ is live, skey_test_ is test, anything else is not checked', () => {
    expect(keyModeOf('skey_prod_abc')).toBe('live');
    expect(keyModeOf('skey_test_abc')).toBe('test');
    expect(keyModeOf('pkey_prod_abc')).toBeUndefined();
  });
  it('a test answer (livemode false) for a live key is LIVEMODE_MISMATCH and nothing else', async () => {
    const gateway: GatewayBody = { ...(await sample('6.1.2-inquiry.json')), livemode: false, amount: 12 };
    const ledger: LedgerRow[] = [{ entry_id: 'C', entry_type: 'charge', charge_id: String(gateway.id), transaction_date: '2019-06-04', source_type: 'card', currency: 'THB', amount: '11.00' }];
    const result = reconcileSample({ ledger, gateway }, live);
    expect(result.mismatches).toEqual([expect.objectContaining({ code: 'LIVEMODE_MISMATCH', ledgerValue: 'true', gatewayValue: 'false' })]);
    expect(result.status).toBe('mismatched');
    expect(result.gateway).toBeUndefined();
  });
});
