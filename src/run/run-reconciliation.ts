import { join, resolve } from 'node:path';
import type { Kysely } from 'kysely';
import { performance } from 'node:perf_hooks';
import type { Config } from '../config.ts';
import { asDatabaseLost, databaseGone, isDatabaseGone, type DatabaseHandle } from '../db/connection.ts';
import type { Database } from '../db/database.ts';
import { carryOver, deferredCount, type Deferred } from '../followup/carry-over.ts';
import { writeOpenItemsCsv, type OpenItemTotals } from '../followup/open-items.ts';
import { EXIT, ReconError, exitCodeOf, isReconError, type ExitCode } from '../errors.ts';
import { createInquiryClient, type InquiryClientOptions } from '../gateway/inquiry-client.ts';
import type { RejectedRow } from '../ingest/rejected.ts';
import type { Logger } from '../log.ts';
import type { Money } from '../money.ts';
import { keyModeOf } from '../reconcile/livemode-check.ts';
import type { ReconcileContext } from '../reconcile/reconcile-charge.ts';
import { humanSummary } from '../report/human-summary.ts';
import { writeHtmlReport } from '../report/html-report.ts';
import { stageReport, writeCsvReports, writeFindingCsvs, writeRunJson, type RunJson } from '../report/report-files.ts';
import { abortRun, acquireRunLock, findResumableRun, startRun } from './run-record.ts';
import type { RunKind, StageTimings } from '../report/run.table.ts';
import { finishRun, insertSummary } from './report.ts';
import { ingestInputs, type FeeSource } from './ingest-inputs.ts';
import { copyDefiniteAnswers, inquireCases, type InquireOptions } from './inquiry.ts';
import { casesForUnlinked, loadFees, loadPlans } from './ingest-load.ts';
import { moveStagedResults, resultStage, type RunTally } from './reconcile.ts';
import { attachNotifications, notificationScope, takeForgedNotifications } from './ingest-notified.ts';
import { clearRunWork, type NumberedCase } from './ingest-cases.ts';
import { gatewayIdLinks, nightOf, onePage, selectCases } from './ingest.ts';

export interface RunRequest {
  readonly kind: RunKind;
  readonly runId: string;
  readonly from: string;
  readonly to: string;
  readonly asOf: string;
  /** Ledger files or folders to ingest first; none for `rerun`, which uses what is stored. */
  readonly ledgers: readonly string[];
  readonly plans: readonly string[];
  readonly ledgerMap?: string;
  readonly fees: FeeSource;
  readonly outDir?: string;
  readonly tolerance: Money;
  /**
   * `nightly` (contract §8): besides the charges the dates cover, the open charges and the
   * re-checks that are due, and at most `maxRequests` charges asked (the rest deferred).
   */
  readonly followUp?: { readonly maxRequests: number | undefined };
  /**
   * `nightly` and the demo: KBank's notifications join the charges asked, and forged ones are
   * reported (docs/reference.md, Notifications in the night). Every run checks the charges it
   * asks against their notifications received before the start of its as-of day; the demo, whose
   * notifications arrive as it runs, gives its own moment and grace hours.
   */
  readonly notifications?: { readonly receivedBefore?: Date; readonly graceHours?: number };
}

export interface RunEnvironment {
  readonly database: DatabaseHandle;
  readonly config: Config;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  readonly gatewayOptions?: InquiryClientOptions;
  /** Progress of the long stages, for a bar on a terminal. */
  readonly onProgress?: (stage: 'ingest' | 'inquiry', done: number, total?: number) => void;
}

export interface RunOutcome {
  readonly exitCode: ExitCode;
  readonly run: RunJson;
  readonly reportDir: string;
  /** The human summary (for stdout). */
  readonly text: string;
}

/**
 * One reconciliation run, end to end: ingest → inquire → reconcile → report. The run is
 * recorded as `running` at the start and `finished`, with all its results, in one transaction
 * at the end; anything that stops it on the way records it as `aborted` and rethrows.
 */
