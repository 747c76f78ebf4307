import type { Command } from './command.ts';
import { parseFlags, wholeNumberFlag } from './command.ts';
import { GATEWAY_ENVIRONMENT } from './run-flags.ts';
import { LIMITS, requireSecretKey } from '../config/config.ts';
import { ReconError, isReconError } from '../errors.ts';
import { createLogger } from '../log.ts';
import { terminalOf } from '../terminal.ts';
import { checkWritableDir } from '../report/output-dir.ts';
import { loadMerchants, merchantConfig, type Merchant } from '../config/merchants-file.ts';
import { runWorker } from '../worker/run-worker.ts';

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
    if (!ctx.config.databaseUrl) throw new ReconError('CONFIG', 'worker: DATABASE_URL is not set; the job queue lives in the PostgreSQL every worker shares');
    const merchants = await loadMerchants(ctx.config);
    // Every merchant's key is checked at start: a worker that would fail a merchant every night
    // must not look healthy.
    const keys = merchants.map((m) => {
      const config = merchantConfig(ctx.config, m);
      try {
        requireSecretKey(config);
      } catch (error) {
        if (!isReconError(error)) throw error;
        throw new ReconError('CONFIG', `merchant ${m.mid}: key_env ${m.keyEnv}: ${error.message.replace(/^KPGW_SECRET_KEY /, '')}`);
      }
      return config.kpgw.secretKey;
    });
    refuseOneKeyUnderTwoNames(merchants, keys);
    // Each merchant's reports folder is made and written to now: a bad one (a file, a folder of
    // /proc) stops the start, not a night at 02:30, and nights running side by side never race to
    // create (and tidy away) a shared parent.
    for (const m of merchants) await checkWritableDir(m.reportsDir, `merchant ${m.mid}: reports_dir`, { keep: true });
    // Every merchant's key is scrubbed from the logs, not only KPGW_SECRET_KEY.
    const logger = createLogger({
      level: ctx.config.logLevel,
      secrets: [ctx.config.kpgw.secretKey, ...keys],
      terminal: process.stderr.isTTY ? terminalOf(process.stderr) : undefined,
    }).child({ worker: ctx.runId, command: 'worker' });
    return runWorker({ config: ctx.config, logger, signal: ctx.signal, stdout: ctx.stdout }, merchants, { once: flags.once === true, concurrency });
  },
};

/**
 * Merchants that share a key share its rate limit only when the file says so (one `key_env`);
 * the same key under two variable names would get two limits, so it is refused, naming both.
 */
function refuseOneKeyUnderTwoNames(merchants: readonly Merchant[], keys: readonly string[]): void {
  const byKey = new Map<string, Merchant>();
  merchants.forEach((m, i) => {
    const other = byKey.get(keys[i]!);
    if (other && other.keyEnv !== m.keyEnv) {
      throw new ReconError('CONFIG', `merchants ${other.mid} (key_env ${other.keyEnv}) and ${m.mid} (key_env ${m.keyEnv}) have the same secret key: give them one key_env, so that they share one rate limit`);
    }
    byKey.set(keys[i]!, other ?? m);
  });
}
