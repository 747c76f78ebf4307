import type { OpenItemTotals } from '../followup/open-items.ts';
import { formatMoneyGrouped, money, sum } from '../money.ts';
import { SEVERITY, type MismatchCode } from '../reconcile/mismatch.ts';
import type { RunJson } from './report-files.ts';
import type { SummaryRow } from './summary.ts';

/** The few lines a person reads at the end of a run. */
export function humanSummary(input: {
  run: RunJson;
  summary: SummaryRow[];
  findingsByCode: ReadonlyMap<string, number>;
  reportDir: string;
  openItems?: OpenItemTotals;
  /** Charges asked because KBank notified them, and those waiting for the ledger (docs/reference.md, Notifications in the night). */
  notified?: { asked: number; waiting: number };
}): string {
  const { run, summary, findingsByCode: byCode, reportDir, openItems, notified } = input;
  const c = run.counts;
  const findings = [...byCode.values()].reduce((a, b) => a + b, 0);
  const lines = [
    `kpgw-recon ${run.from}${run.to === run.from ? '' : ` to ${run.to}`}: ${run.status} in ${(run.duration_ms / 1000).toFixed(1)} s (run ${run.run_id})`,
    `  charges     ${c.charges}   matched ${c.matched}   mismatched ${c.mismatched}   unverified ${c.unverified}`,
    `  ledger rows ${c.ledger_rows}   rejected ${c.rejected}   gateway requests ${run.gateway.requests} (retries ${run.gateway.retries})`,
  ];
  for (const currency of [...new Set(summary.map((row) => row.currency))].sort()) lines.push(currencyLine(currency, summary.filter((row) => row.currency === currency)));
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
  if (notified && (notified.asked || notified.waiting)) {
    lines.push(`  notified    asked ${notified.asked}   waiting for the ledger (grace hours) ${notified.waiting}`);
  }
  lines.push(`  reports: ${reportDir}`);
  return `${lines.join('\n')}\n`;
}

/**
 * One line per currency of the charges (docs/reference.md, "Totals"): the ledger's gross, voids
 * and refunds in that currency; what KBank settled and charged for them, in THB, for the charges
 * whose figures it reported; and how many charges' fees are not known yet, with the fee
 * schedule's estimate of them, which is labelled as one. No amount of two currencies is added.
 */
function currencyLine(currency: string, rows: readonly SummaryRow[]): string {
  const total = (pick: (row: SummaryRow) => string) => formatMoneyGrouped(sum(rows.map((row) => money(pick(row)))));
  const pending = rows.reduce((n, row) => n + row.fees_pending, 0);
  const estimate = pending ? ` (estimate MDR ${total((r) => r.mdr_estimate)}, VAT ${total((r) => r.vat_estimate)})` : '';
  return `  totals ${currency}  gross ${total((r) => r.gross_amount)}   voided ${total((r) => r.voided_amount)}   refunded ${total((r) => r.refunded_amount)}`
    + `   KBank, in THB: settled ${total((r) => r.settled_amount)}   MDR ${total((r) => r.mdr)}   VAT ${total((r) => r.vat)}   net ${total((r) => r.net_amount)}`
    + `   fees pending ${pending}${estimate}`;
}
