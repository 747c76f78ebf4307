import type { Writable } from 'node:stream';
import { requireSecretKey, type Config } from '../config/config.ts';
import { loadMerchants, merchantConfig, type Merchant } from '../config/merchants-file.ts';
import { ReconError, isReconError, type ExitCode } from '../errors.ts';
import { createLogger } from '../log.ts';
import { checkWritableDir } from '../report/output-dir.ts';
import { terminalOf } from '../terminal.ts';
import { runWorker, type WorkerOptions } from './run-worker.ts';

/**
 * `worker`: every merchant of the merchants file checked (its key, its reports folder) before
 * the worker starts, so a worker that would fail a merchant every night never looks healthy.
 */
export async function startWorker(
  ctx: { readonly config: Config; readonly signal: AbortSignal; readonly stdout: Writable; readonly runId: string },
  options: WorkerOptions,
): Promise<ExitCode> {
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
  return runWorker({ config: ctx.config, logger, signal: ctx.signal, stdout: ctx.stdout }, merchants, options);
}

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
