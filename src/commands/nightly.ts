import { LIMITS } from '../config/config.ts';
import { todayIn, yesterdayIn } from '../dates.ts';
import { runNightly } from '../run/nightly.ts';
import type { Command } from './command.ts';
import { nightFlag, parseFlags, wholeNumberFlag } from './command.ts';
import { EXIT_CODES_HELP, GATEWAY_ENVIRONMENT, OUTPUT_FLAGS_HELP, toleranceFlag } from './run-flags.ts';

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
