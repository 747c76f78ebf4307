import type { Kysely } from 'kysely';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { shiftDate } from '../dates.ts';
import { dueCases } from '../followup/due-charges.ts';
import type { GatewayAnswer } from '../gateway/gateway-answer.ts';
import type { LedgerEntry } from '../ingest/ledger.table.ts';
import { attachByGatewayIds, identifiers, type ChargeCase } from '../reconcile/charge-case.ts';
import { readCases, selectOwnCases, type NumberedCase } from './run-cases.ts';
import type { RunRequest } from './run-reconciliation.ts';

export interface Selection {
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
export async function selectCases(db: Kysely<Database>, request: RunRequest, config: Config): Promise<Selection> {
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
export function gatewayIdLinks(unlinked: readonly LedgerEntry[]) {
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

export async function* onePage<T>(page: T[]): AsyncGenerator<T[]> {
  yield page;
}

function entryIdsOf(cases: readonly ChargeCase[]): Set<string> {
  return new Set(cases.flatMap((c) => [c.charge, ...c.duplicates, ...c.refunds, ...c.voids].map((r) => r.entry_id)));
}
