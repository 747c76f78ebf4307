import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { rename, rm } from 'node:fs/promises';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../db/database.ts';
import { nightOf } from '../dates.ts';
import { humanCsvOptions } from '../csv-cells.ts';
import { activeAcknowledgement } from './acknowledged.ts';

/** `open-items.csv`'s header, exactly (docs/reference.md §1.6). */
export const OPEN_ITEM_COLUMNS = [
  'charge_id', 'reference_order', 'transaction_date', 'source_type', 'currency', 'amount', 'kind', 'code',
  'reason', 'open_since', 'age_days', 'age_bucket', 'last_asked_at', 'next_ask_on', 'acknowledged_by', 'ack_note',
] as const;
export type OpenItemRow = Record<(typeof OPEN_ITEM_COLUMNS)[number], string>;
export type AgeBucket = '0-1' | '2-7' | '8-30' | '31+';
export type OpenItemKind = 'open_charge' | 'finding' | 'stale';

/** As of `asOf`, whose night (the day looked back on) is the day before; ages count in nights. */
export interface OpenItemsScope {
  asOf: string;
  /** An open charge open for more than this many nights (since `open_since`) is `stale`. */
  openMaxDays: number;
}

export interface OpenItemTotals {
  total: number;
  /** Every row is in one bucket, stale ones included. */
  byBucket: Record<AgeBucket, number>;
  byKind: Record<OpenItemKind, number>;
}

/** The open reasons that are mismatch codes; REFUND_SENT and DEFERRED are not findings. */
const OPEN_CODES = ['INQUIRY_FAILED', 'SETTLEMENT_PENDING', 'FEES_NOT_REPORTED', 'REFUND_PENDING'];
/** For a clerk, why a charge without a finding of its own is open. */
const REFUND_SENT_REASON = "the gateway's state is Refund Sent: the refund may still fail";
const DEFERRED_REASON = "due but not asked yet: the night's request budget ran out";

const PAGE = 5000;
/** The order of the rows, and the keyset a page starts after; text compared byte-wise. */
const SORT_KEY = sql.raw('open_since, transaction_date, charge_key COLLATE "C", kind COLLATE "C", code COLLATE "C", field COLLATE "C", entry_id COLLATE "C"');

/** The page's sort key, the last row's, so the next page starts after it. */
interface Keyed extends OpenItemRow {
  charge_key: string;
  field: string;
  entry_id: string;
}

/**
 * Every open charge (kind `open_charge`, or `stale` past `openMaxDays`) and every unresolved,
 * unacknowledged error finding (`finding`), oldest first (open_since, transaction date, charge,
 * kind, code, field, ledger row). Read in keyset pages, so memory stays bounded however many
 * there are; text keys compare byte-wise (`C`), so the order is the same on every server. Each page
 * re-reads the open items and keeps the next {@link PAGE} of them (a top-N sort): open items
 * are thousands, not millions.
 */
export async function* openItems(db: Kysely<Database>, scope: OpenItemsScope): AsyncIterable<OpenItemRow> {
  const night = nightOf(scope.asOf);
  let after: Keyed | undefined;
  for (;;) {
    const { rows } = await pageQuery(night, scope.openMaxDays, after).execute(db);
    for (const row of rows) yield pick(row);
    if (rows.length < PAGE) return;
    after = rows[rows.length - 1];
  }
}

function pick(row: Keyed): OpenItemRow {
  const item = {} as OpenItemRow;
  for (const column of OPEN_ITEM_COLUMNS) item[column] = row[column];
  return item;
}

function pageQuery(night: string, openMaxDays: number, after: Keyed | undefined) {
  const keyset = after
    ? sql`WHERE (${SORT_KEY}) > (${after.open_since}::date, ${after.transaction_date}::date, ${after.charge_key}, ${after.kind}, ${after.code}, ${after.field}, ${after.entry_id})`
    : sql``;
  const ageDays = (since: RawBuilder<unknown>) => sql`(${night}::date - ${since})`;
  const stale = sql`${ageDays(openSince('cs'))} > ${openMaxDays}`;
  return sql<Keyed>`
    SELECT charge_id, reference_order, transaction_date::text AS transaction_date, source_type, currency, amount, kind, code, reason,
      open_since::text AS open_since, age_days::text AS age_days,
      CASE WHEN age_days <= 1 THEN '0-1' WHEN age_days <= 7 THEN '2-7' WHEN age_days <= 30 THEN '8-30' ELSE '31+' END AS age_bucket,
      last_asked_at, next_ask_on, acknowledged_by, ack_note, charge_key, field, entry_id
    FROM (
      SELECT COALESCE(cs.charge_id, '') AS charge_id, COALESCE(cs.reference_order, '') AS reference_order,
        cs.transaction_date, cs.source_type, cs.currency, cs.amount::text AS amount,
        CASE WHEN ${stale} THEN 'stale' ELSE 'open_charge' END AS kind,
        CASE WHEN cs.open_reason IN (${sql.join(OPEN_CODES)}) THEN cs.open_reason ELSE '' END AS code,
        COALESCE(cs.open_message, CASE cs.open_reason WHEN 'REFUND_SENT' THEN ${REFUND_SENT_REASON} WHEN 'DEFERRED' THEN ${DEFERRED_REASON} END, '') AS reason,
        ${openSince('cs')} AS open_since,
        ${ageDays(openSince('cs'))} AS age_days,
        ${isoUtc(sql.ref('cs.last_asked_at'))} AS last_asked_at,
        CASE WHEN ${stale} THEN '' ELSE COALESCE(cs.next_ask_on::text, '') END AS next_ask_on,
        COALESCE(own.acked_by, '') AS acknowledged_by, COALESCE(own.note, '') AS ack_note,
        cs.charge_key, ''::text AS field, ''::text AS entry_id
      FROM charge_state cs
      ${ownWarningAcknowledgement()}
      WHERE cs.open
      UNION ALL
      SELECT COALESCE(f.charge_id, cs.charge_id, ''), COALESCE(f.reference_order, cs.reference_order, ''),
        f.transaction_date, f.source_type, COALESCE(cs.currency, ''), COALESCE(cs.amount::text, ''),
        'finding', f.code, f.message, f.first_seen_on, ${ageDays(sql.ref('f.first_seen_on'))},
        ${isoUtc(sql.ref('cs.last_asked_at'))}, COALESCE(cs.next_ask_on::text, ''), '', '',
        f.charge_key, f.field, f.entry_id
      FROM findings f
      LEFT JOIN charge_state cs ON cs.charge_key = f.charge_key
      ${activeAcknowledgement('f')}
      WHERE f.resolved_on IS NULL AND f.severity = 'error' AND ack.acked_by IS NULL
    ) items
    ${keyset}
    ORDER BY ${SORT_KEY}
    LIMIT ${PAGE}`;
}

