import { requireSecretKey } from '../config.ts';
import { asDatabaseLost, openDatabase, type DatabaseHandle } from '../db/connection.ts';
import type { ExitCode } from '../errors.ts';
import { parseMoney, type Money } from '../money.ts';
import { runReconciliation, type RunOutcome, type RunRequest } from './run-reconciliation.ts';
import { createProgress } from '../progress.ts';
import type { CommandContext } from '../commands/command.ts';
import { EXIT, ReconError } from '../errors.ts';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';

/**
 * `run`, `nightly`, `rerun` and `demo` all end here: one reconciliation, its summary on stdout,
 * then the path of its report.html.
 */
export async function executeRun(ctx: CommandContext, request: Omit<RunRequest, 'runId'>): Promise<ExitCode> {
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
  ctx: CommandContext,
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
        { database, config: ctx.config, logger, signal: ctx.signal, onProgress: (stage, done, total) => progress.update(requests.length > 1 ? `${stage} ${i + 1}/${requests.length}` : stage, done, total) },
      );
      progress.done();
      const after = (await hooks.after?.(database, outcome)) ?? '';
      // The page to open comes last: the line a person's eye falls on when the command ends.
      ctx.stdout.write(`${outcome.text}${after}report: ${join(outcome.reportDir, 'report.html')}\n`);
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

/** Beyond this a "tolerance" hides real differences; amounts are compared in satang. */
const MAX_TOLERANCE = '1000.00';

export function toleranceFlag(command: string, value: string | undefined): Money {
  const tolerance = parseMoney(value ?? '0.00');
  if (!tolerance || tolerance.isNegative() || tolerance.decimalPlaces() > 2 || tolerance.greaterThan(MAX_TOLERANCE)) {
    throw new ReconError('USAGE', `${command}: --tolerance '${value}' must be an amount from 0.00 to ${MAX_TOLERANCE} with at most 2 decimals, such as 0.01`);
  }
  return tolerance;
}

/** Flags every reconciling command takes. */
export const OUTPUT_FLAGS_HELP = `  --out DIR           where to write the reports (default: a folder under RECON_REPORTS_DIR)
  --tolerance AMOUNT  widen exact comparisons, e.g. 0.01 (0.00 to 1000.00; default 0.00)`;

export const AS_OF_FLAG_HELP = `  --as-of D           the day the run pretends it is, not before --from (default: today in RECON_TZ)`;

export const GATEWAY_ENVIRONMENT = `  KPGW_SECRET_KEY      merchant secret key (required), sent as x-api-key, never logged
  KPGW_BASE_URL        gateway base URL, https:// (http:// only to this machine); redirects are
                       never followed (default: the KPGW sandbox)
  KPGW_RATE_LIMIT_RPS  hard cap on requests per second (default 5)
  KPGW_CONCURRENCY     requests in flight (default 4)
  KPGW_TIMEOUT_MS      per request (default 20000)
  KPGW_MAX_RETRIES     per charge (default 5)
  DATABASE_URL         PostgreSQL ≥ 14; unset: embedded under .data/postgres
  PGCONNECT_TIMEOUT    seconds to wait for PostgreSQL to accept a connection (default 10)
  RECON_TZ             time zone of report dates (default Asia/Bangkok)
  RECON_REPORTS_DIR    where runs write without --out (default ./reports)
  LOG_LEVEL            pino level of the JSON logs on stderr (default info)`;

export const EXIT_CODES_HELP = `Exit codes: 0 reconciled, nothing wrong; 1 error-severity mismatches or rejected rows;
2 usage or configuration error; 3 aborted (database unreachable, authentication_failure,
interrupted, another run in progress).`;
