import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { shiftDate } from '../../src/dates.ts';
import { reconcileCharge } from '../../src/reconcile/reconcile-charge.ts';
import { GOLDEN_SCENARIOS, goldenRecords } from '../helpers/reconcile-golden.ts';
import { sampleRun, type SampleRun } from '../helpers/sample-cases.ts';

/**
 * Issue 13: the reconcile step was made fast without changing a single result. The generated
 * samples (every defect, refunds, voids, installments, orphans, timeline answers, failed answers,
 * a fee schedule using every rule field) give exactly the results recorded from the code before
 * (test/fixtures/reconcile/golden.json.gz), and every charge gets the codes the generator planted.
 */

const GOLDEN = JSON.parse(gunzipSync(readFileSync(new URL('../fixtures/reconcile/golden.json.gz', import.meta.url))).toString('utf8')) as Record<string, unknown[][]>;

describe('the reconcile step on generated samples', () => {
  const now = goldenRecords();

  it.each(Object.keys(GOLDEN_SCENARIOS))('%s: every result is the one recorded before the speed-up', (name) => {
    const recorded = GOLDEN[name]!;
    const got = now[name]!;
    expect(got.length).toBe(recorded.length);
    // Record by record, so a difference shows the charge it is about.
    for (let i = 0; i < got.length; i++) expect(got[i], `charge ${i}`).toEqual(recorded[i]);
  });

  it('gives every charge of a sample the codes its defect plants', () => {
    const run = sampleRun({ from: '2026-05-01', days: 4, chargesPerDay: 250, defectRate: 0.6, seed: 13, asOf: '2026-05-04' });
    expect(codesByCharge(run)).toEqual(run.data.expected);
  });

  it('gives the codes with timeline answers, for the charges whose last record is in force', () => {
    const asOf = '2026-05-08';
    const run = sampleRun({ from: '2026-05-01', days: 8, chargesPerDay: 100, defectRate: 0.5, seed: 14, asOf, timeline: { lateRefunds: 0, lateFigures: 0.5 } });
    const final = run.cases.filter((c) => c.charge.transaction_date <= shiftDate(asOf, -3));
    const expected = new Map([...run.data.expected].filter(([entryId]) => final.some((c) => chargeEntryId(c.charge.entry_id) === entryId)));
    expect(expected.size).toBeGreaterThan(400);
    expect(codesByCharge({ ...run, cases: final, answers: final.map((c) => run.answers[run.cases.indexOf(c)]!) })).toEqual(expected);
  });
});

/** A finding's charge row: refund, void and duplicate rows are named after it (`E-…-R1`, `-V`, `-DUP`). */
function chargeEntryId(entryId: string): string {
  return entryId.replace(/-(R\d+|V|DUP)$/, '');
}

/** The sorted codes of each charge's findings, by the charge row's entry id. */
function codesByCharge(run: Pick<SampleRun, 'cases' | 'answers' | 'context'>): Map<string, string[]> {
  const codes = new Map<string, string[]>();
  run.cases.forEach((c, i) => {
    const result = reconcileCharge(c, run.answers[i]!, run.context);
    codes.set(chargeEntryId(c.charge.entry_id), result.mismatches.map((m) => m.code).sort());
  });
  return codes;
}
