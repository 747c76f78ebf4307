import { sql, type Kysely } from 'kysely';
import { batchedWriter } from '../db/batched-writer.ts';
import type { Database } from '../db/database.ts';
import { performance } from 'node:perf_hooks';
import type { GatewayAnswer } from '../gateway/gateway-answer.ts';
import type { ChargeCase, NumberedCase } from '../reconcile/charge-case.ts';
import { reconcileCharge } from '../reconcile/reconcile-charge.ts';
import type { ChargeResult, ReconcileContext } from '../reconcile/charge-result.ts';
import { SEVERITY } from '../reconcile/mismatch.ts';
import { chargeFees, chargeRow, mismatchRows, summaryTotals, type ChargeRow, type MismatchRow, type SummaryRow } from '../report/summary.ts';
import type { ForgedClaim } from './ingest-notified.ts';

/** What the run keeps of its results while they stream to the draft tables: totals only. */
export interface RunTally {
  readonly charges: number;
  readonly matched: number;
  readonly mismatched: number;
  readonly unverified: number;
  /** Findings by code. */
  readonly findingsByCode: ReadonlyMap<string, number>;
  summary(): SummaryRow[];
}

/** A charge's rows as they are drafted: its export row and its findings, numbered in case order. */
interface Draft {
  /**
   * Drafts only: `other_entry_ids`, the case's rows besides its charge row (see
   * sql/0017_corrections.sql); `notification_ids`, the notifications it was checked against.
   */
  readonly charge: ChargeRow & { run_id: string; other_entry_ids: string[] | null; notification_ids: string[] | null };
  readonly findings: readonly DraftFinding[];
}

type DraftFinding = { [K in keyof MismatchRow]: string | null } & { case_no: number; idx: number };

/** Charges whose rows go to the draft tables in one statement. */
const DRAFT_BATCH = 500;
/** Charges waiting to be drafted before reconciling waits for the database. */
const DRAFT_HIGH_WATER = 20_000;

/** Answers reconciled together: enough to keep the rules' code and data hot, few enough to hold. */
const RECONCILE_BATCH = 1024;

/**
 * The charges' answers as they arrive: reconciled a batch at a time, each result turned at once
 * into the rows the run will store, drafted in `run_draft_charges` and `run_draft_findings`
 * (the final transaction moves them, {@link moveDraftResults}), and counted into the run's
 * totals. So what the run holds does not grow with the number of charges.
 */
export function reconcileStage(db: Kysely<Database>, runId: string, context: ReconcileContext): {
  /** Takes an answer; when a batch is full, reconciles it and waits while too many rows wait to be drafted. */
  add(numbered: NumberedCase, answer: GatewayAnswer): Promise<void> | undefined;
  /** Reconciles the answers taken so far. */
  flush(): Promise<void>;
  /** Drafts the findings about forged notifications, after every charge's. */
  addForged(claims: readonly ForgedClaim[]): Promise<void>;
  /** Drafts what is left. */
  close(): Promise<void>;
  /** Time spent in the rules so far. */
  reconcileMs(): number;
  readonly tally: RunTally;
} {
  const summary = summaryTotals();
  const counts = { charges: 0, matched: 0, mismatched: 0, unverified: 0 };
  const findingsByCode = new Map<string, number>();
  const writer = batchedWriter<Draft>((rows) => writeDrafts(db, rows), { batch: DRAFT_BATCH, highWater: DRAFT_HIGH_WATER, maxDelayMs: 200 });
  const draftResult = (no: number, result: ChargeResult) => {
    const fees = chargeFees(result, context.fees);
    summary.add(result, fees);
    counts.charges += 1;
    counts[result.status] += 1;
    for (const m of result.mismatches) findingsByCode.set(m.code, (findingsByCode.get(m.code) ?? 0) + 1);
    const notified = result.case.notifications;
    writer.add({
      charge: {
        ...chargeRow(result, fees),
        run_id: runId,
        other_entry_ids: otherRows(result.case),
        notification_ids: notified.length ? notified.map((n) => n.notificationId) : null,
      },
      findings: mismatchRows(runId, result).map((m, idx) => ({ ...nullWhereEmpty(m), case_no: no, idx })),
    });
  };
  let reconcileMs = 0;
  let ready: { numbered: NumberedCase; answer: GatewayAnswer }[] = [];
  const flush = async () => {
    const batch = ready;
    ready = [];
    const t0 = performance.now();
    const reconciled = batch.map(({ numbered, answer }) => reconcileCharge(numbered.chargeCase, answer, context));
    reconcileMs += performance.now() - t0;
    batch.forEach(({ numbered }, i) => draftResult(numbered.no, reconciled[i]!));
    await writer.room();
  };
  return {
    add(numbered, answer) {
      ready.push({ numbered, answer });
      return ready.length >= RECONCILE_BATCH ? flush() : undefined;
    },
    flush,
    async addForged(claims) {
      if (!claims.length) return;
      const code = 'NOTIFY_CHECKSUM_INVALID';
      findingsByCode.set(code, (findingsByCode.get(code) ?? 0) + claims.length);
      const findings = claims.map((c, idx): DraftFinding => ({
        ...nullWhereEmpty(forgedRow(runId, c)),
        case_no: FORGED_CASE_NO,
        idx,
      }));
      await sql`INSERT INTO run_draft_findings SELECT * FROM json_populate_recordset(NULL::run_draft_findings, ${JSON.stringify(findings)}::json)`.execute(db);
    },
    close: () => writer.close(),
    reconcileMs: () => reconcileMs,
    tally: {
      get charges() { return counts.charges; },
      get matched() { return counts.matched; },
      get mismatched() { return counts.mismatched; },
      get unverified() { return counts.unverified; },
      findingsByCode,
      summary: () => summary.rows(),
    },
  };
}

