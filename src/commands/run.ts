import { todayIn } from '../dates.ts';
import { checkCsvInputs } from '../ingest/inputs.ts';
import { checkInputFile } from '../input-file.ts';
import { loadLedgerMap } from '../ingest/ledger-columns.ts';
import { checkReportDir } from '../report/output-dir.ts';
import type { Command } from './command.ts';
import { asOfFlag, dateRangeFlags, parseFlags, requireFlag } from './command.ts';
import { executeRun } from '../run/execute-runs.ts';
import { AS_OF_FLAG_HELP, EXIT_CODES_HELP, GATEWAY_ENVIRONMENT, OUTPUT_FLAGS_HELP, toleranceFlag } from './run-flags.ts';

export const runCommand: Command = {
  name: 'run',
  help: `Usage: kpgw-recon run --from D [--to D] --ledger PATH... [flags]

Ingests the ledger (and plan reports), asks the gateway about every charge whose
transaction_date is in [from, to], reconciles, and writes mismatches.csv, summary.csv,
rejected.csv and run.json plus the recon_* tables.

Flags:
  --from D            first transaction date, YYYY-MM-DD (required)
  --to D              last transaction date (default: --from)
  --ledger PATH       ledger CSV file or folder of .csv files (required; may repeat)
  --plans PATH        Installment Plan Report CSV or folder (may repeat)
  --fees FILE         fee schedule JSON (format in docs/reference.md)
  --ledger-map FILE   JSON { "canonical_name": "Their Header" } for a merchant's own columns
${AS_OF_FLAG_HELP}
${OUTPUT_FLAGS_HELP}

Environment:
${GATEWAY_ENVIRONMENT}

${EXIT_CODES_HELP}`,
  async run(args, ctx) {
    const flags = parseFlags('run', args, {
      from: { type: 'string' },
      to: { type: 'string' },
      ledger: { type: 'string', multiple: true },
      plans: { type: 'string', multiple: true },
      fees: { type: 'string' },
      'ledger-map': { type: 'string' },
      'as-of': { type: 'string' },
      out: { type: 'string' },
      tolerance: { type: 'string' },
    });
    const { from, to } = dateRangeFlags('run', flags, 'from');
    const ledgers = requireFlag('run', 'ledger', flags.ledger);
    const asOf = asOfFlag('run', flags['as-of'], from, todayIn(ctx.config.tz));
    const tolerance = toleranceFlag('run', flags.tolerance);
    const plans = flags.plans ?? [];
    // Every path is checked before the database is opened: a bad one costs nothing.
    await checkCsvInputs(ledgers, 'ledger files');
    await checkCsvInputs(plans, 'plan reports');
    if (flags.fees !== undefined) await checkInputFile(flags.fees, 'the fee schedule');
    if (flags['ledger-map'] !== undefined) await loadLedgerMap(flags['ledger-map']);
    await checkReportDir(flags.out, ctx.config.reportsDir);
    return executeRun(ctx, {
      kind: 'run',
      from,
      to,
      asOf,
      ledgers,
      plans,
      ledgerMap: flags['ledger-map'],
      fees: flags.fees !== undefined ? { kind: 'file', file: flags.fees } : { kind: 'none' },
      outDir: flags.out,
      tolerance,
    });
  },
};
