import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { morningAfter } from '../dates.ts';
import { ReconError, type ExitCode } from '../errors.ts';
import { expandCsvPaths } from '../ingest/inputs.ts';
import { checkInputFile } from '../input-file.ts';
import { ZERO, type Money } from '../money.ts';
import { checkReportDir } from '../report/output-dir.ts';
import { executeRun } from './execute-runs.ts';
import type { RunContext } from './run-request.ts';

export interface NightlyOptions {
  /** The night reconciled (`YYYY-MM-DD`); it is decided as of the morning after. */
  readonly date: string;
  /** Most charges asked; `undefined`: the configuration's `RECON_MAX_REQUESTS`. */
  readonly maxRequests?: number | undefined;
  readonly out?: string | undefined;
  readonly tolerance?: Money;
}

/**
 * One night of one merchant from its inbox: what `nightly` runs, and what a worker's job runs
 * for each merchant-night, so both decide and write exactly the same.
 */
export async function runNightly(ctx: RunContext, options: NightlyOptions): Promise<ExitCode> {
  const { date } = options;
  const maxRequests = options.maxRequests ?? ctx.config.recon.maxRequests;
  const inbox = ctx.config.inbox;
  // Every path is checked before the database is opened: a bad one costs nothing.
  const ledgerDir = join(inbox, 'ledger');
  if (!(await inboxCsvFiles(ledgerDir)).length) {
    throw new ReconError('INPUT', `nightly: no ledger files in ${ledgerDir} (RECON_INBOX=${inbox})`);
  }
  const plansDir = join(inbox, 'plans');
  const hasPlans = (await inboxCsvFiles(plansDir)).length > 0;
  const feesFile = join(inbox, 'fees.json');
  const hasFees = await exists(feesFile);
  if (hasFees) await checkInputFile(feesFile, 'the fee schedule');
  await checkReportDir(options.out, ctx.config.reportsDir);
  return executeRun(ctx, {
    kind: 'nightly',
    from: date,
    to: date,
    // As of the morning after: a night replayed later decides as it would have then.
    asOf: morningAfter(date),
    ledgers: [ledgerDir],
    plans: hasPlans ? [plansDir] : [],
    fees: hasFees ? { kind: 'file', file: feesFile } : { kind: 'latest' },
    outDir: options.out,
    tolerance: options.tolerance ?? ZERO,
    followUp: { maxRequests },
    notifications: {},
  });
}

/** An inbox folder's `.csv` files, checked like `--ledger`; none when the folder is not there. */
async function inboxCsvFiles(dir: string): Promise<string[]> {
  return (await exists(dir)) ? expandCsvPaths([dir]) : [];
}

/** Only "not there" is false: a path that cannot be looked at is left for the checks to name. */
async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    (error: NodeJS.ErrnoException) => error.code !== 'ENOENT' && error.code !== 'ENOTDIR',
  );
}
