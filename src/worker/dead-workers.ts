import pg from 'pg';
import { connectClient, connectionOptions } from '../db/pg-options.ts';
import { ReconError } from '../errors.ts';
import type { Logger } from '../log.ts';

/**
 * graphile-worker (open source) leaves the jobs of a worker that died without unlocking them
 * (SIGKILL, a machine that lost power) locked for 4 hours; its supported way out is
 * `force_unlock_workers`, for workers known to be dead. This is how we know: each worker pool
 * holds a session advisory lock named after its id on a connection of its own, which PostgreSQL
 * releases the moment that process's connection dies. A lock nobody holds means a dead pool.
 */
const LIVENESS_LOCKS = 0x6b70_7777; // "kpww": the advisory-lock namespace of worker pools
/** A job locked this recently may belong to a pool whose liveness lock is still being taken. */
const GRACE_SECONDS = 10;
const SWEEP_EVERY_MS = 5_000;

export interface Liveness {
  /** Takes the pool's liveness lock; its jobs are never swept while this process lives. */
  announce(poolId: string): Promise<void>;
  /** Resolves once the pool's lock is held: a job does no work before. */
  held(poolId: string): Promise<void>;
  /** Aborts when the liveness connection is lost: this process's jobs may be given to others. */
  readonly lost: AbortSignal;
  close(): Promise<void>;
}

export async function startLiveness(url: string, pool: pg.Pool, logger: Logger): Promise<Liveness> {
  const client = new pg.Client({ ...connectionOptions(url), application_name: 'kpgw-recon worker', keepAlive: true });
  const lost = new AbortController();
  let closing = false;
  const onLost = (why: string) => {
    if (closing || lost.signal.aborted) return;
    lost.abort(new ReconError('DATABASE_LOST', `the worker lost its database connection (${why}); its jobs go to other workers`));
  };
  client.on('error', (error) => onLost(error.message));
  client.on('end', () => onLost('connection closed'));
  await connectClient(client);
  const locks = new Map<string, Promise<void>>();
  const announce = (poolId: string) => {
    let taken = locks.get(poolId);
    if (!taken) {
      taken = client.query('SELECT pg_advisory_lock($1, hashtext($2))', [LIVENESS_LOCKS, poolId]).then(() => undefined);
      locks.set(poolId, taken);
    }
    return taken;
  };
  const timer = setInterval(() => void sweepDeadWorkers(pool, logger).catch((error) => logger.warn({ err: error }, 'could not look for dead workers')), SWEEP_EVERY_MS);
  timer.unref();
  void sweepDeadWorkers(pool, logger).catch((error) => logger.warn({ err: error }, 'could not look for dead workers'));
  return {
    announce,
    held: (poolId) => announce(poolId),
    lost: lost.signal,
    async close() {
      closing = true;
      clearInterval(timer);
      await client.end().catch(() => undefined);
    },
  };
}

/**
 * Unlocks the jobs and queues of every pool whose liveness lock is free, so that another worker
 * takes them up within seconds (the interrupted run is resumed, docs/reference.md §1.16). Returns the pools.
 */
export async function sweepDeadWorkers(pool: pg.Pool, logger: Logger): Promise<string[]> {
  const client = await pool.connect();
  try {
    // graphile-worker's public view of its jobs. A pool locks a job's queue with the job, at the
    // same moment, and frees both together, so a locked queue always has a locked job of the same pool.
    const { rows } = await client.query<{ locked_by: string }>(
      'SELECT DISTINCT locked_by FROM graphile_worker.jobs WHERE locked_by IS NOT NULL AND locked_at < now() - make_interval(secs => $1)',
      [GRACE_SECONDS],
    );
    const dead: string[] = [];
    for (const { locked_by: poolId } of rows) {
      const { rows: [probe] } = await client.query<{ free: boolean }>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS free', [LIVENESS_LOCKS, poolId]);
      if (!probe?.free) continue;
      await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [LIVENESS_LOCKS, poolId]);
      dead.push(poolId);
    }
    if (dead.length) {
      await client.query('SELECT graphile_worker.force_unlock_workers($1::text[])', [dead]);
      logger.warn({ pools: dead }, 'unlocked the jobs of workers that died; other workers take them up');
    }
    return dead;
  } finally {
    client.release();
  }
}
