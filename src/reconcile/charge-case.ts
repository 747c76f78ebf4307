import type { InquiryRequest } from '../gateway/inquiry-client.ts';
import { compareFirstRows } from '../ingest/first-row.ts';
import type { LedgerEntry } from '../ingest/ledger.table.ts';
import { isQrFamily } from '../vocabulary.ts';
import { daysBetween } from '../dates.ts';

/** Everything the ledger says about one charge: its row, any duplicate rows, refunds and voids. */
export interface ChargeCase {
  /**
   * The ledger's `charge` row. For an orphan case, the first of its refund and void rows, which
   * stands in for it: it carries the charge's ids, `transaction_date`, `source_type` and
   * `currency`, but its amount is a refund's, never the charge's.
   */
  readonly charge: LedgerEntry;
  /**
   * docs/reference.md §4.19, orphans: the ledger has refund or void rows of this charge but no `charge` row
   * anywhere (any date). The gateway decides whether it is an `ORPHAN_LEDGER_ENTRY`.
   */
  readonly orphan: boolean;
  /**
   * No ledger row names the charge: KBank notified it, and its case is its notifications. `charge`
   * stands in, built from the first of them (docs/reference.md §6);
   * its `entry_id` is '', since there is no ledger row. Never an orphan.
   */
  readonly notifiedOnly: boolean;
  /** Further `charge` rows for the same charge (same `charge_id` or `reference_order`). */
  readonly duplicates: LedgerEntry[];
  readonly refunds: LedgerEntry[];
  readonly voids: LedgerEntry[];
  /**
   * KBank's verified notifications that the charge was paid, received before the run's moment,
   * oldest first: the inquiry must not contradict them. None for most charges.
   */
  readonly notifications: NotifiedPayment[];
}

/** A case and its place in the run: results are numbered in this order, whenever they arrive. */
export interface NumberedCase {
  readonly no: number;
  readonly chargeCase: ChargeCase;
}

/** A verified WebHook Notify of a successful payment, as a case carries it (`notifications` table). */
export interface NotifiedPayment {
  readonly notificationId: string;
  readonly receivedAt: Date;
  readonly chargeId: string | null;
  readonly orderId: string | null;
  readonly referenceOrder: string | null;
  readonly transactionState: string | null;
}

/** A case of the ledger's rows (its charge row, or an orphan's first row), no notification yet. */
export function ledgerCase(charge: LedgerEntry, orphan: boolean, duplicates: LedgerEntry[] = []): ChargeCase {
  return { charge, orphan, notifiedOnly: false, duplicates, refunds: [], voids: [], notifications: [] };
}

/** The charge's identity in this run: its charge id, else reference order, else order id. */
export function chargeKey(entry: LedgerEntry): string {
  return entry.charge_id ?? entry.reference_order ?? entry.order_id ?? entry.entry_id;
}

type ChargeIds = Pick<LedgerEntry, 'charge_id' | 'reference_order' | 'order_id'>;

/** Every id a ledger row names its charge by. */
export function identifiers(entry: ChargeIds): string[] {
  return [entry.charge_id, entry.reference_order, entry.order_id].filter((v): v is string => !!v);
}

/**
 * Groups the run's ledger rows into cases. Charge rows are grouped by {@link groupCharges}: the
 * first row of a charge is the one reconciled and later ones are duplicates. Refund and void
 * rows name their charge by any of its ids; rows naming no charge of the run are returned apart
 * (their charge is known to the ledger only by the gateway's id, or by a date the row does not
 * carry, or not at all: {@link attachByGatewayIds} gets a second chance after the inquiry, then
 * the pipeline looks for the charge anywhere in the ledger, else the rows are orphans).
 */
export function buildCases(charges: LedgerEntry[], followUps: LedgerEntry[]): { cases: ChargeCase[]; unlinked: LedgerEntry[] } {
  const byId = new Map<string, ChargeCase>();
  const cases = groupCharges(charges).map(({ first, duplicates }): ChargeCase => {
    const created = ledgerCase(first, false, duplicates);
    for (const id of identifiers(first)) byId.set(id, created);
    return created;
  });
  const unlinked: LedgerEntry[] = [];
  for (const entry of followUps) {
    const owner = identifiers(entry).map((id) => byId.get(id)).find(Boolean);
    if (owner) attach(owner, entry);
    else unlinked.push(entry);
  }
  return { cases, unlinked };
}

