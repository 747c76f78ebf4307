import { findingText } from '../../src/reconcile/finding-texts.ts';
import { SEVERITY, type MismatchCode } from '../../src/reconcile/mismatch.ts';
import { FINDING_COLUMNS, type HtmlReportData } from '../../src/report/html-report-data.ts';

const CODES = ['AMOUNT_MISMATCH', 'FEES_NOT_REPORTED', 'REFUND_PENDING', 'SETTLEMENT_PENDING', 'VAT_MISMATCH'] as const satisfies readonly MismatchCode[];
const STATES = ['new', 'still_open', 'acknowledged'] as const;
const DATES = ['2026-05-01', '2026-05-02', '2026-05-03'] as const;

/** Who acknowledged the acknowledged rows of {@link syntheticReportData}, and the note of row i. */
export const SYNTHETIC_ACK_BY = 'สมศรี บัญชี';
export const syntheticAckNote = (i: number) => `ลูกค้าโอนซ้ำ คืนเงินแล้ว (${i})`;

/**
 * A report of `count` findings without a run behind it, for the checks on many rows: row i has
 * code `codeOf(i)` (default CODES[i % 5]), state STATES[i % 3], date DATES[i % 3] and charge id
 * `chrg_test_<i>`; the acknowledged ones name {@link SYNTHETIC_ACK_BY} and {@link syntheticAckNote}.
 */
export function syntheticReportData(count: number, codeOf: (i: number) => MismatchCode = (i) => CODES[i % CODES.length]!): HtmlReportData {
  const byCode = new Map<MismatchCode, { count: number; acknowledged: number }>();
  const rows = Array.from({ length: count }, (_, i) => {
    const code = codeOf(i);
    const state = STATES[i % STATES.length]!;
    const tally = byCode.get(code) ?? byCode.set(code, { count: 0, acknowledged: 0 }).get(code)!;
    tally.count += 1;
    if (state === 'acknowledged') tally.acknowledged += 1;
    const values: Record<(typeof FINDING_COLUMNS)[number], string | null> = {
      transaction_date: DATES[i % DATES.length]!,
      source_type: 'card',
      charge_id: `chrg_test_${i}`,
      reference_order: `ใบสั่งซื้อ-${i}`,
      code,
      severity: SEVERITY[code],
      finding_state: state,
      acknowledged_by: state === 'acknowledged' ? SYNTHETIC_ACK_BY : null,
      ack_note: state === 'acknowledged' ? syntheticAckNote(i) : null,
      // An error compares two amounts; a warning names KBank's only.
      ...(SEVERITY[code] === 'error'
        ? { field: 'amount', ledger_value: '1000.00', gateway_value: '1001.00', difference: '1.00', message: `ledger 1000.00, gateway 1001.00 (แถว ${i})` }
        : { field: null, ledger_value: null, gateway_value: '250000.00', difference: null, message: `the gateway settled 250000.00 but reports no fee figures yet (แถว ${i})` }),
    };
    return FINDING_COLUMNS.map((column) => values[column]);
  });
  const errors = (date: number) => rows.filter((r, i) => i % DATES.length === date && r[FINDING_COLUMNS.indexOf('severity')] === 'error').length;
  return {
    run: {
      run_id: '00000000-0000-4000-8000-000000000000', kind: 'run', from: DATES[0], to: DATES[2], as_of: '2026-05-04', tz: 'Asia/Bangkok',
      started_at: '2026-05-04 02:30:00 +07:00', finished_at: null, counts: null,
    },
    previousRun: null,
    totals: [
      {
        currency: 'THB', charges: count, gross: '1000000.00', voided: '0.00', refunded: '5000.00', settled: '990000.00', mdr: '25000.00', vat: '1750.00',
        net: '963250.00', fees_pending: 10, mdr_estimate: '250.00', vat_estimate: '17.50',
      },
    ],
    byCode: [...byCode].map(([code, tally]) => ({ code, severity: SEVERITY[code], ...tally })).sort((a, b) => b.count - a.count || a.code.localeCompare(b.code)),
    codeTexts: Object.fromEntries([...byCode.keys()].map((code) => [code, findingText(code)!])),
    byDay: DATES.map((date, d) => ({ date, errors: errors(d), warnings: rows.filter((_, i) => i % DATES.length === d).length - errors(d), charges: count, matched: 0, match_rate: '0.0' })),
    openItems: { byBucket: { '0-1': 3, '2-7': 2, '8-30': 1, '31+': 0 }, stale: 0 },
    changes: { new: Math.ceil(count / 3), still_open: Math.ceil((count - 1) / 3), acknowledged: Math.floor(count / 3), resolved: 0 },
    findings: { columns: FINDING_COLUMNS, rows },
  };
}

/** How many of {@link syntheticReportData}'s rows (default codes) have code index `c` and state index `s`. */
export function syntheticCount(count: number, c: number, s: number): number {
  let n = 0;
  for (let i = 0; i < count; i++) if (i % CODES.length === c && i % STATES.length === s) n += 1;
  return n;
}

export { CODES as SYNTHETIC_CODES, STATES as SYNTHETIC_STATES };
