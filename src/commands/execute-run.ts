import { requireSecretKey } from '../config.ts';
import { openDatabase } from '../db/connection.ts';
import type { ExitCode } from '../errors.ts';
import { parseMoney, type Money } from '../money.ts';
import { runReconciliation, type RunRequest } from '../pipeline/run-reconciliation.ts';
import { createProgress } from '../progress.ts';
import type { CommandContext } from './command.ts';
import { ReconError } from '../errors.ts';

/** `run`, `nightly`, `rerun` and `demo` all end here: one reconciliation, summary on stdout. */
export async function executeRun(ctx: CommandContext, request: Omit<RunRequest, 'runId'>): Promise<ExitCode> {
  requireSecretKey(ctx.config);
  const database = await openDatabase(ctx.config, ctx.logger);
  const progress = createProgress(ctx.logger);
  try {
    const outcome = await runReconciliation(
      { ...request, runId: ctx.runId },
      { database, config: ctx.config, logger: ctx.logger, signal: ctx.signal, onProgress: progress.update },
    );
    progress.done();
    ctx.stdout.write(outcome.text);
    return outcome.exitCode;
  } finally {
    progress.done();
    await database.close({ force: ctx.signal.aborted });
  }
}

export function toleranceFlag(command: string, value: string | undefined): Money {
  const tolerance = parseMoney(value ?? '0.00');
  if (!tolerance || tolerance.isNegative()) {
    throw new ReconError('USAGE', `${command}: --tolerance '${value}' must be a non-negative amount such as 0.01`);
  }
  return tolerance;
}

export const GATEWAY_ENVIRONMENT = `  KPGW_SECRET_KEY      merchant secret key (required), sent as x-api-key, never logged
  KPGW_BASE_URL        gateway base URL (default: the KPGW sandbox)
  KPGW_RATE_LIMIT_RPS  hard cap on requests per second (default 5)
  KPGW_CONCURRENCY     requests in flight (default 4)
  KPGW_TIMEOUT_MS      per request (default 20000)
  KPGW_MAX_RETRIES     per charge (default 5)
  DATABASE_URL         PostgreSQL ≥ 14; unset: embedded under .data/postgres
  RECON_TZ             time zone of report dates (default Asia/Bangkok)
  RECON_REPORTS_DIR    where runs write without --out (default ./reports)
  LOG_LEVEL            pino level of the JSON logs on stderr (default info)`;

export const EXIT_CODES_HELP = `Exit codes: 0 reconciled, nothing wrong; 1 error-severity mismatches or rejected rows;
2 usage or configuration error; 3 aborted (database unreachable, authentication_failure,
interrupted, another run in progress).`;
