import { sql, type Kysely } from 'kysely';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { shiftDate } from '../dates.ts';
import type { Deferred } from '../followup/carry-over.ts';
import { stageDueCases } from '../followup/due-charges.ts';
import type { GatewayAnswer } from '../gateway/gateway-answer.ts';
import type { LedgerEntry } from '../ingest/ledger.table.ts';
import { attachByGatewayIds, identifiers, type ChargeCase } from '../reconcile/charge-case.ts';
import { stageNotifiedCases, type NotificationScope } from './ingest-notified.ts';
import { readCases, selectOwnCases, type NumberedCase } from './ingest-cases.ts';
import type { RunRequest } from './run-reconciliation.ts';

export interface Selection {
  /** The cases to ask about, a page at a time, in order: the dates' own, then the due ones. */
  pages(): AsyncIterable<NumberedCase[]>;
  /** How many cases `pages()` gives. */
  readonly asked: number;
  /** Refund and void rows of the dates whose charge is in none of the cases (yet). */
  readonly unlinked: readonly LedgerEntry[];
  /** Cases due but not asked (the request budget); the late round may add to `held`. */
  readonly deferred: Deferred;
  /** How many more charges the budget allows after `pages()`. */
  readonly budgetLeft: number;
  /** The number the next case (of the late round) takes. */
  readonly nextNo: number;
  readonly due: { readonly revisit: number; readonly recheck: number };
  /** Charges asked because KBank notified them, and those waiting for the ledger (their grace hours). */
  readonly notified: { readonly asked: number; readonly waiting: number };
}

/**
 * The charges the dates cover, then (for `nightly` and the demo) the charges KBank notified that
 * none of those cases has, then (for `nightly`) the open charges and re-checks that are due, cut
 * at the night's request budget in that order (see docs/reference.md, `nightly`). Every due
 * charge not asked is deferred: recorded so that the next night asks it (a notified one stays
 * pending, and the next night takes it again). All of them are cases in the database
 * (`run_case_rows`), numbered in that order and read a page at a time, asked or not: a case not
 * asked still holds its rows, so no other case takes them.
 *
 * Notified charges come before the open ones and the re-checks: they are few (a notification
 * whose charge the night's own cases have is dealt with there, at no cost), each may be money
 * the books lack or a payment that failed after the shop was told it succeeded, and nothing else
 * would ever ask about them; an open charge or a re-check waiting a night loses nothing.
 */
export async function selectCases(db: Kysely<Database>, request: RunRequest, config: Config, notify: NotificationScope): Promise<Selection> {
  const own = await selectOwnCases(db, request.from, request.to);
  const notified = notify.join ? await stageNotifiedCases(db, notify, own.count + 1) : { count: 0, waiting: 0 };
  const beforeDue = own.count + notified.count;
  const due = request.followUp
    ? await stageDueCases(db, { night: nightOf(request.asOf), openMaxDays: config.recon.openMaxDays }, beforeDue + 1)
    : { count: 0, revisit: 0, recheck: 0 };
  const budget = request.followUp?.maxRequests ?? Number.POSITIVE_INFINITY;
  const ownAsked = Math.min(own.count, budget);
  const notifiedAsked = Math.min(notified.count, budget - ownAsked);
  const dueAsked = Math.min(due.count, budget - ownAsked - notifiedAsked);
  // Revisits come first: the budget cuts re-checks before them.
  const revisit = Math.min(due.revisit, dueAsked);
  const pageOptions = { notifications: notify };
  return {
    async *pages() {
      yield* readCases(db, 1, ownAsked, pageOptions);
      yield* readCases(db, own.count + 1, own.count + notifiedAsked, pageOptions);
      yield* readCases(db, beforeDue + 1, beforeDue + dueAsked, pageOptions);
    },
    asked: ownAsked + notifiedAsked + dueAsked,
    // A refund row of the dates may belong to a due charge, which has it in its case already.
    unlinked: notified.count || due.count ? await notInCases(db, own.unlinked) : own.unlinked,
    deferred: {
      staged: [
        [ownAsked + 1, own.count],
        [own.count + notifiedAsked + 1, beforeDue],
        [beforeDue + dueAsked + 1, beforeDue + due.count],
      ],
      held: [],
    },
    budgetLeft: budget - ownAsked - notifiedAsked - dueAsked,
    nextNo: beforeDue + due.count + 1,
    due: { revisit, recheck: dueAsked - revisit },
    notified: { asked: notifiedAsked, waiting: notified.waiting },
  };
}

/** `rows` less those in one of the run's cases. */
async function notInCases(db: Kysely<Database>, rows: readonly LedgerEntry[]): Promise<LedgerEntry[]> {
  if (!rows.length) return [];
  const { rows: inCases } = await sql<{ entry_id: string }>`
    SELECT entry_id FROM run_case_rows WHERE entry_id = ANY(${rows.map((r) => r.entry_id)}::text[])`.execute(db);
  const taken = new Set(inCases.map((r) => r.entry_id));
  return rows.filter((r) => !taken.has(r.entry_id));
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
export function gatewayIdLinks(unlinked: readonly LedgerEntry[]) {
  const wanted = new Set(unlinked.flatMap(identifiers));
  const held: { numbered: NumberedCase; answer: GatewayAnswer }[] = [];
  const idsOf = (answer: GatewayAnswer) => (answer.kind === 'found' ? [answer.charge.id, answer.charge.referenceOrder, answer.charge.orderId] : []);
  return {
    holds(numbered: NumberedCase, answer: GatewayAnswer): boolean {
      // A charge no ledger row names has no case to take ledger rows into: they go as orphans.
      if (!wanted.size || numbered.chargeCase.notifiedOnly || !idsOf(answer).some((id) => id && wanted.has(id))) return false;
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

export async function* onePage<T>(page: T[]): AsyncGenerator<T[]> {
  yield page;
}
