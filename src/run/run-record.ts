import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { Kysely } from 'kysely';
import { isConnectionFailure, isDatabaseGone } from '../db/connection.ts';
import type { Database } from '../db/database.ts';
import { connectClient, connectionOptions } from '../db/pg-options.ts';
import { ReconError } from '../errors.ts';
import type { RunJson } from '../report/run-json.ts';
import type { RunKind } from './run.table.ts';

/** Held for the whole run; PostgreSQL releases it when the holder's connection dies. */
export const RUN_LOCK = 0x6b70_7275; // "kpru"

export interface RunLock {
  /**
   * Aborts when the lock's connection fails or closes before {@link release}: the run no
   * longer holds the lock, so another could start, and it must stop.
   */
  readonly lost: AbortSignal;
  release(): Promise<void>;
}

/**
 * One run at a time per database (docs/reference.md §1.1). A session-level advisory lock on a connection
 * of its own: a run that is killed loses its connection and so the lock, and never blocks the
 * next one. Runs still marked `running` without the lock were killed; they become `aborted`.
 */
export async function acquireRunLock(url: string, db: Kysely<Database>): Promise<RunLock> {
  const client = new pg.Client({ ...connectionOptions(url), application_name: 'kpgw-recon run lock', keepAlive: true });
  const lost = new AbortController();
  let released = false;
  const onLost = (why: string) => {
    if (released || lost.signal.aborted) return;
    lost.abort(new ReconError('DATABASE_LOST', `the run lost its lock (${why}) and stopped, so that no other run overlaps it`));
  };
  client.on('error', (error) => onLost(error.message));
  client.on('end', () => onLost('its database connection closed'));
  await connectClient(client);
  // One run at a time per merchant: each merchant's tables are a schema of their own.
  const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, hashtext(current_schema())) AS locked', [RUN_LOCK]);
  if (!rows[0]?.locked) {
    await client.end();
    const running = await db
      .selectFrom('recon_runs')
      .select(['run_id', 'kind', 'from_date', 'to_date', 'started_at', 'pid', 'host'])
      .where('status', '=', 'running')
      .orderBy('started_at', 'desc')
      .executeTakeFirst();
    const which = running
      ? `run ${running.run_id} (${running.kind} ${running.from_date}..${running.to_date}, pid ${running.pid} on ${running.host}, started ${running.started_at.toISOString()})`
      : 'another run';
    throw new ReconError('RUN_IN_PROGRESS', `${which} is in progress; try again when it has finished`);
  }
  await db
    .updateTable('recon_runs')
    .set({ status: 'aborted', abort_reason: 'the process ended without finishing (killed?)', exit_code: 3 })
    .where('status', '=', 'running')
    .execute();
  return {
    lost: lost.signal,
    release: async () => {
      released = true;
      await client.end();
    },
  };
}

export interface RunParams {
  runId: string;
  kind: RunKind;
  from: string;
  to: string;
  asOf: string;
}

/** "The same command": same kind, dates and as-of day. */
export function paramsKey(params: Pick<RunParams, 'kind' | 'from' | 'to' | 'asOf'>): string {
  return `${params.kind} ${params.from}..${params.to}@${params.asOf}`;
}

export async function startRun(db: Kysely<Database>, params: RunParams): Promise<void> {
  await db
    .insertInto('recon_runs')
    .values({
      run_id: params.runId,
      kind: params.kind,
      from_date: params.from,
      to_date: params.to,
      as_of: params.asOf,
      status: 'running',
      params_key: paramsKey(params),
      pid: process.pid,
      host: hostname(),
      finished_at: null,
      abort_reason: null,
      exit_code: null,
      report_dir: null,
      counts: null,
      gateway: null,
      timings_ms: null,
      duration_ms: null,
    })
    .execute();
}

/** How long recording an aborted run waits for a database that is restarting. */
const ABORT_RECORD_WAIT_MS = 30_000;

/**
 * Records the run as aborted. A run aborted because the database restarted finds it still
 * coming back, so a connection failure is retried for up to half a minute before giving up (the
 * next run would then mark it aborted as killed).
 */
export async function abortRun(db: Kysely<Database>, runId: string, reason: string, exitCode: number): Promise<void> {
  const deadline = Date.now() + ABORT_RECORD_WAIT_MS;
  for (;;) {
    try {
      await db
        .updateTable('recon_runs')
        .set({ status: 'aborted', abort_reason: reason, exit_code: exitCode, finished_at: new Date() })
        .where('run_id', '=', runId)
        .where('status', '=', 'running')
        .execute();
      return;
    } catch (error) {
      // A dropped database does not come back: no use waiting for it.
      if (!isConnectionFailure(error) || isDatabaseGone(error) || Date.now() > deadline) throw error;
      await sleep(250);
    }
  }
}

/**
 * The interrupted run this one resumes: the latest aborted run of the same dates begun after the
 * last finished one. Its definite gateway answers are reused instead of asked again. A `nightly`
 * also takes up the night's finished run: a night run twice asks only what is still due (what
 * the first run could not get a definite answer for, and rows new since).
 */
export async function findResumableRun(db: Kysely<Database>, params: RunParams): Promise<string | undefined> {
  const key = paramsKey(params);
  if (params.kind === 'nightly') {
    const night = await db
      .selectFrom('recon_runs')
      .select('run_id')
      .where('params_key', '=', key)
      .where('status', 'in', ['aborted', 'finished'])
      .where('run_id', '!=', params.runId)
      .orderBy('started_at', 'desc')
      .executeTakeFirst();
    return night?.run_id;
  }
  const lastFinished = db
    .selectFrom('recon_runs')
    .select((eb) => eb.fn.max('started_at').as('t'))
    .where('params_key', '=', key)
    .where('status', '=', 'finished');
  const row = await db
    .selectFrom('recon_runs')
    .select('run_id')
    .where('params_key', '=', key)
    .where('status', '=', 'aborted')
    .where('run_id', '!=', params.runId)
    .where((eb) => eb.or([eb(lastFinished, 'is', null), eb('started_at', '>', lastFinished)]))
    .orderBy('started_at', 'desc')
    .executeTakeFirst();
  return row?.run_id;
}
/** Marks the run finished with its figures; refuses a run that is no longer `running`. */
export async function finishRun(trx: Kysely<Database>, input: { run: RunJson; exitCode: number; reportDir: string }): Promise<void> {
  const { run } = input;
  const updated = await trx
    .updateTable('recon_runs')
    .set({
      status: 'finished',
      finished_at: new Date(),
      exit_code: input.exitCode,
      report_dir: input.reportDir,
      counts: JSON.stringify(run.counts),
      gateway: JSON.stringify(run.gateway),
      timings_ms: JSON.stringify(run.timings_ms),
      duration_ms: run.duration_ms,
    })
    .where('run_id', '=', run.run_id)
    .where('status', '=', 'running')
    .executeTakeFirst();
  if (updated.numUpdatedRows !== 1n) throw new Error(`run ${run.run_id} is no longer running; results not stored`);
}