/** Where the findings about forged notifications go in the run's order: after every case. */
const FORGED_CASE_NO = 2 ** 31 - 1;

function forgedRow(runId: string, c: ForgedClaim): MismatchRow {
  return {
    run_id: runId,
    charge_key: c.chargeKey,
    transaction_date: c.date,
    source_type: c.sourceType,
    charge_id: c.chargeId ?? '',
    reference_order: c.referenceOrder ?? '',
    entry_id: '',
    code: 'NOTIFY_CHECKSUM_INVALID',
    severity: SEVERITY.NOTIFY_CHECKSUM_INVALID,
    field: 'checksum',
    ledger_value: '',
    gateway_value: c.amount,
    difference: '',
    message: c.message,
  };
}

/** A case's rows besides its charge row, or null (an orphan's charge row is one of its refunds or voids). */
function otherRows(c: ChargeCase): string[] | null {
  const others = [...c.duplicates, ...c.refunds, ...c.voids].filter((row) => row !== c.charge).map((row) => row.entry_id);
  return others.length ? others : null;
}

/** The CSV's empty cells are NULLs in the table. */
function nullWhereEmpty(m: MismatchRow): { [K in keyof MismatchRow]: string | null } {
  const row: Record<string, string | null> = {};
  for (const [key, value] of Object.entries(m)) row[key] = value === '' ? null : value;
  return row as { [K in keyof MismatchRow]: string | null };
}

/** One batch into both draft tables, in one statement; each table's rows are one JSON parameter. */
async function writeDrafts(db: Kysely<Database>, rows: readonly Draft[]): Promise<void> {
  const charges = JSON.stringify(rows.map((r) => r.charge));
  const findings = JSON.stringify(rows.flatMap((r) => r.findings));
  await sql`
    WITH charges AS (
      INSERT INTO run_draft_charges SELECT * FROM json_populate_recordset(NULL::run_draft_charges, ${charges}::json)
    )
    INSERT INTO run_draft_findings SELECT * FROM json_populate_recordset(NULL::run_draft_findings, ${findings}::json)`.execute(db);
}

/**
 * Moves the drafted rows into the run's tables, in the run's final transaction: findings
 * numbered (`seq`) in case order and, within a charge, in the order they were found, as if the
 * run had reconciled its charges one after the other.
 */
export async function moveDraftResults(trx: Kysely<Database>): Promise<void> {
  const findings = await columnsOf(trx, 'run_draft_findings', ['seq', 'case_no', 'idx']);
  await sql`
    INSERT INTO recon_mismatches (seq, ${findings})
    SELECT (row_number() OVER (ORDER BY case_no, idx) - 1)::int, ${findings} FROM run_draft_findings`.execute(trx);
  const charges = await columnsOf(trx, 'run_draft_charges', ['other_entry_ids', 'notification_ids']);
  await sql`INSERT INTO recon_charge_results (${charges}) SELECT ${charges} FROM run_draft_charges`.execute(trx);
}

/** A draft table's columns (those of the table it drafts for, as created with LIKE), less some. */
async function columnsOf(trx: Kysely<Database>, table: string, except: readonly string[]) {
  const { rows } = await sql<{ name: string }>`
    SELECT column_name AS name FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name = ${table} ORDER BY ordinal_position`.execute(trx);
  return sql.join(rows.filter((r) => !except.includes(r.name)).map((r) => sql.id(r.name)));
}