export async function runReconciliation(request: RunRequest, env: RunEnvironment): Promise<RunOutcome> {
  const { database, config, logger } = env;
  const { db } = database;
  const started = performance.now();
  const timings: StageTimings = { ingest: 0, inquiry: 0, reconcile: 0, report: 0 };
  const timed = async <T>(stage: keyof StageTimings, work: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await work();
    } finally {
      timings[stage] += Math.round(performance.now() - t0);
    }
  };
  const checkpoint = () => {
    if (signal.aborted) throw signal.reason;
  };

  const lock = await acquireRunLock(database.url, db);
  // Stop when asked to, and when the lock is lost: another run could start meanwhile.
  const signal = AbortSignal.any([env.signal, lock.lost]);
  try {
    await startRun(db, request);
    const log = logger.child({ stage: 'run' });
    log.info({ kind: request.kind, from: request.from, to: request.to, asOf: request.asOf }, 'run started');
    try {
      const resumeFrom = await findResumableRun(db, request);
      // A bad fee schedule is found before anything is ingested.
      const fees = await loadFees(db, request.fees, log);
      const ingested = await timed('ingest', () =>
        ingestInputs(database, request, { logger, signal, onProgress: (n) => env.onProgress?.('ingest', n) }),
      );
      checkpoint();
      await clearRunWork(db);
      const notify = notificationScope(request, config);
      const selected = await timed('ingest', () => selectCases(db, request, config, notify));
      const plans = await timed('ingest', () => loadPlans(db, config.tz));
      log.info({ charges: selected.asked, revisited: selected.due.revisit, rechecked: selected.due.recheck, notified: selected.notified.asked, deferred: deferredCount(selected.deferred) }, 'charges selected');

      const context: ReconcileContext = {
        fees,
        plans,
        tolerance: request.tolerance,
        keyMode: keyModeOf(config.kpgw.secretKey),
        asOf: request.asOf,
        refundGraceDays: config.recon.refundGraceDays,
      };
      const results = resultStage(db, request.runId, context);
      const linking = gatewayIdLinks(selected.unlinked);
      const client = createInquiryClient(config.kpgw, logger, env.gatewayOptions);
      let answered = 0;
      let total = selected.asked;
      const inquiry: InquireOptions = {
        db,
        runId: request.runId,
        resumeFrom,
        client,
        asOf: request.asOf,
        signal,
        logger,
        inFlight: 4 * config.kpgw.concurrency,
        onProgress: () => env.onProgress?.('inquiry', ++answered, total),
      };
      const pass = async (pages: AsyncIterable<readonly NumberedCase[]>) => {
        const t0 = performance.now();
        const r0 = results.reconcileMs();
        await inquireCases(pages, inquiry, (numbered, answer) => (linking.holds(numbered, answer) ? undefined : results.add(numbered, answer)));
        await results.flush();
        // The rules' time is the reconcile stage's, the rest of the pass the inquiry's.
        timings.inquiry += Math.round(performance.now() - t0 - (results.reconcileMs() - r0));
        checkpoint();
      };
      if (resumeFrom) await copyDefiniteAnswers(db, resumeFrom, request.runId);
      env.onProgress?.('inquiry', 0, total);
      await pass(selected.pages());

      // Refund and void rows that name no charge of the run by the ledger's ids: the last case
      // whose answer carries one of their ids takes them. The rest name a charge outside the
      // run, looked for anywhere in the ledger, else they are orphans, asked about by the ids
      // they carry (contract §4 v2). Either way they get a case, so no row is left out, unless
      // the night's request budget defers it.
      const linked = linking.link();
      for (const { numbered, answer } of linked.held) await results.add(numbered, answer);
      await results.flush();
      const found = await timed('ingest', () => casesForUnlinked(db, linked.stillUnlinked, new Set(linked.attached)));
      const lateCases = found.slice(0, selected.budgetLeft);
      selected.deferred.held.push(...found.slice(selected.budgetLeft));
      if (lateCases.length) {
        log.info({ charges: lateCases.filter((c) => !c.orphan).length, orphans: lateCases.filter((c) => c.orphan).length }, 'refund and void rows of charges outside the run selected');
        total += lateCases.length;
        await attachNotifications(db, lateCases, notify.receivedBefore);
        await pass(onePage(lateCases.map((chargeCase, i) => ({ no: selected.nextNo + i, chargeCase }))));
      }
      // Forged notifications are findings about no charge of the run: nothing in them is asked.
      const forged = notify.join ? await takeForgedNotifications(db, notify) : [];
      await results.addForged(forged);
      await results.close();
      timings.reconcile = Math.round(results.reconcileMs());

      return await report(request, { ...env, signal }, {
        tally: results.tally,
        rejected: ingested.rejected,
        ledgerRows: ingested.rows,
        client: client.stats(),
        timings,
        started,
        due: { ...selected.due, deferred: selected.deferred },
        notified: selected.notified,
      });
    } catch (error) {
      // Once stopped, whatever failed on the way out is a consequence; the signal says why.
      const failure = signal.aborted ? signal.reason : asDatabaseLost(error, database.url);
      const reason = failure instanceof Error ? failure.message : String(failure);
      const unrecorded = await abortRun(db, request.runId, reason, isReconError(failure) ? exitCodeOf(failure) : EXIT.aborted).then(
        () => undefined,
        (e: unknown) => (log.error({ err: e }, 'could not record the run as aborted'), e),
      );
      log.warn({ reason }, 'run aborted');
      // The run lost its database: that, not a symptom of it (a lost lock), is the cause to name.
      throw isDatabaseGone(unrecorded) ? databaseGone(database.url, failure) : failure;
    }
  } finally {
    await lock.release().catch(() => undefined);
  }
}

