import type { OpenItemTotals } from '../followup/open-items.ts';
import { money, sum, formatMoney } from '../money.ts';
import { SEVERITY, type MismatchCode } from '../reconcile/mismatch.ts';
import type { RunJson } from './report-files.ts';
import type { SummaryRow } from './summary.ts';

/** The few lines a person reads at the end of a run. */
export function humanSummary(input: { run: RunJson; summary: SummaryRow[]; findingsByCode: ReadonlyMap<string, number>; reportDir: string; openItems?: OpenItemTotals }): string {
  const { run, summary, findingsByCode: byCode, reportDir, openItems } = input;
  const c = run.counts;
  const findings = [...byCode.values()].reduce((a, b) => a + b, 0);
  const lines = [
    `kpgw-recon ${run.from}${run.to === run.from ? '' : ` to ${run.to}`}: ${run.status} in ${(run.duration_ms / 1000).toFixed(1)} s (run ${run.run_id})`,
    `  charges     ${c.charges}   matched ${c.matched}   mismatched ${c.mismatched}   unverified ${c.unverified}`,
    `  ledger rows ${c.ledger_rows}   rejected ${c.rejected}   gateway requests ${run.gateway.requests} (retries ${run.gateway.retries})`,
  ];
  // Amounts of different currencies are never added together.
  for (const currency of [...new Set(summary.map((row) => row.currency))].sort()) {
    const rows = summary.filter((row) => row.currency === currency);
    const total = (pick: (row: SummaryRow) => string) => formatMoney(sum(rows.map((row) => money(pick(row)))));
    lines.push(
      `  totals ${currency}  gross ${total((r) => r.gross_amount)}   MDR ${total((r) => r.mdr)}   VAT ${total((r) => r.vat)}   net ${total((r) => r.net_amount)}   refunded ${total((r) => r.refunded_amount)}`,
    );
  }
  if (byCode.size) {
    // "by code": the line after the list counts the same findings by what became of them.
    lines.push('  findings by code:');
    for (const [code, count] of [...byCode].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))) {
      lines.push(`    ${code.padEnd(32)} ${String(count).padStart(6)}  ${SEVERITY[code as MismatchCode] ?? ''}`);
    }
  } else {
    lines.push('  no findings');
  }
  const stillOpen = findings - c.new_findings - c.acknowledged;
  lines.push(`  findings    new ${c.new_findings}   still open ${stillOpen}   acknowledged ${c.acknowledged}   resolved ${c.resolved_findings}`);
  if (openItems) {
    const buckets = Object.entries(openItems.byBucket).map(([bucket, n]) => `${bucket} days: ${n}`).join('   ');
    lines.push(`  open items  ${openItems.total}   ${buckets}   (stale ${openItems.byKind.stale})`);
  }
  if (c.revisited || c.rechecked || c.deferred) {
    lines.push(`  follow-ups  revisited ${c.revisited}   re-checked ${c.rechecked}   deferred to the next night ${c.deferred}`);
  }
  lines.push(`  reports: ${reportDir}`);
  return `${lines.join('\n')}\n`;
}
