import { CHARGES_PER_DAY } from './generate.ts';
import { runDemo } from '../sample/demo.ts';
import type { Command } from './command.ts';
import { parseFlags, wholeNumberFlag } from './command.ts';

export const demoCommand: Command = {
  name: 'demo',
  help: `Usage: kpgw-recon demo [--per-day N]

What 'npm start' runs. It starts an embedded PostgreSQL of its own (.data/demo-postgres,
removed when the demo ends, so sample data never mixes with your books; DATABASE_URL is not
used), generates three days of realistic sample data under .data/demo (card, QR,
WeChat, Alipay, UnionPay, installments, refunds, voids, and some of every kind of mismatch),
starts the K-Payment Gateway simulator on a free loopback port and a notify-receiver that the
simulator sends KBank's notifications to (one of a charge the ledger never booked, one KBank
then contradicts, one forged), runs the reconciliation, writes the finance export and the VAT
schedule of its dates beside report.html, and prints the summary, how to try the other commands
on the same sample, and the path of report.html (open it in a browser) last. Exits 0 when the
run completes: the sample's findings are deliberate.

The demo talks only to its own simulator, so it lifts the gateway rate cap (500 requests per
second, 16 in flight); KPGW_* settings from the environment are not used. Its notifications
arrive as it runs, standing in for those of the sample's days, so it gives the ledger no grace
hours (RECON_NOTIFY_GRACE_HOURS is not used).

Flags:
  --per-day N   charges per day, 1 to 100000 (default 1000)

Environment:
  RECON_REPORTS_DIR    where the reports go (default ./reports)`,
  async run(args, ctx) {
    const flags = parseFlags('demo', args, { 'per-day': { type: 'string' } });
    const perDay = wholeNumberFlag('demo', 'per-day', flags['per-day'], 1000, CHARGES_PER_DAY);
    return runDemo(ctx, { perDay });
  },
};
