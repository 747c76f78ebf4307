import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Writable } from 'node:stream';
import pg from 'pg';
import { Logger as GraphileLogger, run, runMigrations, type Runner, type WorkerEvents } from 'graphile-worker';
import type { Config } from '../config/config.ts';
import { connectionOptions } from '../db/pg-options.ts';
import { EXIT, ReconError, type ExitCode } from '../errors.ts';
import type { Logger } from '../log.ts';
import { startLiveness } from './dead-workers.ts';
import type { Merchant } from '../config/merchants-file.ts';
import { merchantCronItems } from './schedule.ts';
import { workerTasks, type NightOutcome } from './tasks.ts';
import { nextNightLines, nightLine, onceLine } from './worker-lines.ts';

export interface WorkerOptions {
  /** Queue what is due (catch-up included), run it, and return once nothing is left to run. */
  readonly once: boolean;
  /** Merchant-nights run at once by this process. */
  readonly concurrency: number;
}

/** How often an idle worker looks for jobs that are due (new jobs are announced at once). */
const POLL_MS = 1_000;

/**
 * A graphile-worker pool on our database (its schema `graphile_worker`, migrated here): the
 * merchants' cron lines with catch-up, and their merchant-nights. Returns when stopped (`signal`,
 * exit 0) or, with `once`, when nothing is left that this worker could run, with the worst exit
 * code of the nights it ran (3 if one failed).
 */
export async function runWorker(
  ctx: { config: Config; logger: Logger; signal: AbortSignal; stdout: Writable },
  merchants: readonly Merchant[],
  options: WorkerOptions,
): Promise<ExitCode> {
  const { config, logger } = ctx;
  const url = config.databaseUrl;
  if (!url) throw new ReconError('CONFIG', 'worker: DATABASE_URL is not set; the job queue lives in the PostgreSQL every worker shares');
  const pool = queuePool(url, options.concurrency + 4, logger);
  const graphileLogger = graphileLoggerOf(logger.child({ component: 'graphile-worker' }));
  let worst: ExitCode = EXIT.ok;
  const nights: NightOutcome[] = [];
  try {
    await runMigrations({ pgPool: pool, logger: graphileLogger });
    const liveness = await startLiveness(url, pool, logger);
    const stop = AbortSignal.any([ctx.signal, liveness.lost]);
    const events: WorkerEvents = new EventEmitter();
    let active = 0;
    let cronStarted = false;
    events.on('pool:create', ({ workerPool }) => void liveness.announce(workerPool.id).catch((error) => logger.error({ err: error }, 'could not take the liveness lock')));
    events.on('job:start', () => active++);
    events.on('job:complete', () => active--);
    events.on('job:error', () => (worst = EXIT.aborted));
    events.on('cron:started', () => (cronStarted = true));
    let runner: Runner | undefined;
    try {
      runner = await run({
        pgPool: pool,
        logger: graphileLogger,
        events,
        concurrency: options.concurrency,
        pollInterval: POLL_MS,
        noHandleSignals: true,
        taskList: workerTasks({
          config,
          logger,
          merchants: new Map(merchants.map((m) => [m.mid, m])),
          signal: stop,
          alive: (poolId) => liveness.held(poolId),
          onNight: (night) => {
            nights.push(night);
            ctx.stdout.write(`${nightLine(night)}\n`);
            if (night.result.kind === 'reconciled') worst = Math.max(worst, night.result.exitCode) as ExitCode;
          },
        }),
        parsedCronItems: merchantCronItems(merchants, config.tz, config.worker.catchUpDays),
      });
      logger.info({ merchants: merchants.length, concurrency: options.concurrency, once: options.once }, 'worker started');
      if (!options.once) {
        ctx.stdout.write(`worker started: ${merchants.length} merchant${merchants.length === 1 ? '' : 's'}, up to ${options.concurrency} nights at once\n`);
        for (const line of nextNightLines(merchants, config.tz, new Date())) ctx.stdout.write(`${line}\n`);
      }
      const stopped = new Promise<void>((resolve) => stop.addEventListener('abort', () => resolve(), { once: true }));
      const drained = options.once ? untilDrained(pool, () => cronStarted && active === 0, stop) : new Promise<void>(() => undefined);
      await Promise.race([runner.promise, stopped, drained]);
    } finally {
      await runner?.stop().catch(() => undefined);
      await liveness.close();
    }
    if (liveness.lost.aborted) throw liveness.lost.reason;
    if (options.once) {
      ctx.stdout.write(`${onceLine(nights, config.worker.catchUpDays)}\n`);
      for (const line of nextNightLines(merchants, config.tz, new Date())) ctx.stdout.write(`${line}\n`);
      return worst;
    }
    // A worker that runs until stopped reports its nights as they end, in the logs and the run
    // table; being stopped is how it ends, not a failure.
    return EXIT.ok;
  } finally {
    await pool.end().catch(() => undefined);
  }
}

/** A pool for graphile-worker, with the error handlers it asks for. */
export function queuePool(url: string, max: number, logger: Logger): pg.Pool {
  const pool = new pg.Pool({ ...connectionOptions(url), max });
  // A connection the server closes is dropped and replaced; unhandled, its error would crash.
  pool.on('error', (error) => logger.debug({ err: error }, 'idle database connection closed'));
  pool.on('connect', (client) => client.on('error', (error) => logger.debug({ err: error }, 'database connection failed')));
  return pool;
}

/**
 * `--once`: nothing of ours running, and no job that this worker could start now (due, not
 * locked, not failed for good, its merchant's queue free), twice in a row a poll apart (a job
 * that finishes may have queued the next).
 */
async function untilDrained(pool: pg.Pool, idle: () => boolean, signal: AbortSignal): Promise<void> {
  let quiet = 0;
  while (!signal.aborted && quiet < 2) {
    await sleep(POLL_MS);
    quiet = idle() && !(await hasRunnableJob(pool)) ? quiet + 1 : 0;
  }
}

/**
 * Through graphile-worker's public view of its jobs: a queue is busy while a job of it is locked
 * (its pool locks and frees the queue with the job).
 */
async function hasRunnableJob(pool: pg.Pool): Promise<boolean> {
  const { rows } = await pool.query<{ runnable: boolean }>(`
    SELECT EXISTS (
      SELECT 1 FROM graphile_worker.jobs j
      WHERE j.locked_at IS NULL AND j.attempts < j.max_attempts AND j.run_at <= now()
        AND (j.queue_name IS NULL OR NOT EXISTS (
          SELECT 1 FROM graphile_worker.jobs q WHERE q.queue_name = j.queue_name AND q.locked_at IS NOT NULL))
    ) AS runnable`);
  return rows[0]?.runnable === true;
}

/** graphile-worker's log lines into ours; its routine chatter (info) at debug. */
export function graphileLoggerOf(logger: Logger): GraphileLogger {
  return new GraphileLogger((scope) => (level, message, meta) => {
    const fields = { scope: { label: scope.label, workerId: scope.workerId, jobId: scope.jobId }, ...(meta?.error ? { err: meta.error } : {}) };
    if (level === 'error') logger.error(fields, message);
    else if (level === 'warning') logger.warn(fields, message);
    else logger.debug(fields, message);
  });
}
