import { sql, type Kysely } from 'kysely';
import { anyText } from '../db/any-text.ts';
import type { Database } from '../db/database.ts';
import { todayIn } from '../dates.ts';

/** A ledger row to take out of reconciliation, why, and who says so. */
export interface RetractionRequest {
  entryId: string;
  reason: string;
  by: string;
  /** The line of the file it came from, if any. */
  line?: number;
}

/** A request that cannot be applied, and why (`no ledger row E-9`, `E-1 is already retracted …`). */
export interface RefusedRequest {
  request: RetractionRequest;
  problem: string;
}

export type RetractOutcome =
  | { ok: true; retracted: number; resolvedFindings: number }
  | { ok: false; refused: RefusedRequest[] };

export type UndoOutcome =
  | { ok: true; transactionDate: string }
  | { ok: false; problem: string };

/** What the ledger and the trail say about the rows named. */
interface RowState {
  entry_id: string;
  known: boolean;
  transaction_date: string | null;
  retracted_by: string | null;
  retracted_at: Date | null;
  reason: string | null;
}

/**
 * Takes ledger rows out of reconciliation (docs/reference.md §1.8), in one transaction, all
 * or nothing: a request naming no ledger row, a row already retracted, or a row named twice is
 * refused, and then nothing is written. Each row gets an audit row; its unresolved findings are
 * resolved as `retracted` on `today`; the charge it is the row of is followed no more (closed,
 * never due), and a charge it is a refund, void or duplicate of is due tonight, so that the next
 * nightly reconciles it without the row. Dates are days in `tz`. The caller holds the merchant's
 * run lock, so no run writes findings or charge states meanwhile.
 */
export async function retractRows(db: Kysely<Database>, requests: readonly RetractionRequest[], tz: string): Promise<RetractOutcome> {
  const today = todayIn(tz);
  return db.transaction().execute(async (trx) => {
    const refused = await refusedRequests(trx, requests, tz);
    if (refused.length) return { ok: false, refused };

    const ids = requests.map((r) => r.entryId);
    await sql`
      INSERT INTO ledger_retractions (entry_id, reason, retracted_by)
      SELECT * FROM unnest(${ids}::text[], ${requests.map((r) => r.reason)}::text[], ${requests.map((r) => r.by)}::text[])`.execute(trx);
    const resolved = await trx
      .updateTable('findings')
      .set({ resolved_on: today, resolved_reason: 'retracted' })
      .where('resolved_on', 'is', null)
      .where('entry_id', '=', anyText(ids))
      .executeTakeFirst();
    await makeChargesDue(trx, ids, today);
    await trx
      .updateTable('charge_state')
      .set({ open: false, open_reason: null, open_message: null, open_since: null, next_ask_on: null })
      .where('entry_id', '=', anyText(ids))
      .execute();
    return { ok: true, retracted: ids.length, resolvedFindings: Number(resolved.numUpdatedRows) };
  });
}

/**
 * Brings a retracted row back: its retraction is recorded as undone (the audit row stays), and
 * its charge is due tonight, so the next nightly (or the next run over its dates) reconciles it
 * again. Its findings come back, as `new`, when a run finds them again.
 */
export async function undoRetraction(db: Kysely<Database>, entryId: string, by: string, tz: string): Promise<UndoOutcome> {
  const today = todayIn(tz);
  return db.transaction().execute(async (trx) => {
    const [state] = await rowStates(trx, [entryId]);
    if (!state!.known) return { ok: false, problem: `no ledger row ${entryId}` };
    if (state!.retracted_by === null) return { ok: false, problem: `${entryId} is not retracted` };
    await trx
      .updateTable('ledger_retractions')
      .set({ undone_at: sql<Date>`now()`, undone_by: by })
      .where('entry_id', '=', entryId)
      .where('undone_at', 'is', null)
      .execute();
    await makeChargesDue(trx, [entryId], today);
    return { ok: true, transactionDate: state!.transaction_date! };
  });
}

/**
 * The requests that cannot be applied, and why: no such ledger row, a row already retracted (by
 * whom, when, why), a row named twice. Read only.
 */
export async function refusedRequests(db: Kysely<Database>, requests: readonly RetractionRequest[], tz: string): Promise<RefusedRequest[]> {
  const states = await rowStates(db, requests.map((r) => r.entryId));
  const first = new Map<string, RetractionRequest>();
  const refused: RefusedRequest[] = [];
  requests.forEach((request, i) => {
    const state = states[i]!;
    const earlier = first.get(request.entryId);
    const problem = !state.known
      ? `no ledger row ${request.entryId}`
      : state.retracted_by !== null
        ? `${request.entryId} is already retracted (by ${state.retracted_by} on ${todayIn(tz, state.retracted_at!)}: ${state.reason})`
        : earlier
          ? `${request.entryId} is named twice${earlier.line === undefined ? '' : ` (first on line ${earlier.line})`}`
          : undefined;
    if (problem) refused.push({ request, problem });
    first.set(request.entryId, earlier ?? request);
  });
  return refused;
}

/** One state per id, in order: whether the ledger has the row, and its active retraction, if any. */
async function rowStates(db: Kysely<Database>, ids: readonly string[]): Promise<RowState[]> {
  const { rows } = await sql<RowState>`
    SELECT r.entry_id, l.entry_id IS NOT NULL AS known, l.transaction_date::text AS transaction_date,
      lr.retracted_by, lr.retracted_at, lr.reason
    FROM unnest(${ids}::text[]) WITH ORDINALITY AS r(entry_id, i)
    LEFT JOIN ledger_entries l ON l.entry_id = r.entry_id
    LEFT JOIN ledger_retractions lr ON lr.entry_id = r.entry_id AND lr.undone_at IS NULL
    ORDER BY r.i`.execute(db);
  return rows;
}

/** The charges these rows belong to (by any id they carry, or as their charge row) are due `today`. */
async function makeChargesDue(db: Kysely<Database>, ids: readonly string[], today: string): Promise<void> {
  await sql`
    UPDATE charge_state s SET next_ask_on = LEAST(COALESCE(s.next_ask_on, ${today}::date), ${today}::date)
    FROM ledger_entries l
    WHERE l.entry_id = ANY(${ids}::text[])
      AND (s.entry_id = l.entry_id OR s.charge_key IN (l.charge_id, l.reference_order, l.order_id))`.execute(db);
}
