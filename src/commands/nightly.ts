import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command, CommandContext } from './command.ts';
import { nightFlag, parseFlags, wholeNumberFlag } from './command.ts';
import { OUTPUT_FLAGS_HELP, EXIT_CODES_HELP, GATEWAY_ENVIRONMENT, executeRun, toleranceFlag } from '../run/execute-runs.ts';
import { shiftDate, todayIn, yesterdayIn } from '../dates.ts';
import { LIMITS } from '../config.ts';
import { ReconError, type ExitCode } from '../errors.ts';
import { ZERO, type Money } from '../money.ts';
import { checkInputFile, expandCsvPaths } from '../ingest/inputs.ts';
import { checkReportDir } from '../report/output-dir.ts';

export const nightlyCommand: Command = {
  name: 'nightly',
  help: `Usage: kpgw-recon nightly [--date D] [--max-requests N] [--out DIR] [--tolerance AMOUNT]

Runs 'run' for yesterday in RECON_TZ with the inputs in RECON_INBOX:
  ledger/*.csv   the merchant's ledger exports (required)
  plans/*.csv    Installment Plan Reports (optional)
  fees.json      fee schedule (optional; without it, the last one given is used)
then asks about the charges KBank notified that the night has no case for (a charge no
ledger row names only once RECON_NOTIFY_GRACE_HOURS have passed: NOT_IN_LEDGER when KBank
confirms it), reports forged notifications, and asks again about the charges that are not
final yet (oldest first, up to RECON_OPEN_MAX_DAYS old) and the final ones due a re-check (at
RECON_RECHECK_AGES days), in that order. It takes the notifications received before the
morning after the night (00:00 in RECON_TZ), whenever it is run.
Safe to run twice for the same night: the ledger is not duplicated, nothing is asked twice
(only what the first run had no definite answer for), and the newer run is the one reports read.

Flags:
  --date D            reconcile this date instead of yesterday (YYYY-MM-DD, not after
                      today); the night is decided as it would have been on the morning after D
  --max-requests N    ask about at most N charges; the rest wait for the next night
                      (default RECON_MAX_REQUESTS, else no limit)
${OUTPUT_FLAGS_HELP}

Environment:
  RECON_INBOX          where the inputs are (default ./inbox)
  RECON_RECHECK_AGES   ages in days at which a final charge is asked again (default 7,30)
  RECON_OPEN_MAX_DAYS  after this many days an open charge is no longer asked (default 60)
  RECON_MAX_REQUESTS   most charges one night asks about (default: no limit)
  RECON_NOTIFY_GRACE_HOURS  hours a notified charge may be missing from the ledger (default 24)
${GATEWAY_ENVIRONMENT}

Crontab (19:30 UTC = 02:30 in Bangkok; the date reconciled comes from RECON_TZ, not cron):
  30 19 * * * cd /srv/kpgw-recon && . ./kpgw-recon.env && npx kpgw-recon nightly >> reports/nightly.log 2>&1

${EXIT_CODES_HELP}`,
  async run(args, ctx) {
    const flags = parseFlags('nightly', args, {
      date: { type: 'string' },
      'max-requests': { type: 'string' },
      out: { type: 'string' },
      tolerance: { type: 'string' },
    });
    const date = nightFlag('nightly', flags.date, todayIn(ctx.config.tz)) ?? yesterdayIn(ctx.config.tz);
    const maxRequests = flags['max-requests'] === undefined
      ? undefined
      : wholeNumberFlag('nightly', 'max-requests', flags['max-requests'], 0, LIMITS.RECON_MAX_REQUESTS);
    return runNightly(ctx, { date, maxRequests, out: flags.out, tolerance: toleranceFlag('nightly', flags.tolerance) });
  },
};

export interface NightlyOptions {
  /** The night reconciled (`YYYY-MM-DD`); it is decided as of the morning after. */
  readonly date: string;
  /** Most charges asked; `undefined`: the configuration's `RECON_MAX_REQUESTS`. */
  readonly maxRequests?: number | undefined;
  readonly out?: string | undefined;
  readonly tolerance?: Money;
}

/**
 * One night of one merchant from its inbox: what `nightly` runs, and what a worker's job runs
 * for each merchant-night (contract §12), so both decide and write exactly the same.
 */
export async function runNightly(ctx: CommandContext, options: NightlyOptions): Promise<ExitCode> {
  const { date } = options;
  const maxRequests = options.maxRequests ?? ctx.config.recon.maxRequests;
  const inbox = ctx.config.inbox;
  // Every path is checked before the database is opened: a bad one costs nothing.
  const ledgerDir = join(inbox, 'ledger');
  if (!(await inboxCsvFiles(ledgerDir)).length) {
    throw new ReconError('INPUT', `nightly: no ledger files in ${ledgerDir} (RECON_INBOX=${inbox})`);
  }
  const plansDir = join(inbox, 'plans');
  const hasPlans = (await inboxCsvFiles(plansDir)).length > 0;
  const feesFile = join(inbox, 'fees.json');
  const hasFees = await exists(feesFile);
  if (hasFees) await checkInputFile(feesFile, 'the fee schedule');
  await checkReportDir(options.out, ctx.config.reportsDir);
  return executeRun(ctx, {
    kind: 'nightly',
    from: date,
    to: date,
    // As of the morning after: a night replayed later decides as it would have then.
    asOf: shiftDate(date, 1),
    ledgers: [ledgerDir],
    plans: hasPlans ? [plansDir] : [],
    fees: hasFees ? { kind: 'file', file: feesFile } : { kind: 'latest' },
    outDir: options.out,
    tolerance: options.tolerance ?? ZERO,
    followUp: { maxRequests },
    notifications: {},
  });
}

/** An inbox folder's `.csv` files, checked like `--ledger`; none when the folder is not there. */
async function inboxCsvFiles(dir: string): Promise<string[]> {
  return (await exists(dir)) ? expandCsvPaths([dir]) : [];
}

/** Only "not there" is false: a path that cannot be looked at is left for the checks to name. */
async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    (error: NodeJS.ErrnoException) => error.code !== 'ENOENT' && error.code !== 'ENOTDIR',
  );
}
