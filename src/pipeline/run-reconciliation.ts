import { join, resolve } from 'node:path';
import type { Kysely } from 'kysely';
import { performance } from 'node:perf_hooks';
import type { Config } from '../config.ts';
import { asDatabaseLost, type DatabaseHandle } from '../db/connection.ts';
import type { Database } from '../db/database.ts';
import { shiftDate } from '../dates.ts';
import { carryOver } from '../followup/carry-over.ts';
import { dueCases } from '../followup/due-charges.ts';
import { writeOpenItemsCsv, type OpenItemTotals } from '../followup/open-items.ts';
import { EXIT, exitCodeOf, isReconError, type ExitCode } from '../errors.ts';
import { createInquiryClient, type InquiryClientOptions } from '../gateway/inquiry-client.ts';
import type { RejectedRow } from '../ingest/rejected.ts';
import type { Logger } from '../log.ts';
import type { Money } from '../money.ts';
import { attachByGatewayIds, buildCases, chargeKey, type ChargeCase } from '../reconcile/charge-case.ts';
import { keyModeOf } from '../reconcile/livemode-check.ts';
import type { GatewayAnswer } from '../gateway/gateway-answer.ts';
import { reconcileCharge, type ChargeResult, type ReconcileContext } from '../reconcile/reconcile-charge.ts';
import { humanSummary } from '../report/human-summary.ts';
import { writeHtmlReport } from '../report/html-report.ts';
import { stageReport, writeCsvReports, writeFindingCsvs, writeRunJson, type RunJson } from '../report/report-files.ts';
import { abortRun, acquireRunLock, findResumableRun, startRun } from './run-lifecycle.ts';
import type { RunKind, StageTimings } from '../report/run.table.ts';
import { finishRun, insertRunRows } from '../report/store-results.ts';
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
  /**
   * `nightly` (contract §8): besides the charges the dates cover, the open charges and the
   * re-checks that are due, and at most `maxRequests` charges asked (the rest deferred).
   */
  readonly followUp?: { readonly maxRequests: number | undefined };
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
      const selected = await timed('ingest', async () => selectCases(db, request, config));
      const { cases, due } = selected;
      const plans = await timed('ingest', () => loadPlans(db, config.tz));
      log.info({ charges: cases.length, revisited: due.revisit, rechecked: due.recheck, deferred: selected.deferred.length }, 'charges selected');

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
      // ids they carry (contract §4 v2). Either way they get a case, so no row is left out,
      // unless the night's request budget defers it.
      const stillUnlinked = linkByGatewayIds(cases, answers, selected.unlinked);
      const found = await timed('ingest', () => casesForUnlinked(db, stillUnlinked, entryIdsOf([...cases, ...selected.deferred])));
      const lateCases = found.slice(0, selected.budgetLeft);
      selected.deferred.push(...found.slice(selected.budgetLeft));
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

      return await report(request, { ...env, signal }, {
        results,
        rejected: ingested.rejected,
        ledgerRows: ingested.rows,
        client: client.stats(),
        timings,
        started,
        due: { ...selected.due, deferred: selected.deferred },
      });
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

interface Selection {
  /** The charges to ask about, in order: the dates' own, then the due ones. */
  readonly cases: ChargeCase[];
  /** Refund and void rows of the dates whose charge is not among `cases` (yet). */
  readonly unlinked: ChargeCase['refunds'];
  /** Due charges past the request budget; grows if the late round is cut short too. */
  readonly deferred: ChargeCase[];
  /** How many more charges the budget allows after `cases`. */
  readonly budgetLeft: number;
  readonly due: { readonly revisit: number; readonly recheck: number };
}

/**
 * Contract §4 and §8: the charges the dates cover, then (for `nightly`) the open charges and
 * re-checks that are due, cut at the night's request budget. Every due charge not asked is
 * deferred: recorded so that the next night asks it.
 */
async function selectCases(db: Kysely<Database>, request: RunRequest, config: Config): Promise<Selection> {
  const { charges, followUps } = await selectLedger(db, request.from, request.to);
  const own = buildCases(charges, followUps);
  const due = request.followUp
    ? await dueCases(db, {
        night: nightOf(request.asOf),
        openMaxDays: config.recon.openMaxDays,
        linked: entryIdsOf(own.cases),
        runKeys: new Set(own.cases.map((c) => chargeKey(c.charge))),
      })
    : [];
  const planned = [...own.cases, ...due.map((d) => d.chargeCase)];
  const budget = request.followUp?.maxRequests ?? Number.POSITIVE_INFINITY;
  const cases = planned.slice(0, budget);
  const askedDue = due.slice(0, Math.max(0, cases.length - own.cases.length));
  // A refund row of the dates may belong to a due charge, which has it in its case already.
  const inCases = entryIdsOf(planned);
  return {
    cases,
    unlinked: own.unlinked.filter((r) => !inCases.has(r.entry_id)),
    deferred: planned.slice(budget),
    budgetLeft: budget - cases.length,
    due: { revisit: askedDue.filter((d) => d.reason === 'revisit').length, recheck: askedDue.filter((d) => d.reason === 'recheck').length },
  };
}

/** The day a run looks back on: the day before its as-of day (`nightly --date D` runs as of D + 1). */
export function nightOf(asOf: string): string {
  return shiftDate(asOf, -1);
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
    due: { revisit: number; recheck: number; deferred: ChargeCase[] };
  },
): Promise<RunOutcome> {
  const { results, rejected, due } = input;
  const { db } = env.database;
  const reportDir = resolve(request.outDir ?? join(env.config.reportsDir, `${request.from}_${request.to}_${request.runId.slice(0, 8)}`));
  const mismatches = results.flatMap((r) => mismatchRows(request.runId, r));
  const summary = summarise(results);
  const count = (status: ChargeResult['status']) => results.filter((r) => r.status === status).length;
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
      open: 0,
      revisited: due.revisit,
      rechecked: due.recheck,
      deferred: due.deferred.length,
      new_findings: 0,
      resolved_findings: 0,
      acknowledged: 0,
    },
    gateway: input.client,
    timings_ms: input.timings,
    duration_ms: 0,
  };
  const t0 = performance.now();
  const staged = await stageReport(reportDir);
  let exitCode: ExitCode = EXIT.ok;
  let openItems: OpenItemTotals | undefined;
  try {
    await writeCsvReports(staged.dir, { summary, rejected });
    // One transaction: the run's rows, what it carries over to the next runs, and its status.
    // The finding CSVs are read from the rows it wrote, so they show each finding's state.
    await db.transaction().execute(async (trx) => {
      await insertRunRows(trx, { runId: request.runId, mismatches, summary, charges: results.map(chargeRow) });
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
      });
    });
    // run.json last, once the database agrees the run is finished; then all files appear at once.
    await writeRunJson(staged.dir, run);
    await staged.publish();
  } catch (error) {
    await staged.discard();
    throw error;
  }
  env.logger.info({ counts: run.counts, gateway: run.gateway, reportDir, exitCode }, 'run finished');
  return { exitCode, run, reportDir, text: humanSummary({ run, summary, mismatches, reportDir, openItems }) };
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
