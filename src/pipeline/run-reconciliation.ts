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
import type { LedgerEntry } from '../ingest/ledger.table.ts';
import { attachByGatewayIds, identifiers, type ChargeCase } from '../reconcile/charge-case.ts';
import { keyModeOf } from '../reconcile/livemode-check.ts';
import type { GatewayAnswer } from '../gateway/gateway-answer.ts';
import { reconcileCharge, type ReconcileContext } from '../reconcile/reconcile-charge.ts';
import { humanSummary } from '../report/human-summary.ts';
import { writeHtmlReport } from '../report/html-report.ts';
import { stageReport, writeCsvReports, writeFindingCsvs, writeRunJson, type RunJson } from '../report/report-files.ts';
import { abortRun, acquireRunLock, findResumableRun, startRun } from './run-lifecycle.ts';
import type { RunKind, StageTimings } from '../report/run.table.ts';
import { finishRun, insertSummary } from '../report/store-results.ts';
import { ingestInputs, type FeeSource } from './ingest-stage.ts';
import { inquireCases, type InquireOptions } from './inquire-stage.ts';
import { casesForUnlinked, loadFees, loadPlans } from './load-stage.ts';
import { moveStagedResults, resultStage, type RunTally } from './result-stage.ts';
import { clearRunWork, readCases, selectOwnCases, type NumberedCase } from './run-cases.ts';

