import { LIMITS } from '../config/config.ts';
import { startWorker } from '../worker/start-worker.ts';
import type { Command } from './command.ts';
import { parseFlags, wholeNumberFlag } from './command.ts';
import { GATEWAY_ENVIRONMENT } from './run-flags.ts';

export const workerCommand: Command = {
  name: 'worker',
  help: `Usage: kpgw-recon worker [--once] [--concurrency N]

Runs the merchants' nights (RECON_MERCHANTS) as graphile-worker jobs in the PostgreSQL of
DATABASE_URL: each merchant's schedule (default 02:30 in RECON_TZ) queues one job per
merchant-night, which reconciles the night before exactly as 'nightly' does, from the merchant's
inbox into its reports folder. Start as many workers as you like, on one machine or many: a
merchant-night runs once, the nights of one key one at a time (so its rate limit holds, also for
merchants that share it), and merchants with keys of their own side by side. A night missed while no worker ran is caught up when one
starts (up to RECON_CATCH_UP_DAYS back, oldest first); the job of a worker that died is taken
up by another within seconds and resumes the interrupted run. A night that fails for a reason
that would not change (authentication_failure, a bad inbox) is not retried.

Flags:
  --once              queue what is due, run every job this worker can, then exit
  --concurrency N     merchant-nights run at once by this worker
                      (default RECON_WORKER_CONCURRENCY, else 4)

Environment:
  RECON_MERCHANTS           the merchants file (required; format in docs/reference.md)
  RECON_CATCH_UP_DAYS       how many days of missed nights a starting worker catches up (default 3)
  RECON_WORKER_CONCURRENCY  merchant-nights at once per worker (default 4)
  DATABASE_URL              required: the PostgreSQL every worker shares
  the key of each merchant, in the variable its key_env names
${GATEWAY_ENVIRONMENT.split('\n').filter((line) => !/^\s+(KPGW_SECRET_KEY|DATABASE_URL)\b/.test(line)).join('\n')}

Exit codes: 0 stopped (SIGTERM, Ctrl-C) or, with --once, every night reconciled clean; 1 with
--once, a night with findings; 2 usage or configuration error (the merchants file, a missing
key); 3 with --once, a night that failed (it stays queued for a retry unless the failure is final).`,
  async run(args, ctx) {
    const flags = parseFlags('worker', args, { once: { type: 'boolean' }, concurrency: { type: 'string' } });
    const concurrency = wholeNumberFlag('worker', 'concurrency', flags.concurrency, ctx.config.worker.concurrency, LIMITS.RECON_WORKER_CONCURRENCY);
    return startWorker(ctx, { once: flags.once === true, concurrency });
  },
};
