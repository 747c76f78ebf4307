import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Config } from '../config.ts';
import { asDatabaseLost, type DatabaseHandle } from '../db/connection.ts';
import { EXIT, exitCodeOf, isReconError, type ExitCode } from '../errors.ts';
import { createInquiryClient, type InquiryClientOptions } from '../gateway/inquiry-client.ts';
import type { RejectedRow } from '../ingest/rejected.ts';
import type { Logger } from '../log.ts';
import type { Money } from '../money.ts';
import { attachByGatewayIds, buildCases, type ChargeCase } from '../reconcile/charge-case.ts';
import { isError } from '../reconcile/mismatch.ts';
import { keyModeOf } from '../reconcile/livemode-check.ts';
import { reconcileCharge, type ChargeResult, type GatewayAnswer, type ReconcileContext } from '../reconcile/reconcile-charge.ts';
import { humanSummary } from '../report/human-summary.ts';
import { writeHtmlReport } from '../report/html-report.ts';
import { stageReport, writeCsvReports, writeRunJson, type RunJson } from '../report/report-files.ts';
import { abortRun, acquireRunLock, findResumableRun, startRun } from '../report/run-store.ts';
import type { RunKind, StageTimings } from '../report/run.table.ts';
import { storeResults } from '../report/store-results.ts';
import { chargeRow, mismatchRows, summarise } from '../report/summary.ts';
import { ingestInputs, type FeeSource } from './ingest-stage.ts';
import { inquireCases, type InquireOptions } from './inquire-stage.ts';
import { casesForUnlinked, loadFees, loadPlans, selectLedger } from './load-stage.ts';

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
      const { cases, unlinked, plans } = await timed('ingest', async () => {
        const { charges, followUps } = await selectLedger(db, request.from, request.to);
        return { ...buildCases(charges, followUps), plans: await loadPlans(db, config.tz) };
      });
      log.info({ charges: cases.length }, 'charges selected');

      const client = createInquiryClient(config.kpgw, logger, env.gatewayOptions);
      const inquiry: InquireOptions = {
        db,
        runId: request.runId,
        resumeFrom,
        client,
        asOf: request.asOf,
        signal,
        logger,
        onProgress: (done, total) => env.onProgress?.('inquiry', done, total),
      };
      const { answers } = await timed('inquiry', async () => inquireCases(cases, inquiry));
      checkpoint();

      // Refund and void rows that name no charge of the run even by the gateway's ids: their
      // charge is looked for anywhere in the ledger, else they are orphans, asked about by the
      // ids they carry (contract §4 v2). Either way they get a case, so no row is left out.
      const stillUnlinked = linkByGatewayIds(cases, answers, unlinked);
      const lateCases = await timed('ingest', () => casesForUnlinked(db, stillUnlinked, entryIdsOf(cases)));
      if (lateCases.length) {
        log.info({ charges: lateCases.filter((c) => !c.orphan).length, orphans: lateCases.filter((c) => c.orphan).length }, 'refund and void rows of charges outside the run selected');
        const asked = cases.length;
        const late = await timed('inquiry', async () =>
          inquireCases(lateCases, { ...inquiry, onProgress: (done, total) => env.onProgress?.('inquiry', asked + done, asked + total) }),
        );
        for (const [c, answer] of late.answers) answers.set(c, answer);
        cases.push(...lateCases);
        checkpoint();
      }

      const results = await timed('reconcile', async () => {
        const context: ReconcileContext = {
          fees,
          plans,
          tolerance: request.tolerance,
          keyMode: keyModeOf(config.kpgw.secretKey),
          asOf: request.asOf,
          refundGraceDays: config.recon.refundGraceDays,
        };
        return cases.map((c) => reconcileCharge(c, answers.get(c)!, context));
      });
      checkpoint();

      return await report(request, { ...env, signal }, { results, rejected: ingested.rejected, ledgerRows: ingested.rows, client: client.stats(), timings, started });
    } catch (error) {
      // Once stopped, whatever failed on the way out is a consequence; the signal says why.
      const failure = signal.aborted ? signal.reason : asDatabaseLost(error, database.url);
      const reason = failure instanceof Error ? failure.message : String(failure);
      await abortRun(db, request.runId, reason, isReconError(failure) ? exitCodeOf(failure) : EXIT.aborted).catch((e) => log.error({ err: e }, 'could not record the run as aborted'));
      log.warn({ reason }, 'run aborted');
      throw failure;
    }
  } finally {
    await lock.release().catch(() => undefined);
  }
}

