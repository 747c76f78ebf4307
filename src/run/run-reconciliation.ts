import { performance } from 'node:perf_hooks';
import { asDatabaseLost, databaseGone, isDatabaseGone } from '../db/connection.ts';
import { EXIT, exitCodeOf, isReconError } from '../errors.ts';
import { deferredCount } from '../followup/carry-over.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { createInquiryClient, type InquiryClient } from '../gateway/inquiry-client.ts';
import { keyModeOf } from '../reconcile/livemode-check.ts';
import type { NumberedCase } from '../reconcile/charge-case.ts';
import type { ReconcileContext } from '../reconcile/charge-result.ts';
import type { StageTimings } from '../report/run-json.ts';
import { clearRunWork } from './ingest-cases.ts';
import { attachNotifications, notificationScope, takeForgedNotifications } from './ingest-notified.ts';
import { casesForUnlinked, gatewayIdLinks, ingestInputs, loadFees, loadPlans, onePage, selectCases } from './ingest.ts';
import { copyDefiniteAnswers, inquireCases, type InquireOptions } from './inquiry.ts';
import { reconcileStage } from './reconcile.ts';
import { report } from './report.ts';
import { abortRun, acquireRunLock, findResumableRun, startRun } from './run-record.ts';
import type { RunEnvironment, RunOutcome, RunRequest } from './run-request.ts';

/**
 * One reconciliation run, end to end, through its stages: ingest (which selects the cases) →
 * inquiry → reconcile → report, each in the file of its name and timed under that name in
 * `run.json`. The run is recorded as `running` at the start and `finished`, with all its results,
 * in one transaction at the end; anything that stops it on the way records it as `aborted`
 * and rethrows.
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
  let client: InquiryClient | undefined;
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
      const results = reconcileStage(db, request.runId, context);
      const linking = gatewayIdLinks(selected.unlinked);
      client = createInquiryClient(config.kpgw, logger, env.gatewayOptions);
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
      // they carry (docs/reference.md §4.19). Either way they get a case, so no row is left out, unless
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
        ledgerRows: ingested.ledgerRows,
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
    const rest = env.restAfter && !env.signal.aborted ? (client?.quietInMs() ?? 0) : 0;
    if (rest > 0) await sleep(rest, undefined, { signal: env.signal }).catch(() => undefined);
    await lock.release().catch(() => undefined);
  }
}
