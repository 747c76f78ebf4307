import { makeWorkerUtils } from 'graphile-worker';
import type { Command } from './command.ts';
import { nightFlag, parseFlags, requireFlag } from './command.ts';
import { todayIn } from '../dates.ts';
import { graphileLoggerOf, queuePool } from '../worker/run-worker.ts';
import { EXIT, ReconError } from '../errors.ts';
import { loadMerchants } from '../config/merchants-file.ts';
import { nightJobKey } from '../worker/schedule.ts';
import { queueNight } from '../worker/tasks.ts';

export const enqueueCommand: Command = {
  name: 'enqueue',
  help: `Usage: kpgw-recon enqueue --date D [--mid M]

Queues the merchant-night D (YYYY-MM-DD) of one merchant (--mid) or of every merchant in
RECON_MERCHANTS, for the workers to run (kpgw-recon worker): to replay a night, or to catch up
further back than RECON_CATCH_UP_DAYS. A night already queued and not yet started is queued once.

Flags:
  --date D    the night to reconcile (required)
  --mid M     only this merchant (default: every merchant of the file)

Environment:
  RECON_MERCHANTS   the merchants file (required)
  DATABASE_URL      required: the PostgreSQL the workers share

Exit codes: 0 queued; 2 usage or configuration error; 3 database unreachable.`,
  async run(args, { config, logger, stdout }) {
    const flags = parseFlags('enqueue', args, { date: { type: 'string' }, mid: { type: 'string' } });
    const date = requireFlag('enqueue', 'date', nightFlag('enqueue', flags.date, todayIn(config.tz)));
    const url = config.databaseUrl;
    if (!url) throw new ReconError('CONFIG', 'enqueue: DATABASE_URL is not set; the job queue lives in the PostgreSQL the workers share');
    const merchants = await loadMerchants(config);
    const chosen = flags.mid === undefined ? merchants : merchants.filter((m) => m.mid === flags.mid);
    if (!chosen.length) throw new ReconError('USAGE', `enqueue: --mid ${flags.mid} is not a merchant of RECON_MERCHANTS`);
    const pool = queuePool(url, 2, logger);
    const utils = await makeWorkerUtils({ pgPool: pool, logger: graphileLoggerOf(logger) });
    try {
      await utils.migrate();
      for (const m of chosen) {
        const job = await queueNight(utils, m, date);
        stdout.write(`queued ${nightJobKey(m.mid, date)} (job ${job.id})\n`);
      }
      return EXIT.ok;
    } finally {
      await utils.release();
      await pool.end();
    }
  },
};
