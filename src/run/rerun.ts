import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import { dateRanges, datesBetween } from '../dates.ts';
import type { Database } from '../db/database.ts';
import { ReconError, type ExitCode } from '../errors.ts';
import { isLive } from '../ingest/retracted.ts';
import type { Money } from '../money.ts';
import { checkReportDir } from '../report/output-dir.ts';
import { executeRuns } from './execute-runs.ts';
import type { RunContext } from './run-request.ts';

export interface RerunOptions {
  readonly from: string;
  readonly to: string;
  readonly asOf: string;
  /** With several days, each day's reports go to `out/YYYY-MM-DD`. */
  readonly out: string | undefined;
  readonly tolerance: Money;
}

/**
 * `rerun`: every day of [from, to] that has ledger rows reconciled again from what is stored, one
 * run per day, each newer than the runs that day had.
 */
export async function runRerun(ctx: RunContext, options: RerunOptions): Promise<ExitCode> {
  const { from, to, asOf, out, tolerance } = options;
  await checkReportDir(out, ctx.config.reportsDir);
  const several = from !== to;
  return executeRuns(ctx, async ({ db }) => {
    const days = await daysWithLedgerRows(db, from, to);
    if (!days.length) throw new ReconError('INPUT', `rerun: no ledger rows are stored for ${from === to ? from : `${from}..${to}`}; nothing to reconcile again (ingest the ledger with 'run' first)`);
    const skipped = datesBetween(from, to).filter((day) => !days.includes(day));
    if (skipped.length) ctx.stdout?.write(`rerun: ${skipped.length} day${skipped.length === 1 ? '' : 's'} without ledger rows skipped: ${dateRanges(skipped, SHOWN_RANGES)}\n`);
    return days.map((day) => ({
      kind: 'rerun' as const,
      from: day,
      to: day,
      asOf,
      ledgers: [],
      plans: [],
      fees: { kind: 'latest' as const },
      outDir: out && several ? join(out, day) : out,
      tolerance,
    }));
  });
}

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
