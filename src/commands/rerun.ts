import { todayIn } from '../dates.ts';
import { runRerun } from '../run/rerun.ts';
import type { Command } from './command.ts';
import { asOfFlag, dateRangeFlags, parseFlags } from './command.ts';
import { AS_OF_FLAG_HELP, EXIT_CODES_HELP, GATEWAY_ENVIRONMENT, OUTPUT_FLAGS_HELP, toleranceFlag } from './run-flags.ts';

export const rerunCommand: Command = {
  name: 'rerun',
  help: `Usage: kpgw-recon rerun --from D --to D [--out DIR] [--tolerance AMOUNT]

Reconciles every charge already ingested with transaction_date in [from, to] again: the
stored ledger rows and plan reports, the last fee schedule given, and a fresh inquiry of
every charge. Each day of the range that has ledger rows gets a run of its own, newer than the
ones it had, which 'export' and other readers then take; days with no ledger rows are skipped
(and listed), and a range with none at all is refused. Nothing is ingested. With --out and
several days, each day's reports go to DIR/YYYY-MM-DD.

Flags:
  --from D            first transaction date, YYYY-MM-DD (required)
  --to D              last transaction date, YYYY-MM-DD (required)
${AS_OF_FLAG_HELP}
${OUTPUT_FLAGS_HELP}

Environment:
${GATEWAY_ENVIRONMENT}

${EXIT_CODES_HELP}`,
  async run(args, ctx) {
    const flags = parseFlags('rerun', args, {
      from: { type: 'string' },
      to: { type: 'string' },
      'as-of': { type: 'string' },
      out: { type: 'string' },
      tolerance: { type: 'string' },
    });
    const { from, to } = dateRangeFlags('rerun', flags);
    const asOf = asOfFlag('rerun', flags['as-of'], from, todayIn(ctx.config.tz));
    const tolerance = toleranceFlag('rerun', flags.tolerance);
    return runRerun(ctx, { from, to, asOf, out: flags.out, tolerance });
  },
};
