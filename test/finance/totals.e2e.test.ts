import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCharge } from '../../src/sample/charge-builder.ts';
import { ledgerCsv } from '../../src/sample/sample-files.ts';
import { startSimulator } from '../../src/simulator/index.ts';
import { runCli, type CliResult } from '../helpers/cli.ts';
import { createTestDatabase } from '../helpers/database.ts';

/**
 * Totals mean one thing (docs/reference.md §5.3), in summary.csv, its table and what `run`
 * prints: voids apart, KBank's figures in THB for the charges it reported, the others counted as
 * fees pending with an estimate said to be one, never a total of two currencies.
 */
const database = await createTestDatabase();
const dir = await mkdtemp(join(tmpdir(), 'kpgw-totals-'));
const KEY = 'skey_test_totals_0123456789';
const DAY = '2026-04-07';

// 1,200,000.00 at 2.5 %: MDR 30,000.00, VAT 2,100.00, net 1,167,900.00.
const big = buildCharge({ key: 'big', date: DAY, amount: '1200000.00' });
const voided = buildCharge({ key: 'void', date: DAY, amount: '300.00', voided: true });
// Settled, figures not reported yet: the schedule expects 250.00 × 2.5 % = 6.25, VAT 0.4375 → 0.44.
const noFigures = buildCharge({ key: 'nofig', date: DAY, amount: '250.00', zeroFigures: true });
// QR: no fees in the inquiry; the schedule expects 80.00 × 1 % = 0.80, VAT 0.056 → 0.06.
const qr = buildCharge({ key: 'qr', date: DAY, amount: '80.00', sourceType: 'qr' });
// 100.00 USD, settled as 3,400.00 THB: MDR 85.00, VAT 5.95, net 3,309.05.
const dollars = buildCharge({ key: 'usd', date: DAY, amount: '100.00', currency: 'USD' });
dollars.gateway.settlement_info = {
  settle_amount: '100.0000', baht_amount: '3400.0000', exchange_rate: '34.0000',
  orig_amount: '3400.0000', orig_mdr: '85.0000', orig_vat: '5.9500', orig_net_amount: '3309.0500',
};
const charges = [big, voided, noFigures, qr, dollars];

let result: CliResult;
let summary: Record<string, string>[];

beforeAll(async () => {
  await writeFile(join(dir, 'ledger.csv'), ledgerCsv(charges.flatMap((c) => c.ledger)));
  await writeFile(join(dir, 'fees.json'), JSON.stringify({ vat_rate: '0.07', rules: [{ source_type: 'card', rate: '0.025' }, { source_type: 'qr', rate: '0.01' }] }));
  const simulator = await startSimulator({ secretKey: KEY, charges: charges.map((c) => c.gateway) });
  try {
    result = await runCli(['run', '--from', DAY, '--ledger', join(dir, 'ledger.csv'), '--fees', join(dir, 'fees.json'), '--out', join(dir, 'out')], {
      env: { DATABASE_URL: database.url, KPGW_BASE_URL: simulator.url, KPGW_SECRET_KEY: KEY, KPGW_RATE_LIMIT_RPS: '500', LOG_LEVEL: 'warn' },
    });
  } finally {
    await simulator.close();
  }
  summary = parse(await readFile(join(dir, 'out', 'summary.csv')), { columns: true, bom: true }) as Record<string, string>[];
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('totals of a run', () => {
  it('summary.csv: gross without the voided charge, voided_amount, KBank THB figures only for the charges it reported, fees_pending', () => {
    expect(result.code, result.stderr).toBe(0);
    expect(Object.keys(summary[0]!).slice(-3)).toEqual(['refunded_amount', 'voided_amount', 'fees_pending']);
    const pick = (r: Record<string, string>) => [r.source_type, r.currency, r.charges, r.gross_amount, r.voided_amount, r.settled_amount, r.mdr, r.vat, r.net_amount, r.fees_pending].join(' ');
    expect(summary.map(pick)).toEqual([
      // card THB: big, void, nofig. Gross 1,200,000.00 + 250.00; voided 300.00; KBank reported only big's figures.
      'card THB 3 1200250.00 300.00 1200000.00 30000.00 2100.00 1167900.00 1',
      // card USD: the gross in dollars; settled, MDR, VAT and net in THB.
      'card USD 1 100.00 0.00 3400.00 85.00 5.95 3309.05 0',
      'qr THB 1 80.00 0.00 0.00 0.00 0.00 0.00 1',
    ]);
  });

  it('keeps the same totals in recon_daily_summary, with the estimate of the pending fees beside', async () => {
    const rows = await database.db
      .selectFrom('recon_daily_summary')
      .select(['source_type', 'currency', 'gross_amount', 'voided_amount', 'fees_pending', 'mdr_estimate', 'vat_estimate'])
      .orderBy('source_type').orderBy('currency')
      .execute();
    expect(rows).toEqual([
      { source_type: 'card', currency: 'THB', gross_amount: '1200250.00', voided_amount: '300.00', fees_pending: 1, mdr_estimate: '6.25', vat_estimate: '0.44' },
      { source_type: 'card', currency: 'USD', gross_amount: '100.00', voided_amount: '0.00', fees_pending: 0, mdr_estimate: '0.00', vat_estimate: '0.00' },
      { source_type: 'qr', currency: 'THB', gross_amount: '80.00', voided_amount: '0.00', fees_pending: 1, mdr_estimate: '0.80', vat_estimate: '0.06' },
    ]);
  });

  it('prints one line per currency with thousands separators, the pending fees as a labelled estimate', () => {
    // THB: gross 1,200,250.00 + 80.00; estimate 6.25 + 0.80 = 7.05 MDR, 0.44 + 0.06 = 0.50 VAT.
    expect(result.stdout).toContain(
      [
        '  totals THB  gross 1,200,330.00   voided 300.00   refunded 0.00',
        '              KBank, in THB: settled 1,200,000.00   MDR 30,000.00   VAT 2,100.00   net 1,167,900.00',
        '              fees pending for 2 charges (an estimate: MDR 7.05, VAT 0.50)\n',
      ].join('\n'),
    );
    expect(result.stdout).toContain(
      '  totals USD  gross 100.00   voided 0.00   refunded 0.00\n              KBank, in THB: settled 3,400.00   MDR 85.00   VAT 5.95   net 3,309.05\n  findings',
    );
  });
});