/**
 * The night an open charge's current open stretch began, which its age counts from (for its
 * bucket and for staleness), whatever its transaction date: a charge re-opened by a refund booked
 * months later is young again.
 */
export function openSince(alias: string): RawBuilder<string> {
  return sql<string>`COALESCE(${sql.ref(`${alias}.open_since`)}, ${sql.ref(`${alias}.first_seen_on`)})`;
}

/**
 * Who acknowledged an open charge's own finding (the warning it is open for, such as
 * `SETTLEMENT_PENDING`) and the note, as `own.acked_by` and `own.note`; NULL when nobody has. The
 * charge is still listed: acknowledging says it is known, not that it is final.
 */
function ownWarningAcknowledgement() {
  return sql`LEFT JOIN LATERAL (
    SELECT ack.acked_by, ack.note FROM findings w ${activeAcknowledgement('w')}
    WHERE w.charge_key = cs.charge_key AND w.code = cs.open_reason AND w.resolved_on IS NULL AND ack.acked_by IS NOT NULL
    ORDER BY w.field, w.entry_id LIMIT 1) own ON true`;
}

/** `2026-03-05T19:31:02Z`, or '' when never asked. */
function isoUtc(column: RawBuilder<unknown>) {
  return sql`COALESCE(to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), '')`;
}

/**
 * `open-items.csv` for a person (UTF-8 with a BOM, formula guard), written to a temporary file
 * renamed at the end, so a reader never sees half of it. Returns the totals for the summary.
 */
export async function writeOpenItemsCsv(db: Kysely<Database>, file: string, scope: OpenItemsScope): Promise<OpenItemTotals> {
  const tmp = `${file}.partial`;
  const out = createWriteStream(tmp);
  try {
    const totals = await writeOpenItems(db, scope, out, { bom: true, end: true });
    await rename(tmp, file);
    return totals;
  } catch (error) {
    out.destroy();
    // The stream opens its file asynchronously: once it is closed, the removed file stays removed.
    if (!out.closed) await once(out, 'close');
    await rm(tmp, { force: true });
    throw error;
  }
}

/**
 * The CSV into `out`: with a BOM for a file a person opens, without for a pipe; `end: false`
 * leaves `out` open (a process's stdout).
 */
export async function writeOpenItems(
  db: Kysely<Database>,
  scope: OpenItemsScope,
  out: Writable,
  options: { bom: boolean; end: boolean },
): Promise<OpenItemTotals> {
  const totals = emptyTotals();
  const counted = async function* () {
    for await (const row of openItems(db, scope)) {
      totals.total += 1;
      totals.byBucket[row.age_bucket as AgeBucket] += 1;
      totals.byKind[row.kind as OpenItemKind] += 1;
      yield row;
    }
  };
  await pipeline(Readable.from(counted()), stringify({ ...humanCsvOptions(OPEN_ITEM_COLUMNS), bom: options.bom }), out, { end: options.end });
  return totals;
}

/** `12 open items (0-1: 5, 2-7: 4, 8-30: 2, 31+: 1; stale 1)`: every row in one bucket, stale ones too. */
export function describeTotals(totals: OpenItemTotals): string {
  const b = totals.byBucket;
  return `${totals.total} open item${totals.total === 1 ? '' : 's'} (0-1: ${b['0-1']}, 2-7: ${b['2-7']}, 8-30: ${b['8-30']}, 31+: ${b['31+']}; stale ${totals.byKind.stale})`;
}

function emptyTotals(): OpenItemTotals {
  return { total: 0, byBucket: { '0-1': 0, '2-7': 0, '8-30': 0, '31+': 0 }, byKind: { open_charge: 0, finding: 0, stale: 0 } };
}
