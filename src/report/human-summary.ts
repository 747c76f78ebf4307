import type { OpenItemTotals } from '../followup/open-items.ts';
import { formatMoneyGrouped, money, sum } from '../money.ts';
import { SEVERITY, type MismatchCode } from '../reconcile/mismatch.ts';
import type { RunJson } from './run-json.ts';
import type { SummaryRow } from './summary.ts';

/** The few lines a person reads at the end of a run. */
export function humanSummary(input: {
  run: RunJson;
  summary: SummaryRow[];
  findingsByCode: ReadonlyMap<string, number>;
  reportDir: string;
  openItems?: OpenItemTotals;
  /** Charges asked because KBank notified them, and those waiting for the ledger (docs/reference.md §6). */
  notified?: { asked: number; waiting: number };
}): string {
  const { run, summary, findingsByCode: byCode, reportDir, openItems, notified } = input;
  const c = run.counts;
  const findings = [...byCode.values()].reduce((a, b) => a + b, 0);
  const lines = [
    `kpgw-recon ${run.from}${run.to === run.from ? '' : ` to ${run.to}`}: ${run.status} in ${(run.duration_ms / 1000).toFixed(1)} s (run ${run.run_id})`,
    `  charges     ${formatCount(c.charges)}   matched ${formatCount(c.matched)}   mismatched ${formatCount(c.mismatched)}   unverified ${formatCount(c.unverified)}`,
    `  ledger rows ${formatCount(c.ledger_rows)}   rejected ${formatCount(c.rejected)}   gateway requests ${formatCount(run.gateway.requests)} (retries ${formatCount(run.gateway.retries)})`,
  ];
  for (const currency of [...new Set(summary.map((row) => row.currency))].sort()) lines.push(...currencyLines(currency, summary.filter((row) => row.currency === currency)));
  if (byCode.size) {
    // "by code": the line after the list counts the same findings by what became of them.
    lines.push('  findings by code:');
    for (const [code, count] of [...byCode].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))) {
      lines.push(`    ${code.padEnd(32)} ${formatCount(count).padStart(7)}  ${SEVERITY[code as MismatchCode] ?? ''}`);
    }
  } else {
    lines.push('  no findings');
  }
  const stillOpen = findings - c.new_findings - c.acknowledged;
  lines.push(`  findings    new ${formatCount(c.new_findings)}   still open ${formatCount(stillOpen)}   acknowledged ${formatCount(c.acknowledged)}   resolved ${formatCount(c.resolved_findings)}`);
  if (openItems) {
    const buckets = Object.entries(openItems.byBucket).map(([bucket, count]) => `${bucket} days: ${formatCount(count)}`).join('   ');
    lines.push(`  open items  ${formatCount(openItems.total)}   ${buckets}   (stale ${formatCount(openItems.byKind.stale)})`);
  }
  if (c.revisited || c.rechecked || c.deferred) {
    lines.push(`  follow-ups  revisited ${formatCount(c.revisited)}   re-checked ${formatCount(c.rechecked)}   deferred to the next night ${formatCount(c.deferred)}`);
  }
  if (notified && (notified.asked || notified.waiting)) {
    lines.push(`  notified    asked ${formatCount(notified.asked)}   waiting for the ledger (grace hours) ${formatCount(notified.waiting)}`);
  }
  lines.push(`  reports: ${reportDir}`);
  return `${lines.join('\n')}\n`;
}

/**
 * The totals of one currency of the charges (docs/reference.md §5.3), on lines short enough
 * for a terminal: the ledger's gross, voids and refunds in that currency; what KBank settled and
 * charged for them, in THB, for the charges whose figures it reported; and how many charges'
 * fees are not known yet, with the fee schedule's estimate of them, which is labelled as one. No
 * amount of two currencies is added.
 */
function currencyLines(currency: string, rows: readonly SummaryRow[]): string[] {
  const total = (pick: (row: SummaryRow) => string) => formatMoneyGrouped(sum(rows.map((row) => money(pick(row)))));
  const pending = rows.reduce((count, row) => count + row.fees_pending, 0);
  const lines = [
    `  totals ${currency.padEnd(4)} gross ${total((r) => r.gross_amount)}   voided ${total((r) => r.voided_amount)}   refunded ${total((r) => r.refunded_amount)}`,
    `              KBank, in THB: settled ${total((r) => r.settled_amount)}   MDR ${total((r) => r.mdr)}   VAT ${total((r) => r.vat)}   net ${total((r) => r.net_amount)}`,
  ];
  if (pending) lines.push(`              fees pending for ${formatCount(pending)} charge${pending === 1 ? '' : 's'} (an estimate: MDR ${total((r) => r.mdr_estimate)}, VAT ${total((r) => r.vat_estimate)})`);
  return lines;
}

/** A count for people, with thousands separators as the amounts have them: 3,002, not 3002. */
export function formatCount(count: number): string {
  return COUNT.format(count);
}

const COUNT = new Intl.NumberFormat('en-US', { useGrouping: true, maximumFractionDigits: 0 });
