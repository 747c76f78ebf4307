import { describe, expect, it } from 'vitest';
import { plural } from '../../src/commands/clerk-input.ts';
import { formatCount, humanSummary } from '../../src/report/human-summary.ts';
import type { RunJson } from '../../src/report/run-json.ts';
import type { SummaryRow } from '../../src/report/summary.ts';

const run: RunJson = {
  run_id: 'r1', from: '2026-01-01', to: '2026-01-02', as_of: '2026-01-03', status: 'finished',
  counts: { ledger_rows: 5, rejected: 1, charges: 3, inquired: 3, matched: 1, mismatched: 1, unverified: 1,
    open: 2, revisited: 0, rechecked: 0, deferred: 0, new_findings: 1, resolved_findings: 0, acknowledged: 0 },
  gateway: { requests: 4, retries: 1, errors: 1 }, timings_ms: { ingest: 1, inquiry: 1, reconcile: 1, report: 1 }, duration_ms: 1500,
};
const row = (currency: string, gross: string, date = '2026-01-01'): SummaryRow => ({
  transaction_date: date, source_type: 'card', currency, charges: 1, matched: 1, mismatched: 0, unverified: 0,
  gross_amount: gross, settled_amount: gross, mdr: '1.00', vat: '0.07', net_amount: '0.93', refunded_amount: '0.00',
  voided_amount: '0.00', fees_pending: 0, mdr_estimate: '0.00', vat_estimate: '0.00',
});

describe('the human summary', () => {
  it('totals each currency on its own line, never adding baht to dollars', () => {
    const text = humanSummary({ run, summary: [row('THB', '100.10'), row('USD', '5.00'), row('THB', '0.90', '2026-01-02')], findingsByCode: new Map(), reportDir: '/r' });
    expect(text).toContain(
      '  totals THB  gross 101.00   voided 0.00   refunded 0.00\n              KBank, in THB: settled 101.00   MDR 2.00   VAT 0.14   net 1.86\n  totals USD  gross 5.00 ',
    );
    expect(text).not.toMatch(/fees pending/);
    expect(text).toMatch(/no findings/);
    expect(text).toMatch(/reports: \/r\n$/);
  });

  it('groups thousands, keeps voids apart and labels the fees of charges KBank has not reported yet as an estimate', () => {
    // THB: gross 1,234,567.50 + 2,000.00 = 1,236,567.50; voided 300.00; MDR 30,864.19 + 50.00 = 30,914.19;
    // two charges pending, estimated 12.50 + 2.00 = 14.50 MDR and 0.88 + 0.14 = 1.02 VAT.
    const big = { ...row('THB', '1234567.50'), mdr: '30864.19', voided_amount: '300.00', fees_pending: 1, mdr_estimate: '12.50', vat_estimate: '0.88' };
    const small = { ...row('THB', '2000.00', '2026-01-02'), mdr: '50.00', fees_pending: 1, mdr_estimate: '2.00', vat_estimate: '0.14' };
    const text = humanSummary({ run, summary: [big, small], findingsByCode: new Map(), reportDir: '/r' });
    expect(text).toMatch(/totals THB {2}gross 1,236,567\.50 {3}voided 300\.00 {3}refunded 0\.00\n {14}KBank, in THB: settled 1,236,567\.50 {3}MDR 30,914\.19 /);
    expect(text).toMatch(/\n {14}fees pending for 2 charges \(an estimate: MDR 14\.50, VAT 1\.02\)\n/);
  });

  it('counts findings by code, most frequent first', () => {
    const text = humanSummary({ run, summary: [], findingsByCode: new Map([['DATE_MISMATCH', 1], ['AMOUNT_MISMATCH', 2]]), reportDir: '/r' });
    expect(text).toMatch(/\n {2}findings by code:\n {4}AMOUNT_MISMATCH\s+2 {2}error\n {4}DATE_MISMATCH\s+1 {2}warning\n/);
  });
});

describe('the human summary of open items', () => {
  it('gives the findings carried over and the open items by age bucket, and what was deferred', () => {
    const carried = { ...run, counts: { ...run.counts, new_findings: 2, acknowledged: 1, resolved_findings: 4, revisited: 7, rechecked: 3, deferred: 5 } };
    const openItems = { total: 9, byBucket: { '0-1': 4, '2-7': 3, '8-30': 0, '31+': 2 }, byKind: { open_charge: 5, finding: 2, stale: 2 } };
    const text = humanSummary({ run: carried, summary: [], findingsByCode: new Map([['AMOUNT_MISMATCH', 1], ['DATE_MISMATCH', 1], ['MDR_MISMATCH', 1], ['VAT_MISMATCH', 1]]), reportDir: '/r', openItems });
    expect(text).toMatch(/\n {2}findings {4}new 2 {3}still open 1 {3}acknowledged 1 {3}resolved 4\n/);
    expect(text).toMatch(/\n {2}open items {2}9 {3}0-1 days: 4 {3}2-7 days: 3 {3}8-30 days: 0 {3}31\+ days: 2 {3}\(stale 2\)\n/);
    expect(text).toMatch(/\n {2}follow-ups {2}revisited 7 {3}re-checked 3 {3}deferred to the next night 5\n/);
  });
});

describe('counts for people', () => {
  it('are grouped by thousands, as the amounts are', () => {
    expect([0, 999, 1000, 3002, 1234567].map(formatCount)).toEqual(['0', '999', '1,000', '3,002', '1,234,567']);
    expect([plural(1, 'line'), plural(2, 'line'), plural(1200, 'finding')]).toEqual(['1 line', '2 lines', '1,200 findings']);
  });
});