async function report(
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
  const staged = await stageReport(reportDir).catch((error: unknown) => {
    throw reportFilesFailed(error, reportDir);
  });
  let exitCode: ExitCode = EXIT.ok;
  let openItems: OpenItemTotals | undefined;
  try {
    await writeCsvReports(staged.dir, { summary, rejected });
    // One transaction: the run's rows, what it carries over to the next runs, and its status.
    // The finding CSVs are read from the rows it wrote, so they show each finding's state.
    await db.transaction().execute(async (trx) => {
      await moveStagedResults(trx);
      await insertSummary(trx, request.runId, summary);
      const carried = await carryOver(trx, {
        runId: request.runId,
        night: nightOf(request.asOf),
        recheckAges: env.config.recon.recheckAges,
        deferred: due.deferred,
      });
      Object.assign(run.counts, carried);
      await writeFindingCsvs(trx, staged.dir, request.runId);
      openItems = await writeOpenItemsCsv(trx, join(staged.dir, 'open-items.csv'), { asOf: request.asOf, openMaxDays: env.config.recon.openMaxDays });
      exitCode = rejected.length > 0 || (await hasOpenErrors(trx, request.runId)) ? EXIT.findings : EXIT.ok;
      if (env.signal.aborted) throw env.signal.reason;
      run.timings_ms.report += Math.round(performance.now() - t0);
      run.duration_ms = Math.round(performance.now() - input.started);
      await finishRun(trx, { run, exitCode, reportDir });
      // Last, as the run's own transaction sees it: finished, with everything it carries over.
      await writeHtmlReport(trx, run.run_id, join(staged.dir, 'report.html'), {
        openItems: { byBucket: openItems.byBucket, stale: openItems.byKind.stale },
        tz: env.config.tz,
      });
      await clearRunWork(trx);
      // run.json too before the commit: a run is recorded finished only once every file of it is
      // written (a full disk leaves it aborted, not finished with no reports).
      await writeRunJson(staged.dir, run);
    });
    // Then all files appear at once (a rename, which takes no new space).
    await staged.publish();
  } catch (error) {
    await staged.discard();
    throw reportFilesFailed(error, reportDir);
  }
  env.logger.info({ counts: run.counts, gateway: run.gateway, reportDir, exitCode }, 'run finished');
  return { exitCode, run, reportDir, text: humanSummary({ run, summary, findingsByCode: tally.findingsByCode, reportDir, openItems, notified: input.notified }) };
}

/** Exit 1 (contract §1): an error-severity finding of this run that nobody has acknowledged. */
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
