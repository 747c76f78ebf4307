import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { requireSecretKey } from '../config/config.ts';
import { asDatabaseLost, openDatabase, type DatabaseHandle } from '../db/connection.ts';
import { EXIT, type ExitCode } from '../errors.ts';
import { createProgress } from '../progress.ts';
import { runReconciliation } from './run-reconciliation.ts';
import type { RunContext, RunOutcome, RunRequest } from './run-request.ts';

/**
 * `run`, `nightly` (from the CLI or a worker's job), `rerun` and `demo` all end here: one
 * reconciliation, its summary on stdout (when there is one), then the path of its report.html.
 */
export async function executeRun(ctx: RunContext, request: Omit<RunRequest, 'runId'>): Promise<ExitCode> {
  return executeRuns(ctx, [request]);
}

/** What the demo does around its run, on its database. */
export interface RunHooks {
  /** Before the requests are worked out (the demo empties its database). */
  prepare?: (database: DatabaseHandle) => Promise<void>;
  /** After each run, before the path of its report.html: lines to print (the demo's finance files). */
  after?: (database: DatabaseHandle, outcome: RunOutcome) => Promise<string>;
}

/**
 * Several runs in a row on one database (a `rerun` does one per day), stopping at the first
 * that aborts. The first run takes the invocation's run id; each later one gets its own.
 * `requests` may be worked out from the database once it is open. Returns the worst exit code.
 */
export async function executeRuns(
  ctx: RunContext,
  runs: readonly Omit<RunRequest, 'runId'>[] | ((database: DatabaseHandle) => Promise<readonly Omit<RunRequest, 'runId'>[]>),
  hooks: RunHooks = {},
): Promise<ExitCode> {
  requireSecretKey(ctx.config);
  const database = await openDatabase(ctx.config, ctx.logger, 'write');
  const progress = createProgress(ctx.logger);
  let worst: ExitCode = EXIT.ok;
  try {
    await hooks.prepare?.(database);
    const requests = typeof runs === 'function' ? await runs(database) : runs;
    for (const [i, request] of requests.entries()) {
      const runId = i === 0 ? ctx.runId : randomUUID();
      const logger = i === 0 ? ctx.logger : ctx.logger.child({ runId });
      if (requests.length > 1) logger.info({ run: i + 1, of: requests.length, from: request.from, to: request.to }, 'starting run');
      const outcome = await runReconciliation(
        { ...request, runId },
        {
          database,
          config: ctx.config,
          logger,
          signal: ctx.signal,
          onProgress: (stage, done, total) => progress.update(requests.length > 1 ? `${stage} ${i + 1}/${requests.length}` : stage, done, total),
          restAfter: i < requests.length - 1 || ctx.restAfterLast === true,
        },
      );
      progress.done();
      const after = (await hooks.after?.(database, outcome)) ?? '';
      // The page to open comes last: the line a person's eye falls on when the command ends.
      ctx.stdout?.write(`${outcome.text}${after}report: ${join(outcome.reportDir, 'report.html')}\n`);
      worst = Math.max(worst, outcome.exitCode) as ExitCode;
    }
    return worst;
  } catch (error) {
    throw asDatabaseLost(error, database.url);
  } finally {
    progress.done();
    // Best effort: a database that is gone must not replace the error that says so.
    await database.close({ force: ctx.signal.aborted }).catch((error) => ctx.logger.debug({ err: error }, 'closing the database failed'));
  }
}
