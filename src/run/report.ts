import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { nightOf } from '../dates.ts';
import { EXIT, ReconError, type ExitCode } from '../errors.ts';
import { carryOver, deferredCount, type Deferred } from '../followup/carry-over.ts';
import { writeOpenItemsCsv, type OpenItemTotals } from '../followup/open-items.ts';
import type { RejectedRow } from '../ingest/rejected.ts';
import { humanSummary } from '../report/human-summary.ts';
import { writeHtmlReport } from '../report/html-report.ts';
import { draftReport, writeCsvReports, writeFindingCsvs, writeRunJson } from '../report/report-files.ts';
import type { RunJson, StageTimings } from '../report/run-json.ts';
import type { SummaryRow } from '../report/summary.ts';
import { clearRunWork } from './ingest-cases.ts';
import { moveDraftResults, type RunTally } from './reconcile.ts';
import { finishRun } from './run-record.ts';
import type { RunEnvironment, RunOutcome, RunRequest } from './run-request.ts';

const BATCH = 1000;

/** The run's summary rows (docs/reference.md §5.1), in the run's one final transaction. */
async function insertSummary(trx: Kysely<Database>, runId: string, summary: readonly SummaryRow[]): Promise<void> {
  for (let i = 0; i < summary.length; i += BATCH) {
    await trx.insertInto('recon_daily_summary').values(summary.slice(i, i + BATCH).map((s) => ({ ...s, run_id: runId }))).execute();
  }
}

/**
 * The report stage: the run's files written to a folder beside the final one while its results,
 * what it carries over and its status are stored in one transaction; then the folder appears.
 */
export async function report(
  request: RunRequest,
  env: RunEnvironment,
  input: {
    tally: RunTally;
    rejected: RejectedRow[];
    ledgerRows: number;
    client: { requests: number; retries: number; errors: number };
    timings: StageTimings;
    started: number;
    due: { revisit: number; recheck: number; deferred: Deferred };
    notified: { asked: number; waiting: number };
  },
): Promise<RunOutcome> {
  const { tally, rejected, due } = input;
  const { db } = env.database;
  const reportDir = resolve(request.outDir ?? join(env.config.reportsDir, `${request.from}_${request.to}_${request.runId.slice(0, 8)}`));
  const summary = tally.summary();
  const run: RunJson = {
    run_id: request.runId,
    from: request.from,
    to: request.to,
    as_of: request.asOf,
    status: 'finished',
    counts: {
      ledger_rows: input.ledgerRows,
      rejected: rejected.length,
      charges: tally.charges,
      inquired: tally.charges,
      matched: tally.matched,
      mismatched: tally.mismatched,
      unverified: tally.unverified,
      open: 0,
      revisited: due.revisit,
      rechecked: due.recheck,
      deferred: deferredCount(due.deferred),
      new_findings: 0,
      resolved_findings: 0,
      acknowledged: 0,
    },
    gateway: input.client,
    timings_ms: input.timings,
    duration_ms: 0,
  };
  const t0 = performance.now();
  const draft = await draftReport(reportDir).catch((error: unknown) => {
    throw reportFilesFailed(error, reportDir);
  });
  let exitCode: ExitCode = EXIT.ok;
  let openItems: OpenItemTotals | undefined;
  try {
    await writeCsvReports(draft.dir, { summary, rejected });
    // One transaction: the run's rows, what it carries over to the next runs, and its status.
    // The finding CSVs are read from the rows it wrote, so they show each finding's state.
    await db.transaction().execute(async (trx) => {
      await moveDraftResults(trx);
      await insertSummary(trx, request.runId, summary);
      const carried = await carryOver(trx, {
        runId: request.runId,
        night: nightOf(request.asOf),
        recheckAges: env.config.recon.recheckAges,
        deferred: due.deferred,
      });
      Object.assign(run.counts, carried);
      await writeFindingCsvs(trx, draft.dir, request.runId);
      openItems = await writeOpenItemsCsv(trx, join(draft.dir, 'open-items.csv'), { asOf: request.asOf, openMaxDays: env.config.recon.openMaxDays });
      exitCode = rejected.length > 0 || (await hasOpenErrors(trx, request.runId)) ? EXIT.findings : EXIT.ok;
      if (env.signal.aborted) throw env.signal.reason;
      run.timings_ms.report += Math.round(performance.now() - t0);
      run.duration_ms = Math.round(performance.now() - input.started);
      await finishRun(trx, { run, exitCode, reportDir });
      // Last, as the run's own transaction sees it: finished, with everything it carries over.
      await writeHtmlReport(trx, run.run_id, join(draft.dir, 'report.html'), {
        openItems: { byBucket: openItems.byBucket, stale: openItems.byKind.stale },
        tz: env.config.tz,
      });
      await clearRunWork(trx);
      // run.json too before the commit: a run is recorded finished only once every file of it is
      // written (a full disk leaves it aborted, not finished with no reports).
      await writeRunJson(draft.dir, run);
    });
    // Then all files appear at once (a rename, which takes no new space).
    await draft.publish();
  } catch (error) {
    await draft.discard();
    throw reportFilesFailed(error, reportDir);
  }
  env.logger.info({ counts: run.counts, gateway: run.gateway, reportDir, exitCode }, 'run finished');
  return { exitCode, run, reportDir, text: humanSummary({ run, summary, findingsByCode: tally.findingsByCode, reportDir, openItems, notified: input.notified }) };
}

/** Exit 1 (docs/reference.md §1.1): an error-severity finding of this run that nobody has acknowledged. */
async function hasOpenErrors(trx: Kysely<Database>, runId: string): Promise<boolean> {
  const row = await trx
    .selectFrom('recon_mismatches')
    .select('seq')
    .where('run_id', '=', runId)
    .where('severity', '=', 'error')
    .where('finding_state', '<>', 'acknowledged')
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** What a full or failing disk says while report files are written. */
const FILE_WRITE_FAILURES = new Set(['ENOSPC', 'EDQUOT', 'EFBIG', 'EIO', 'EROFS', 'EACCES', 'EPERM', 'ENOENT', 'ENOTDIR', 'EISDIR', 'EMFILE', 'ENFILE']);

/** A report file that cannot be written, as one line naming the folder and the cause; anything else unchanged. */
function reportFilesFailed(error: unknown, reportDir: string): unknown {
  const { code, syscall } = (error ?? {}) as { code?: unknown; syscall?: unknown };
  if (typeof code !== 'string' || typeof syscall !== 'string' || !FILE_WRITE_FAILURES.has(code)) return error;
  return new ReconError('OUTPUT_FAILED', `the reports cannot be written to ${reportDir} (${code}: ${(error as Error).message.replace(/^[A-Z]+: /, '').split(',')[0]}); the run is not recorded as finished`, { cause: error });
}
