import { join } from 'node:path';
import { acknowledgeFindings } from '../../src/followup/acknowledge.ts';
import { buildCharge } from '../../src/sample/charge-builder.ts';
import type { TestDatabase } from './database.ts';
import { runScenario, type Scenario } from './scenario.ts';

/** The acknowledgement {@link handWorkedReport} gives the FEES_NOT_REPORTED warning between its two runs. */
export const HAND_WORKED_ACK = { by: 'somchai', note: 'KBank แจ้งค่าธรรมเนียมพรุ่งนี้ (ticket 4471)' };

/**
 * A run small enough to work its report out by hand (the tests write the figures), over real
 * PostgreSQL and the simulator: run once, acknowledge its warning, run the same day again, and
 * the second run's report.html. THB: a clean charge, one partly refunded, a voided one, one
 * settled without fee figures (FEES_NOT_REPORTED), a Thai QR one (no fees in its inquiry), one
 * KBank does not know (MISSING_AT_GATEWAY); and one in USD that KBank settled in baht.
 */
export async function handWorkedReport(database: TestDatabase, input: { date: string; tz: string }): Promise<{ file: string; runId: string }> {
  const { date } = input;
  // 1,200,000.00 at 2.5 %: MDR 30,000.00, VAT 2,100.00, net 1,167,900.00.
  const big = buildCharge({ key: 'hand-big', date, amount: '1200000.00' });
  // 1,000.00: MDR 25.00, VAT 1.75, net 973.25; 200.00 of it refunded.
  const refunded = buildCharge({ key: 'hand-refund', date, amount: '1000.00', refunds: ['200.00'] });
  const voided = buildCharge({ key: 'hand-void', date, amount: '300.00', voided: true });
  // Settled without figures: the schedule expects 250.00 × 2.5 % = 6.25, VAT 0.4375 → 0.44.
  const noFigures = buildCharge({ key: 'hand-nofig', date, amount: '250.00', zeroFigures: true });
  // Thai QR: 80.00 × 1 % = 0.80, VAT 0.056 → 0.06, expected only.
  const qr = buildCharge({ key: 'hand-qr', date, amount: '80.00', sourceType: 'qr' });
  // Booked, unknown to KBank: in the gross; KBank charged nothing.
  const missing = buildCharge({ key: 'hand-missing', date, amount: '500.00' });
  // 100.00 USD, settled as 3,400.00 THB: MDR 85.00, VAT 5.95, net 3,309.05.
  const dollars = buildCharge({ key: 'hand-usd', date, amount: '100.00', currency: 'USD' });
  dollars.gateway.settlement_info = {
    settle_amount: '100.0000', baht_amount: '3400.0000', exchange_rate: '34.0000',
    orig_amount: '3400.0000', orig_mdr: '85.0000', orig_vat: '5.9500', orig_net_amount: '3309.0500',
  };
  const charges = [big, refunded, voided, noFigures, qr, missing, dollars];
  const scenario: Scenario = {
    from: date,
    ledger: charges.flatMap((c) => c.ledger),
    gateway: charges.filter((c) => c !== missing).map((c) => c.gateway),
    fees: { vat_rate: '0.07', rules: [{ source_type: 'card', rate: '0.025' }, { source_type: 'qr', rate: '0.01' }] },
    env: { RECON_TZ: input.tz },
  };
  await runScenario(database, scenario);
  const acked = await acknowledgeFindings(database.db, [{ charge: String(noFigures.gateway.id), code: 'FEES_NOT_REPORTED', field: '', entryId: '', ...HAND_WORKED_ACK }]);
  if (!acked.ok || acked.count !== 1) throw new Error(`handWorkedReport: the acknowledgement named ${JSON.stringify(acked)}`);
  const second = await runScenario(database, scenario);
  return { file: join(second.outcome.reportDir, 'report.html'), runId: second.outcome.run.run_id };
}
