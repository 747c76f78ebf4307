import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { GatewayBody, LedgerRow } from '../../src/sample/charge-builder.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { runScenario, TEST_KEY } from '../helpers/scenario.ts';

/**
 * KBank's own sample answers (guide v4.3, test/fixtures/guide/) served by the simulator, each
 * against a ledger that books exactly what the sample says. Correct books must give no error,
 * and only the warnings the sample's state explains.
 */

const PROD_KEY = 'skey_prod_guide_samples_0123456789';

/** The guide's Inquiry sample is a full refund of 11 THB returning 0.28 / 0.02 / 10.70: 2.5 %, pro rata. */
const GUIDE_FEES = { vat_rate: '0.07', refund_fee_reversal: 'pro_rata', rules: [{ source_type: 'card', rate: '0.025' }] };

const sample = async (file: string) => JSON.parse(await readFile(new URL(`../fixtures/guide/${file}`, import.meta.url), 'utf8')) as GatewayBody;

interface GuideCase {
  file: string;
  /** What the ledger books: its charge row first, then refund and void rows. */
  ledger: LedgerRow[];
  /** Warnings the sample's own state explains, sorted. */
  warnings: string[];
  why: string;
}

const charge = (row: LedgerRow): LedgerRow => ({ entry_type: 'charge', currency: 'THB', source_type: 'card', ...row });

const CASES: GuideCase[] = [
  {
    file: '6.1.1-create-charge.json',
    ledger: [charge({ entry_id: 'G111', charge_id: 'chrg_prod_6024360e68682f247f082b7fdcdac803c2f', reference_order: 'AP220307314388053', transaction_date: '2022-03-07', amount: '305.00' })],
    warnings: ['SETTLEMENT_PENDING'],
    why: 'a charge just made is Authorized: not settled yet',
  },
  {
    file: '6.1.2-inquiry.json',
    ledger: [
      // The charge row books the fees the sample settles; the refund row none: they come from the schedule, pro rata.
      charge({ entry_id: 'G112', charge_id: 'chrg_prod_208adcd781192334b1eab9c626a287cc18e', reference_order: 'JUASU95Q4F', transaction_date: '2019-06-04', amount: '11.00', mdr: '0.28', vat: '0.02', net_amount: '10.70' }),
      { entry_id: 'G112-R', entry_type: 'refund', charge_id: 'chrg_prod_208adcd781192334b1eab9c626a287cc18e', transaction_date: '2019-06-04', entry_date: '2019-06-04', source_type: 'card', currency: 'THB', amount: '11.00', refund_id: 'refd_prod_00000012345678901234567890123456789' },
    ],
    warnings: [],
    why: 'fully refunded; the refund returns the fees pro rata (0.28 / 0.02 / 10.70)',
  },
  {
    file: '6.1.3-void.json',
    ledger: [
      charge({ entry_id: 'G113', charge_id: 'chrg_prod_208e7eb1773b5f84587bf6689644027520f', reference_order: 'INV1234567', transaction_date: '2019-06-06', amount: '11.50' }),
      { entry_id: 'G113-V', entry_type: 'void', charge_id: 'chrg_prod_208e7eb1773b5f84587bf6689644027520f', transaction_date: '2019-06-06', source_type: 'card', currency: 'THB', amount: '11.50' },
    ],
    warnings: [],
    why: 'voided on both sides',
  },
  {
    file: '6.1.4-settle.json',
    ledger: [charge({ entry_id: 'G114', charge_id: 'chrg_prod_29f1cf15af3e554e00950ced9bdcd4b69b', reference_order: 'INV1234567', transaction_date: '2019-06-06', amount: '5.00' })],
    warnings: ['SETTLEMENT_PENDING'],
    why: 'Captured: settled by KBank the next day',
  },
  {
    file: '6.4.1-inquiry-qr.json',
    ledger: [charge({ entry_id: 'G141', source_type: 'qr', charge_id: 'chrg_test_192f3dac0c01a3048a19678d13c180e2d21', order_id: 'order_test_1927d35fb9b9cf943a19963e5387678db60', reference_order: 'c2676e3f99283143a7d9', transaction_date: '2019-06-10', amount: '1.07' })],
    warnings: ['SETTLEMENT_PENDING'],
    why: 'a Thai QR payment still Authorized',
  },
  {
    file: '6.4.2-void-qr.json',
    ledger: [
      charge({ entry_id: 'G142', source_type: 'qr', charge_id: 'chrg_test_2092372cd2a07d3e14414b697288904f84df8', order_id: 'order_test_2092319d5fa92414646c89ef1aed547274e3d', transaction_date: '2022-03-11', amount: '200.00' }),
      { entry_id: 'G142-V', entry_type: 'void', order_id: 'order_test_2092319d5fa92414646c89ef1aed547274e3d', transaction_date: '2022-03-11', source_type: 'qr', currency: 'THB', amount: '200.00' },
    ],
    warnings: [],
    why: 'a Thai QR payment voided (the QR spelling VOID), named by its order id',
  },
];

