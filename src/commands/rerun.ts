import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { ReconError } from '../errors.ts';
import { isLive } from '../ingest/retracted.ts';
import type { Command } from './command.ts';
import { asOfFlag, dateRangeFlags, parseFlags } from './command.ts';
import { AS_OF_FLAG_HELP, OUTPUT_FLAGS_HELP, EXIT_CODES_HELP, GATEWAY_ENVIRONMENT, executeRuns, toleranceFlag } from '../run/execute-runs.ts';
import { dateRanges, datesBetween, todayIn } from '../dates.ts';
import { checkReportDir } from '../report/output-dir.ts';

export const rerunCommand: Command = {
  name: 'rerun',
  help: `Usage: kpgw-recon rerun --from D --to D [--out DIR] [--tolerance AMOUNT]

Reconciles every charge already ingested with transaction_date in [from, to] again: the
stored ledger rows and plan reports, the last fee schedule given, and a fresh inquiry of
every charge. Each day of the range that has ledger rows gets a run of its own, newer than the
ones it had, which 'export' and other readers then take; days with no ledger rows are skipped
(and listed), and a range with none at all is refused. Nothing is ingested. With --out and
several days, each day's reports go to DIR/YYYY-MM-DD.

Flags:
  --from D            first transaction date, YYYY-MM-DD (required)
  --to D              last transaction date, YYYY-MM-DD (required)
${AS_OF_FLAG_HELP}
${OUTPUT_FLAGS_HELP}

Environment:
${GATEWAY_ENVIRONMENT}

${EXIT_CODES_HELP}`,
  async run(args, ctx) {
    const flags = parseFlags('rerun', args, {
      from: { type: 'string' },
      to: { type: 'string' },
      'as-of': { type: 'string' },
      out: { type: 'string' },
      tolerance: { type: 'string' },
    });
    const { from, to } = dateRangeFlags('rerun', flags);
    const asOf = asOfFlag('rerun', flags['as-of'], from, todayIn(ctx.config.tz));
    const tolerance = toleranceFlag('rerun', flags.tolerance);
    await checkReportDir(flags.out, ctx.config.reportsDir);
    // One run per day that has ledger rows: each gets a run of its own, newer than what it had.
    const several = from !== to;
    return executeRuns(ctx, async ({ db }) => {
      const days = await daysWithLedgerRows(db, from, to);
      if (!days.length) throw new ReconError('INPUT', `rerun: no ledger rows are stored for ${from === to ? from : `${from}..${to}`}; nothing to reconcile again (ingest the ledger with 'run' first)`);
      const skipped = datesBetween(from, to).filter((day) => !days.includes(day));
      if (skipped.length) ctx.stdout.write(`rerun: ${skipped.length} day${skipped.length === 1 ? '' : 's'} without ledger rows skipped: ${dateRanges(skipped, SHOWN_RANGES)}\n`);
      return days.map((day) => ({
        kind: 'rerun' as const,
        from: day,
        to: day,
        asOf,
        ledgers: [],
        plans: [],
        fees: { kind: 'latest' as const },
        outDir: flags.out && several ? join(flags.out, day) : flags.out,
        tolerance,
      }));
    });
  },
};

/**
 * The days of [from, to] a rerun has something to reconcile on: a live charge row of that
 * transaction date, or a refund or void booked that day. A day without is no run: a range
 * nothing was ever ingested for would otherwise be hundreds of empty runs.
 */
async function daysWithLedgerRows(db: Kysely<Database>, from: string, to: string): Promise<string[]> {
  const { rows } = await sql<{ day: string }>`
    SELECT DISTINCT day::text FROM (
      SELECT l.transaction_date AS day FROM ledger_entries l WHERE l.transaction_date BETWEEN ${from}::date AND ${to}::date AND ${isLive('l')}
      UNION
      SELECT l.entry_date FROM ledger_entries l WHERE l.entry_type <> 'charge' AND l.entry_date BETWEEN ${from}::date AND ${to}::date AND ${isLive('l')}
    ) d ORDER BY 1`.execute(db);
  return rows.map((r) => r.day);
}

const SHOWN_RANGES = 5;
