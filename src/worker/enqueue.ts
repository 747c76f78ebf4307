import { makeWorkerUtils } from 'graphile-worker';
import { loadMerchants } from '../config/merchants-file.ts';
import type { Config } from '../config/config.ts';
import { ReconError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { graphileLoggerOf, queuePool } from './run-worker.ts';
import { nightJobKey } from './schedule.ts';
import { queueNight } from './tasks.ts';

/**
 * Queues the night `date` of one merchant (`mid`) or of every merchant of the merchants file,
 * for the workers, telling `onQueued` each night's job key and job id as it is queued.
 */
export async function enqueueNights(
  config: Config,
  logger: Logger,
  night: { readonly date: string; readonly mid: string | undefined },
  onQueued: (key: string, jobId: string) => void,
): Promise<void> {
  const { date, mid } = night;
  const url = config.databaseUrl;
  if (!url) throw new ReconError('CONFIG', 'enqueue: DATABASE_URL is not set; the job queue lives in the PostgreSQL the workers share');
  const merchants = await loadMerchants(config);
  const chosen = mid === undefined ? merchants : merchants.filter((m) => m.mid === mid);
  if (!chosen.length) throw new ReconError('USAGE', `enqueue: --mid ${mid} is not a merchant of RECON_MERCHANTS`);
  const pool = queuePool(url, 2, logger);
  const utils = await makeWorkerUtils({ pgPool: pool, logger: graphileLoggerOf(logger) });
  try {
    await utils.migrate();
    for (const m of chosen) {
      const job = await queueNight(utils, m, date);
      onQueued(nightJobKey(m.mid, date), job.id);
    }
  } finally {
    await utils.release();
    await pool.end();
  }
}
