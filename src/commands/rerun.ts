import { join } from 'node:path';
import type { Command } from './command.ts';
import { dateRangeFlags, isoDateFlag, parseFlags } from './command.ts';
import { AS_OF_FLAG_HELP, OUTPUT_FLAGS_HELP, EXIT_CODES_HELP, GATEWAY_ENVIRONMENT, executeRuns, toleranceFlag } from './execute-run.ts';
import { datesBetween, todayIn } from '../dates.ts';
import { checkReportDir } from '../report/output-dir.ts';

export const rerunCommand: Command = {
  name: 'rerun',
  help: `Usage: kpgw-recon rerun --from D --to D [--out DIR] [--tolerance AMOUNT]

Reconciles every charge already ingested with transaction_date in [from, to] again: the
stored ledger rows and plan reports, the last fee schedule given, and a fresh inquiry of
every charge. Each day of the range gets a run of its own, newer than the ones it had, which
'export' and other readers then take. Nothing is ingested. With --out and several days, each
day's reports go to DIR/YYYY-MM-DD.

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
    const asOf = isoDateFlag('rerun', 'as-of', flags['as-of']) ?? todayIn(ctx.config.tz);
    const tolerance = toleranceFlag('rerun', flags.tolerance);
    await checkReportDir(flags.out, ctx.config.reportsDir);
    // One run per day: each day gets a run of its own, newer than what it had.
    const days = datesBetween(from, to);
    return executeRuns(
      ctx,
      days.map((day) => ({
        kind: 'rerun' as const,
        from: day,
        to: day,
        asOf,
        ledgers: [],
        plans: [],
        fees: { kind: 'latest' as const },
        outDir: flags.out && days.length > 1 ? join(flags.out, day) : flags.out,
        tolerance,
      })),
    );
  },
};
