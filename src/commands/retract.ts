import type { Writable } from 'node:stream';
import { openDatabase, type DatabaseHandle } from '../db/connection.ts';
import { EXIT, ReconError, isReconError } from '../errors.ts';
import type { LineProblem } from '../followup/edited-csv.ts';
import { readRetractFile } from '../followup/retract-file.ts';
import { refusedRequests, retractRows, undoRetraction, type RetractionRequest } from '../followup/retractions.ts';
import { acquireRunLock } from '../run/run-record.ts';
import { currentUser, plural, refuseLines, textFlag, usageError } from './clerk-input.ts';
import type { Command } from './command.ts';
import { parseFlags, requireFlag } from './command.ts';

export const retractCommand: Command = {
  name: 'retract',
  help: `Usage: kpgw-recon retract --entry-id ID --reason TEXT [--by NAME]
       kpgw-recon retract --file FILE [--by NAME]
       kpgw-recon retract --undo --entry-id ID [--by NAME]

Takes ledger rows that were booked by mistake out of reconciliation. A retracted row stays
stored, but no run, report, export or VAT schedule counts it from then on, and ingesting its
file again does not bring it back. Its findings still open are resolved, with the reason
retracted; if it is a charge's own row, the charge is no longer followed as an open item; if
it is a refund, void or duplicate row, its charge is due again, so the next nightly
reconciles it without the row. Retractions are kept as an audit trail (who, when, why);
--undo records that one was taken back, and the next nightly (or the next run over the row's
dates) reconciles the row again.

--file reads a CSV with a header holding at least entry_id and reason (a by column, where
filled, names the person for its row; other columns are ignored). If any row names no ledger
row, a row already retracted, or a row named before, or lacks a reason, nothing of the file
is applied and each such line is listed.

Waits for no run: while a run of this merchant is in progress it exits 3, naming the run.

Flags:
  --entry-id ID   the ledger row, by its entry_id
  --reason TEXT   why it is taken out (required to retract)
  --file FILE     many rows from a CSV (see above)
  --by NAME       who (default: the operating-system user)
  --undo          bring the row back instead

Environment: DATABASE_URL, RECON_TZ.`,
  async run(args, ctx) {
    const flags = parseFlags('retract', args, {
      'entry-id': { type: 'string' },
      reason: { type: 'string' },
      file: { type: 'string' },
      by: { type: 'string' },
      undo: { type: 'boolean' },
    });
    const text = (name: 'entry-id' | 'reason' | 'by') => textFlag('retract', name, flags[name]);
    const by = text('by') ?? currentUser();
    const tz = ctx.config.tz;
    if (flags.undo) {
      if (flags.file !== undefined || flags.reason !== undefined) throw usageError('retract', `--undo takes one row by --entry-id; --${flags.file !== undefined ? 'file' : 'reason'} is not used with it`);
      const entryId = requireFlag('retract', 'entry-id', text('entry-id'));
      return withRunLock(ctx, async (database) => {
        const outcome = await undoRetraction(database.db, entryId, by, tz);
        if (!outcome.ok) throw new ReconError('USAGE', `retract: ${outcome.problem}`);
        ctx.logger.info({ entryId, by }, 'retraction undone');
        ctx.stdout.write(`${entryId} is back: the next nightly, or the next run over ${outcome.transactionDate}, reconciles it again\n`);
        return EXIT.ok;
      });
    }
    let requests: RetractionRequest[];
    let problems: LineProblem[] = [];
    if (flags.file !== undefined) {
      const given = (['entry-id', 'reason'] as const).find((name) => flags[name] !== undefined);
      if (given) throw usageError('retract', `--file takes the rows from the file; --${given} is not used with it`);
      ({ requests, problems } = await readRetractFile(flags.file, by));
    } else {
      requests = [{ entryId: requireFlag('retract', 'entry-id', text('entry-id')), reason: requireFlag('retract', 'reason', text('reason')), by }];
    }
    return withRunLock(ctx, async (database) => {
      // A file with lines that cannot be read is refused whole, listing its other bad lines too.
      if (problems.length) refuse(ctx.stderr, flags.file, problems, await refusedRequests(database.db, requests, tz));
      const outcome = await retractRows(database.db, requests, tz);
      if (!outcome.ok) refuse(ctx.stderr, flags.file, [], outcome.refused);
      ctx.logger.info({ retracted: outcome.retracted, resolvedFindings: outcome.resolvedFindings, by }, 'ledger rows retracted');
      ctx.stdout.write(`retracted ${plural(outcome.retracted, 'ledger row')}; ${plural(outcome.resolvedFindings, 'finding')} resolved as retracted\n`);
      return EXIT.ok;
    });
  },
};

/**
 * A retraction changes findings and charge states, which a run's final transaction writes too: it
 * is made holding the merchant's run lock, and refused (exit 3, naming the run) while a run holds it.
 */
async function withRunLock<T>(ctx: Parameters<Command['run']>[1], work: (database: DatabaseHandle) => Promise<T>): Promise<T> {
  const database = await openDatabase(ctx.config, ctx.logger);
  try {
    const lock = await acquireRunLock(database.url, database.db).catch((error: unknown) => {
      throw isReconError(error) && error.code === 'RUN_IN_PROGRESS' ? new ReconError(error.code, `retract: ${error.message}`, { cause: error }) : error;
    });
    try {
      return await work(database);
    } finally {
      await lock.release();
    }
  } finally {
    await database.close();
  }
}

/** Nothing applied: the one refusal of a single row, or every bad line of a file. */
function refuse(stderr: Writable, file: string | undefined, problems: LineProblem[], refused: { request: RetractionRequest; problem: string }[]): never {
  if (file === undefined) throw new ReconError('USAGE', `retract: ${refused[0]!.problem}`);
  refuseLines(stderr, 'retract', file, [...problems, ...refused.map(({ request, problem }) => ({ line: request.line ?? 0, problem }))]);
}