/** Refund and void rows that name their charge only by an id the gateway told us; returns the others. */
function linkByGatewayIds(cases: ChargeCase[], answers: Map<ChargeCase, GatewayAnswer>, unlinked: ChargeCase['refunds']): ChargeCase['refunds'] {
  if (!unlinked.length) return [];
  const byGatewayId = new Map<string, ChargeCase>();
  for (const c of cases) {
    const answer = answers.get(c);
    if (answer?.kind !== 'found') continue;
    for (const id of [answer.charge.id, answer.charge.referenceOrder, answer.charge.orderId]) if (id) byGatewayId.set(id, c);
  }
  return attachByGatewayIds(unlinked, byGatewayId);
}

function entryIdsOf(cases: readonly ChargeCase[]): Set<string> {
  return new Set(cases.flatMap((c) => [c.charge, ...c.duplicates, ...c.refunds, ...c.voids].map((r) => r.entry_id)));
}

async function report(
  request: RunRequest,
  env: RunEnvironment,
  input: {
    results: ChargeResult[];
    rejected: RejectedRow[];
    ledgerRows: number;
    client: { requests: number; retries: number; errors: number };
    timings: StageTimings;
    started: number;
  },
): Promise<RunOutcome> {
  const { results, rejected } = input;
  const reportDir = resolve(request.outDir ?? join(env.config.reportsDir, `${request.from}_${request.to}_${request.runId.slice(0, 8)}`));
  const mismatches = results.flatMap((r) => mismatchRows(request.runId, r));
  const summary = summarise(results);
  const count = (status: ChargeResult['status']) => results.filter((r) => r.status === status).length;
  const hasErrors = results.some((r) => r.mismatches.some(isError));
  const exitCode = hasErrors || rejected.length > 0 ? EXIT.findings : EXIT.ok;
  const run: RunJson = {
    run_id: request.runId,
    from: request.from,
    to: request.to,
    as_of: request.asOf,
    status: 'finished',
    counts: {
      ledger_rows: input.ledgerRows,
      rejected: rejected.length,
      charges: results.length,
      inquired: results.length,
      matched: count('matched'),
      mismatched: count('mismatched'),
      unverified: count('unverified'),
    },
    gateway: input.client,
    timings_ms: input.timings,
    duration_ms: 0,
  };
  const t0 = performance.now();
  const staged = await stageReport(reportDir);
  try {
    await writeCsvReports(staged.dir, { mismatches, summary, rejected });
    if (env.signal.aborted) throw env.signal.reason;
    run.timings_ms.report += Math.round(performance.now() - t0);
    run.duration_ms = Math.round(performance.now() - input.started);
    await storeResults(env.database.db, { run, exitCode, reportDir, mismatches, summary, charges: results.map(chargeRow) });
    await writeHtmlReport(env.database.db, run.run_id, join(staged.dir, 'report.html'), { openItems: { byBucket: { '0-1': 0, '2-7': 0, '8-30': 0, '31+': 0 }, stale: 0 } });
    // run.json last, once the database agrees the run is finished; then all files appear at once.
    await writeRunJson(staged.dir, run);
    await staged.publish();
  } catch (error) {
    await staged.discard();
    throw error;
  }
  env.logger.info({ counts: run.counts, gateway: run.gateway, reportDir, exitCode }, 'run finished');
  return { exitCode, run, reportDir, text: humanSummary({ run, summary, mismatches, reportDir }) };
}