describe('the guide’s sample answers through the whole pipeline', () => {
  it('every inquiry-shaped sample of the guide has a case here', async () => {
    const files = (await readdir(new URL('../fixtures/guide/', import.meta.url))).filter((f) => f.endsWith('.json'));
    const inquiryShaped: string[] = [];
    for (const file of files) if ((await sample(file)).object === 'charge') inquiryShaped.push(file);
    expect(CASES.map((c) => c.file).concat('6.1.5-refund.json').sort()).toEqual(inquiryShaped.sort());
  });

  for (const c of CASES) {
    it(`${c.file}: ${c.why} → ${c.warnings.join(', ') || 'no finding'}`, async () => {
      const database = databaseFor();
      const body = await sample(c.file);
      const date = c.ledger[0]!.transaction_date!;
      const result = await runScenario(database, {
        from: date,
        asOf: date,
        ledger: c.ledger,
        gateway: [body],
        fees: GUIDE_FEES,
        secretKey: body.livemode === true ? PROD_KEY : TEST_KEY,
      });
      expect(result.mismatches.filter((m) => m.severity === 'error').map((m) => `${m.code} ${m.field}: ${m.message}`)).toEqual([]);
      expect(result.codes).toEqual(c.warnings);
      expect(result.outcome.run.counts).toMatchObject({ charges: 1, unverified: 0, rejected: 0 });
    });
  }

  it('6.1.2-inquiry.json under pro_rata: the refund’s fees are checked against 11 × 2.5 % (a satang off is found; under none it is not)', async () => {
    const body = await sample('6.1.2-inquiry.json');
    (body.refund_info as Record<string, unknown>[])[0]!.orig_mdr = 0.29;
    const ledger = CASES.find((c) => c.file === '6.1.2-inquiry.json')!.ledger;
    const run = (fees: object) => runScenario(databaseFor(), { from: '2019-06-04', asOf: '2019-06-04', ledger, gateway: [body], fees, secretKey: PROD_KEY });
    const proRata = await run(GUIDE_FEES);
    expect(proRata.mismatches.map((m) => [m.code, m.field, m.ledger_value, m.gateway_value])).toEqual([
      ['REFUND_MDR_MISMATCH', 'refund_info[refd_prod_00000012345678901234567890123456789].orig_mdr', '0.28', '0.29'],
    ]);
    expect((await run({ ...GUIDE_FEES, refund_fee_reversal: 'none' })).codes).toEqual([]);
  });

  it('6.1.5-refund.json: figures all zero → FEES_NOT_REPORTED and no fee error; the refund just sent is pending', async () => {
    const body = await sample('6.1.5-refund.json');
    const chargeId = body.id as string;
    const ledger: LedgerRow[] = [
      charge({ entry_id: 'G115', charge_id: chargeId, reference_order: 'SmartpayTest202109004', transaction_date: '2021-09-20', amount: '60.00' }),
      // The answer to the refund request: the refund is sent, not yet listed in refund_info.
      { entry_id: 'G115-R', entry_type: 'refund', charge_id: chargeId, transaction_date: '2021-09-20', entry_date: '2021-09-20', source_type: 'card', currency: 'THB', amount: '60.00', refund_id: body.refund_id as string },
    ];
    const result = await runScenario(databaseFor(), { from: '2021-09-20', asOf: '2021-09-20', ledger, gateway: [body], fees: GUIDE_FEES, secretKey: PROD_KEY });
    const warnings = result.mismatches.filter((m) => m.severity === 'warning').map((m) => m.code).sort();
    expect(warnings).toEqual(['FEES_NOT_REPORTED', 'REFUND_PENDING']);
    // No MDR, VAT, net or consistency error, and `Refund Sent` is right for a refund still pending.
    // The one error is real: the sample settles 92.2 for a charge of 60.0.
    const errors = result.mismatches.filter((m) => m.severity === 'error');
    expect(errors.map((m) => [m.code, m.ledger_value, m.gateway_value])).toEqual([['SETTLE_AMOUNT_MISMATCH', '60.00', '92.20']]);
  });
});

/** One database per run: the void and the settle sample share the reference order INV1234567 and the date. */
const databases = await Promise.all(Array.from({ length: CASES.length + 3 }, () => createTestDatabase()));
let next = 0;
function databaseFor() {
  return databases[next++]!;
}
