import { FINDING_COLUMNS, type HtmlReportData } from '../../src/report/html-report-data.ts';

const CODES = ['AMOUNT_MISMATCH', 'FEES_NOT_REPORTED', 'REFUND_PENDING', 'SETTLEMENT_PENDING', 'VAT_MISMATCH'] as const;
const STATES = ['new', 'still_open', 'acknowledged'] as const;
const DATES = ['2026-05-01', '2026-05-02', '2026-05-03'] as const;

/**
 * A report of `count` findings without a run behind it, for the 50,000-row checks: row i has
 * code CODES[i % 5], state STATES[i % 3], date DATES[i % 3] and charge id `chrg_test_<i>`.
 */
export function syntheticReportData(count: number): HtmlReportData {
  const rows = Array.from({ length: count }, (_, i) => {
    const code = CODES[i % CODES.length]!;
    const values: Record<(typeof FINDING_COLUMNS)[number], string | null> = {
      transaction_date: DATES[i % DATES.length]!,
      source_type: 'card',
      charge_id: `chrg_test_${i}`,
      reference_order: `ใบสั่งซื้อ-${i}`,
      code,
      severity: code === 'FEES_NOT_REPORTED' ? 'warning' : 'error',
      finding_state: STATES[i % STATES.length]!,
      field: 'amount',
      ledger_value: '100.00',
      gateway_value: '101.00',
      difference: '1.00',
      message: `ledger 100.00, gateway 101.00 (แถว ${i})`,
    };
    return FINDING_COLUMNS.map((column) => values[column]);
  });
  return {
    run: { run_id: '00000000-0000-4000-8000-000000000000', kind: 'run', from: DATES[0], to: DATES[2], as_of: '2026-05-04', finished_at: null, counts: null },
    previousRun: null,
    totals: [
      { currency: 'THB', charges: count, gross: '1000000.00', settled: '990000.00', mdr: '25000.00', vat: '1750.00', refunded: '5000.00', gateway_net: '963250.00', after_mdr: '975000.00', after_vat: '973250.00', net: '968250.00' },
    ],
    byCode: CODES.map((code, c) => ({ code, severity: code === 'FEES_NOT_REPORTED' ? 'warning' : 'error', count: Math.floor((count + CODES.length - 1 - c) / CODES.length) })),
    byDay: DATES.map((date) => ({ date, errors: Math.floor(count / 3), warnings: 0, charges: count, matched: 0, match_rate: '0.0' })),
    openItems: { byBucket: { '0-1': 3, '2-7': 2, '8-30': 1, '31+': 0 }, stale: 0 },
    changes: { new: Math.ceil(count / 3), still_open: Math.ceil((count - 1) / 3), acknowledged: Math.floor(count / 3), resolved: 0 },
    findings: { columns: FINDING_COLUMNS, rows },
  };
}

/** How many of {@link syntheticReportData}'s rows have code index `c` and state index `s`. */
export function syntheticCount(count: number, c: number, s: number): number {
  let n = 0;
  for (let i = 0; i < count; i++) if (i % CODES.length === c && i % STATES.length === s) n += 1;
  return n;
}

export { CODES as SYNTHETIC_CODES, STATES as SYNTHETIC_STATES };
