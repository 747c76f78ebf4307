import { randomUUID } from 'node:crypto';
import type { JobHelpers, TaskList } from 'graphile-worker';
import { runNightly } from '../run/nightly.ts';
import type { Config } from '../config/config.ts';
import { ReconError, isReconError, type ExitCode, type ReconErrorCode } from '../errors.ts';
import type { Logger } from '../log.ts';
import { merchantConfig, type Merchant } from '../config/merchants-file.ts';
import { NIGHT_TASK, SCHEDULE_TASK, nightJobKey, nightQueue, nightOfSchedule, type NightPayload, type SchedulePayload } from './schedule.ts';

/**
 * A night is tried again after a transient failure (database or gateway away, an interrupted
 * worker, another run of the merchant in progress), with graphile-worker's exponential back-off:
 * ten attempts span about four hours.
 */
export const NIGHT_ATTEMPTS = 10;

/**
 * Failures that the same job would meet again: a bad key, an address the gateway refuses, a bad
 * inbox or setting. They are not retried in a loop: the job fails for good, its reason kept as
 * the job's `last_error` (and, once the run had begun, as the run's `abort_reason`).
 */
const FINAL: ReadonlySet<ReconErrorCode> = new Set(['USAGE', 'CONFIG', 'INPUT', 'GATEWAY_AUTH', 'GATEWAY_IP_NOT_ALLOWED', 'GATEWAY_REDIRECT']);

export interface TaskEnvironment {
  readonly config: Config;
  readonly logger: Logger;
  readonly merchants: ReadonlyMap<string, Merchant>;
  /** Aborted when the worker stops: a running night is interrupted and its job retried later. */
  readonly signal: AbortSignal;
  /** Resolves once the job's worker pool is known to be alive (see dead-workers.ts). */
  readonly alive: (poolId: string) => Promise<void>;
  /** Each night's outcome, for what the worker prints and `worker --once`'s exit code. */
  readonly onNight?: (night: NightOutcome) => void;
}

/** What became of one merchant-night a worker ran. */
export interface NightOutcome {
  readonly mid: string;
  readonly date: string;
  readonly result: { readonly kind: 'reconciled'; readonly exitCode: ExitCode } | { readonly kind: 'failed'; readonly reason: string; readonly final: boolean };
}

export function workerTasks(env: TaskEnvironment): TaskList {
  return {
    [SCHEDULE_TASK]: async (payload, helpers) => {
      const { mid, _cron } = payload as SchedulePayload;
      if (!_cron) throw new Error(`${SCHEDULE_TASK} is queued by the cron only`);
      await queueNight(helpers, knownMerchant(env, mid), nightOfSchedule(_cron.ts, env.config.tz), new Date(_cron.ts));
    },
    [NIGHT_TASK]: async (payload, helpers) => {
      const { mid, date } = payload as NightPayload;
      await env.alive(helpers.job.locked_by ?? '');
      const runId = randomUUID();
      const logger = env.logger.child({ runId, mid, date, job: helpers.job.id, attempt: helpers.job.attempts });
      try {
        if (env.signal.aborted) throw env.signal.reason;
        const merchant = knownMerchant(env, mid);
        const config = merchantConfig(env.config, merchant);
        const signal = AbortSignal.any([env.signal, helpers.abortSignal]);
        logger.info('merchant-night started');
        // The key's next night, queued behind this one, may start the moment this job ends.
        const exitCode = await runNightly({ config, logger, signal, runId, restAfterLast: true }, { date });
        logger.info({ exitCode }, 'merchant-night reconciled');
        env.onNight?.({ mid, date, result: { kind: 'reconciled', exitCode } });
      } catch (error) {
        const final = isReconError(error) && FINAL.has(error.code);
        const reason = error instanceof Error ? error.message : String(error);
        logger.error({ reason, final }, final ? 'merchant-night failed; not retried' : 'merchant-night failed; retried later');
        env.onNight?.({ mid, date, result: { kind: 'failed', reason, final } });
        if (final) await failForGood(helpers);
        throw error;
      }
    },
  };
}

function knownMerchant(env: TaskEnvironment, mid: string): Merchant {
  const merchant = env.merchants.get(mid);
  if (!merchant) throw new ReconError('CONFIG', `merchant ${mid} is not in RECON_MERCHANTS`);
  return merchant;
}

/** One job per merchant-night, in its key's queue, due at its scheduled time (oldest first). */
export async function queueNight(helpers: Pick<JobHelpers, 'addJob'>, merchant: Pick<Merchant, 'mid' | 'keyEnv'>, date: string, runAt?: Date) {
  const night: NightPayload = { mid: merchant.mid, date };
  return helpers.addJob(NIGHT_TASK, night, {
    jobKey: nightJobKey(night.mid, night.date),
    queueName: nightQueue(merchant.keyEnv),
    maxAttempts: NIGHT_ATTEMPTS,
    ...(runAt ? { runAt } : {}),
  });
}

/**
 * The one write to graphile-worker's private tables, on purpose. It counts the attempt when it
 * locks the job and retries while attempts are below max_attempts; lowering the running job's
 * max_attempts to its attempts makes the failure final, and the job stays, with its last_error.
 * No public way serves: `permanentlyFailJobs` and `rescheduleJobs` leave a locked job alone (this
 * one is locked: it is running), and calling them once the worker has unlocked it races another
 * worker taking it up; a task has no way to end its own job for good.
 */
async function failForGood(helpers: JobHelpers): Promise<void> {
  await helpers.query('UPDATE graphile_worker._private_jobs SET max_attempts = attempts WHERE id = $1 AND locked_by IS NOT NULL', [helpers.job.id]);
}
