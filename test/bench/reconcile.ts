/**
 * Reconcile-step benchmark (issue 13, `npm run bench:reconcile`): 100,000 generated charges
 * (defects, refunds, voids, installments, orphans) grouped into cases and answered as the
 * inquiry client answers them, all before the clock starts; then `reconcileCharge` over every
 * case, as the run's reconcile stage calls it. Beside it, in the same process, a baseline that
 * does the least a reconcile step can do per charge (`JSON.parse` of the gateway's body), so the
 * ratio can be compared across machines. Each figure is the median of 3 rounds after a warm-up.
 * Goal: >= 100,000 charges per second.
 *
 *   npm run bench:reconcile                  # 100,000 charges
 *   BENCH_CHARGES=20000 npm run bench:reconcile
 */
import { performance } from 'node:perf_hooks';
import type { LedgerEntry } from '../../src/ingest/ledger.table.ts';
import type { ChargeCase } from '../../src/reconcile/charge-case.ts';
import { reconcileCharge } from '../../src/reconcile/reconcile-charge.ts';
import { sampleRun } from '../helpers/sample-cases.ts';

const CHARGES = Number(process.env.BENCH_CHARGES ?? 100_000);
const DAYS = 10;
const ROUNDS = 3;
const GOAL = 100_000;

const { cases, answers, context } = sampleRun({ from: '2026-01-01', days: DAYS, chargesPerDay: Math.ceil(CHARGES / DAYS), asOf: '2026-01-11' });
const bodies = answers.map((a) => ('bodyText' in a ? a.bodyText : '{}'));

/**
 * Charges per second of `work` over all cases: the median of {@link ROUNDS} rounds after one to
 * warm up, each round on fresh copies of the ledger rows (made before the clock starts): a run
 * reconciles each row once, so nothing a round learns about a row may help the next.
 */
function rate(work: (round: ChargeCase[]) => number): number {
  work(freshCases());
  const rates: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const fresh = freshCases();
    // The garbage of making the copies is not the reconcile step's (npm script: --expose-gc).
    globalThis.gc?.();
    const t0 = performance.now();
    const n = work(fresh);
    rates.push(n / ((performance.now() - t0) / 1000));
  }
  return rates.sort((a, b) => a - b)[Math.floor(ROUNDS / 2)]!;
}

function freshCases(): ChargeCase[] {
  const copy = (rows: LedgerEntry[]) => rows.map((row) => ({ ...row }));
  return cases.map((c) => ({ ...c, charge: { ...c.charge }, duplicates: copy(c.duplicates), refunds: copy(c.refunds), voids: copy(c.voids) }));
}

let sink = 0;
const reconcile = rate((round) => {
  for (let i = 0; i < round.length; i++) sink += reconcileCharge(round[i]!, answers[i]!, context).mismatches.length;
  return round.length;
});
const baseline = rate(() => {
  for (const body of bodies) sink += Object.keys(JSON.parse(body) as object).length;
  return bodies.length;
});

// Also keeps the loops' results in use, so no work can be skipped.
if (sink === 0) throw new Error('no findings at all: the sample is not the one this benchmark means to time');
const format = (n: number) => Math.round(n).toLocaleString('en-US');
process.stdout.write(
  [
    `node ${process.version}, ${format(cases.length)} charges, median of ${ROUNDS} rounds`,
    `reconcileCharge:            ${format(reconcile)} charges/s`,
    `baseline JSON.parse(body):  ${format(baseline)} bodies/s`,
    `ratio reconcile/baseline:   ${(reconcile / baseline).toFixed(2)}`,
    reconcile >= GOAL ? `goal met (>= ${format(GOAL)} charges/s)` : `goal missed (< ${format(GOAL)} charges/s)`,
    '',
  ].join('\n'),
);
