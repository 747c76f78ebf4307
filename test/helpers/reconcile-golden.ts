import { KNOWN_STATES } from '../../src/gateway/charge.ts';
import type { GatewayAnswer } from '../../src/gateway/gateway-answer.ts';
import { money } from '../../src/money.ts';
import { parseFeeSchedule } from '../../src/reconcile/fee-schedule-parse.ts';
import { reconcileCharge } from '../../src/reconcile/reconcile-charge.ts';
import { resultRecord, sampleRun, type SampleRun } from './sample-cases.ts';

/**
 * The reconcile step's outputs on fixed samples, recorded in test/fixtures/reconcile/golden.json.gz
 * from the code before it was made fast (issue 13), so a faster reconcile step can be proved to
 * give exactly the same results: every status, code, field, value, difference and message.
 * A change meant to change results records it again: gzip `JSON.stringify(goldenRecords())`
 * (one record a line) over the fixture, and say in the commit which results changed and why.
 */

/** A fee schedule using every rule field, validity dates, a dated VAT rate and `pro_rata`. */
const RICH_FEES = {
  vat_rate: [{ rate: '0.07', valid_to: '2026-03-03' }, { rate: '0.075', valid_from: '2026-03-04' }],
  refund_fee_reversal: 'pro_rata',
  rules: [
    { source_type: 'card', ipan_mode: '01', term: 10, rate: '0.065' },
    { source_type: 'card', brand: 'visa', issuer_bank: 'kasikorn', rate: '0.018' },
    { source_type: 'card', brand: 'visa', rate: '0.025', valid_from: '2026-03-04' },
    { source_type: 'card', brand: 'visa', rate: '0.027', valid_to: '2026-03-03' },
    { source_type: 'card', brand: 'jcb', currency: 'THB', mid: 'M-1', rate: '0.04' },
    { source_type: 'unionpay', rate: '0.02', fixed: '1.00' },
    { source_type: 'alipay', rate: '0.023', max: '30.00' },
    { source_type: 'card', rate: '0.028', min: '5.60', max: '280.00' },
  ],
};

export const GOLDEN_SCENARIOS: Record<string, () => SampleRun> = {
  plain: () => sampleRun({ from: '2026-03-01', days: 6, chargesPerDay: 120, defectRate: 0.5, seed: 5, asOf: '2026-03-06' }),
  timeline: () =>
    sampleRun({ from: '2026-03-01', days: 6, chargesPerDay: 80, defectRate: 0.4, seed: 6, asOf: '2026-03-05', timeline: { lateRefunds: 0.2, lateFigures: 0.5 } }),
  'rich fees, tolerance, no key mode, failed answers': () => {
    const run = sampleRun({ from: '2026-03-01', days: 6, chargesPerDay: 80, defectRate: 0.3, seed: 7, asOf: '2026-03-07' });
    const answers = run.answers.map((a, i) => (i % 37 === 0 ? { kind: 'failed' as const, reason: 'HTTP 500 after 5 attempts', path: a.path, attempts: 5 } : a));
    return { ...run, answers, context: { ...run.context, fees: parseFeeSchedule(RICH_FEES), tolerance: money('0.01'), keyMode: undefined } };
  },
  'every gateway state and failed charges': () => {
    const run = sampleRun({ from: '2026-03-01', days: 6, chargesPerDay: 60, defectRate: 0.3, seed: 8, asOf: '2026-03-06' });
    const states = [...KNOWN_STATES, 'VOID', 'Auhtorized', 'refund sent'];
    const answers = run.answers.map((a, i): GatewayAnswer => {
      if (a.kind !== 'found' || i % 2 === 0) return a;
      const failed = i % 9 === 1 ? { status: 'fail', failureCode: i % 4 === 1 ? 'card_declined' : null, failureMessage: i % 4 === 1 ? 'Declined' : null } : {};
      return { ...a, charge: { ...a.charge, transactionState: states[i % states.length]!, ...failed } };
    });
    return { ...run, answers };
  },
};

/** Each scenario's records, in case order. */
export function goldenRecords(): Record<string, unknown[][]> {
  return Object.fromEntries(
    Object.entries(GOLDEN_SCENARIOS).map(([name, make]) => {
      const { cases, answers, context } = make();
      return [name, cases.map((c, i) => resultRecord(reconcileCharge(c, answers[i]!, context)))];
    }),
  );
}