type ChargeRow = ChargeIds & Pick<LedgerEntry, 'entry_id' | 'transaction_date'>;

/**
 * Charge rows grouped by the charge they book (docs/reference.md §4.20): the first row of a charge is its earliest by `transaction_date`, then
 * `entry_id` ({@link compareFirstRows}), whatever the file and line; a later row sharing an id
 * with a group's first row is a duplicate of it. Only first rows claim ids, so the first rows of
 * two groups never share one. The groups come in the order their first rows have in `charges`
 * (the run's case order); each group's duplicates in first-row order.
 */
export function groupCharges<T extends ChargeRow>(charges: readonly T[]): { first: T; duplicates: T[] }[] {
  type Group = { first: T; duplicates: T[]; at: number };
  const byId = new Map<string, Group>();
  const groups: Group[] = [];
  const order = charges.map((_, i) => i).sort((a, b) => compareFirstRows(charges[a]!, charges[b]!));
  for (const at of order) {
    const charge = charges[at]!;
    const ids = identifiers(charge);
    const existing = ids.map((id) => byId.get(id)).find(Boolean);
    if (existing) {
      existing.duplicates.push(charge);
      continue;
    }
    const created = { first: charge, duplicates: [], at };
    groups.push(created);
    for (const id of ids) byId.set(id, created);
  }
  return groups.sort((a, b) => a.at - b.at).map(({ first, duplicates }) => ({ first, duplicates }));
}

/** Links follow-up rows that name a charge by an id only the gateway told us. */
export function attachByGatewayIds(
  unlinked: LedgerEntry[],
  gatewayIds: Map<string, ChargeCase>,
): LedgerEntry[] {
  return unlinked.filter((entry) => {
    const owner = identifiers(entry).map((id) => gatewayIds.get(id)).find(Boolean);
    if (owner) attach(owner, entry);
    return !owner;
  });
}

/**
 * Cases for refund and void rows whose charge is in no ledger `charge` row: rows that name the
 * same charge (by any of its ids) share one case, whose first row stands in for the charge.
 */
export function buildOrphanCases(rows: readonly LedgerEntry[]): ChargeCase[] {
  const byId = new Map<string, ChargeCase>();
  const cases: ChargeCase[] = [];
  for (const entry of rows) {
    const ids = identifiers(entry);
    let owner = ids.map((id) => byId.get(id)).find(Boolean);
    if (!owner) {
      owner = ledgerCase(entry, true);
      cases.push(owner);
    }
    for (const id of ids) if (!byId.has(id)) byId.set(id, owner);
    attach(owner, entry);
  }
  return cases;
}

/** Adds a refund or void row to its charge's case. */
export function attach(owner: ChargeCase, entry: LedgerEntry): void {
  if (entry.entry_type === 'void') owner.voids.push(entry);
  else owner.refunds.push(entry);
}

/** The guide refuses inquiries without a date for charges more than 180 days old (§6.1.2). */
export const DATE_SEGMENT_AFTER_DAYS = 180;

/**
 * docs/reference.md §4.2: card family by charge id or reference order, with `/{YYYYMMDD}` when the charge
 * is more than 180 days before `asOf`; QR family by charge id or order id.
 */
export function inquiryRequestFor(charge: LedgerEntry, asOf: string): InquiryRequest {
  // The gateway's answer must not contradict any id the ledger knows.
  const known = { chargeId: charge.charge_id, referenceOrder: charge.reference_order, orderId: charge.order_id };
  if (!isQrFamily(charge.source_type)) {
    const id = charge.charge_id ?? charge.reference_order ?? '';
    const age = daysBetween(charge.transaction_date, asOf);
    return age > DATE_SEGMENT_AFTER_DAYS ? { family: 'card', id, transactionDate: charge.transaction_date, known } : { family: 'card', id, known };
  }
  return { family: 'qr', id: charge.charge_id ?? charge.order_id ?? '', known };
}