/** Answers reconciled together: enough to keep the rules hot, few enough to hold. */
const RECONCILE_BATCH = 256;

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
      await clearRunWork(db);
      const selected = await timed('ingest', () => selectCases(db, request, config));
      const plans = await timed('ingest', () => loadPlans(db, config.tz));
      log.info({ charges: selected.asked, revisited: selected.due.revisit, rechecked: selected.due.recheck, deferred: selected.deferred.length }, 'charges selected');

      const context: ReconcileContext = {
        fees,
        plans,
        tolerance: request.tolerance,
        keyMode: keyModeOf(config.kpgw.secretKey),
        asOf: request.asOf,
        refundGraceDays: config.recon.refundGraceDays,
      };
      const results = resultStage(db, request.runId);
      // Answers are reconciled as they arrive, a batch at a time (the rules' code and data stay
      // hot), and their rows staged, so the run holds only the charges in flight. The time
      // spent in the rules is the reconcile stage's; the rest of the pass is the inquiry's.
      let reconcileMs = 0;
      const ready: { numbered: NumberedCase; answer: GatewayAnswer }[] = [];
      const reconcileReady = async () => {
        const batch = ready.splice(0);
        const t0 = performance.now();
        const reconciled = batch.map(({ numbered, answer }) => reconcileCharge(numbered.chargeCase, answer, context));
        reconcileMs += performance.now() - t0;
        batch.forEach(({ numbered }, i) => results.add(numbered.no, reconciled[i]!));
        await results.room();
      };
      const reconcile = (numbered: NumberedCase, answer: GatewayAnswer) => {
        ready.push({ numbered, answer });
        return ready.length >= RECONCILE_BATCH ? reconcileReady() : undefined;
      };
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
        onProgress: () => env.onProgress?.('inquiry', ++answered, total),
      };
      const pass = async (pages: AsyncIterable<readonly NumberedCase[]>) => {
        const t0 = performance.now();
        const r0 = reconcileMs;
        await inquireCases(pages, inquiry, (numbered, answer) => (linking.holds(numbered, answer) ? undefined : reconcile(numbered, answer)));
        await reconcileReady();
        timings.inquiry += Math.round(performance.now() - t0 - (reconcileMs - r0));
        checkpoint();
      };
      env.onProgress?.('inquiry', 0, total);
      await pass(selected.pages());

      // Refund and void rows that name no charge of the run by the ledger's ids: the last case
      // whose answer carries one of their ids takes them. The rest name a charge outside the
      // run, looked for anywhere in the ledger, else they are orphans, asked about by the ids
      // they carry (contract §4 v2). Either way they get a case, so no row is left out, unless
      // the night's request budget defers it.
      const linked = linking.link();
      ready.push(...linked.held);
      await reconcileReady();
      const found = await timed('ingest', () => casesForUnlinked(db, linked.stillUnlinked, new Set([...selected.dueEntryIds, ...linked.attached])));
      const lateCases = found.slice(0, selected.budgetLeft);
      selected.deferred.push(...found.slice(selected.budgetLeft));
      if (lateCases.length) {
        log.info({ charges: lateCases.filter((c) => !c.orphan).length, orphans: lateCases.filter((c) => c.orphan).length }, 'refund and void rows of charges outside the run selected');
        total += lateCases.length;
        await pass(onePage(lateCases.map((chargeCase, i) => ({ no: selected.nextNo + i, chargeCase }))));
      }
      await results.close();
      timings.reconcile = Math.round(reconcileMs);

      return await report(request, { ...env, signal }, {
        tally: results.tally,
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
  /** The cases to ask about, a page at a time, in order: the dates' own, then the due ones. */
  pages(): AsyncIterable<NumberedCase[]>;
  /** How many cases `pages()` gives. */
  readonly asked: number;
  /** Refund and void rows of the dates whose charge is in none of the cases (yet). */
  readonly unlinked: readonly LedgerEntry[];
  /** Due charges past the request budget; grows if the late round is cut short too. */
  readonly deferred: ChargeCase[];
  /** The ledger rows of the due cases, asked or deferred: no other case may take them. */
  readonly dueEntryIds: ReadonlySet<string>;
  /** How many more charges the budget allows after `pages()`. */
  readonly budgetLeft: number;
  /** The number the next case (of the late round) takes. */
  readonly nextNo: number;
  readonly due: { readonly revisit: number; readonly recheck: number };
}

/**
 * Contract §4 and §8: the charges the dates cover, then (for `nightly`) the open charges and
 * re-checks that are due, cut at the night's request budget. Every due charge not asked is
 * deferred: recorded so that the next night asks it. The dates' own cases stay in the
 * database (`run_case_rows`) and are read a page at a time; the due ones, a night's worth of
 * follow-ups, are held.
 */
async function selectCases(db: Kysely<Database>, request: RunRequest, config: Config): Promise<Selection> {
  const own = await selectOwnCases(db, request.from, request.to);
  const due = request.followUp ? await dueCases(db, { night: nightOf(request.asOf), openMaxDays: config.recon.openMaxDays }) : [];
  const budget = request.followUp?.maxRequests ?? Number.POSITIVE_INFINITY;
  const ownAsked = Math.min(own.count, budget);
  const dueAsked = due.slice(0, budget - ownAsked);
  const deferred: ChargeCase[] = [];
  for await (const page of readCases(db, ownAsked + 1, own.count)) deferred.push(...page.map((c) => c.chargeCase));
  deferred.push(...due.slice(dueAsked.length).map((d) => d.chargeCase));
  const dueEntryIds = entryIdsOf(due.map((d) => d.chargeCase));
  return {
    async *pages() {
      yield* readCases(db, 1, ownAsked);
      if (dueAsked.length) yield dueAsked.map((d, i) => ({ no: own.count + 1 + i, chargeCase: d.chargeCase }));
    },
    asked: ownAsked + dueAsked.length,
    // A refund row of the dates may belong to a due charge, which has it in its case already.
    unlinked: own.unlinked.filter((r) => !dueEntryIds.has(r.entry_id)),
    deferred,
    dueEntryIds,
    budgetLeft: budget - ownAsked - dueAsked.length,
    nextNo: own.count + due.length + 1,
    due: { revisit: dueAsked.filter((d) => d.reason === 'revisit').length, recheck: dueAsked.filter((d) => d.reason === 'recheck').length },
  };
}

/** The day a run looks back on: the day before its as-of day (`nightly --date D` runs as of D + 1). */
export function nightOf(asOf: string): string {
  return shiftDate(asOf, -1);
}

/**
 * Refund and void rows that name their charge only by an id the gateway told us. A case whose
 * answer carries one of their ids is held back from reconciling until every answer is in; then
 * the last such case (in case order) takes the rows, as if all answers had been looked at
 * together, and the held cases are reconciled with them. Only those cases are held.
 */
function gatewayIdLinks(unlinked: readonly LedgerEntry[]) {
  const wanted = new Set(unlinked.flatMap(identifiers));
  const held: { numbered: NumberedCase; answer: GatewayAnswer }[] = [];
  const idsOf = (answer: GatewayAnswer) => (answer.kind === 'found' ? [answer.charge.id, answer.charge.referenceOrder, answer.charge.orderId] : []);
  return {
    holds(numbered: NumberedCase, answer: GatewayAnswer): boolean {
      if (!wanted.size || !idsOf(answer).some((id) => id && wanted.has(id))) return false;
      held.push({ numbered, answer });
      return true;
    },
    /** Links the rows; the cases of the late round are not held. */
    link() {
      wanted.clear();
      held.sort((a, b) => a.numbered.no - b.numbered.no);
      const byGatewayId = new Map<string, ChargeCase>();
      for (const { numbered, answer } of held) for (const id of idsOf(answer)) if (id) byGatewayId.set(id, numbered.chargeCase);
      const stillUnlinked = attachByGatewayIds([...unlinked], byGatewayId);
      const left = new Set(stillUnlinked);
      return { held, stillUnlinked, attached: unlinked.filter((r) => !left.has(r)).map((r) => r.entry_id) };
    },
  };
}

async function* onePage<T>(page: T[]): AsyncGenerator<T[]> {
  yield page;
}

function entryIdsOf(cases: readonly ChargeCase[]): Set<string> {
  return new Set(cases.flatMap((c) => [c.charge, ...c.duplicates, ...c.refunds, ...c.voids].map((r) => r.entry_id)));
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
    due: { revisit: number; recheck: number; deferred: ChargeCase[] };
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
      });
      await clearRunWork(trx);
    });
    // run.json last, once the database agrees the run is finished; then all files appear at once.
    await writeRunJson(staged.dir, run);
    await staged.publish();
  } catch (error) {
    await staged.discard();
    throw error;
  }
  env.logger.info({ counts: run.counts, gateway: run.gateway, reportDir, exitCode }, 'run finished');
  return { exitCode, run, reportDir, text: humanSummary({ run, summary, findingsByCode: tally.findingsByCode, reportDir, openItems }) };
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
