import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { shiftDate } from '../dates.ts';
import type { LedgerEntry } from '../ingest/ledger.table.ts';
import { isLive } from '../ingest/retracted.ts';
import { openSince } from './open-items.ts';
import { buildCases, buildOrphanCases, chargeKey, identifiers, type ChargeCase } from '../reconcile/charge-case.ts';

/**
 * Why a charge that is not one of the night's own is asked (docs/reference.md §1.3): open,
 * due a re-check, or named by a notification of KBank's that no case of the night deals with.
 */
export type DueReason = 'revisit' | 'recheck' | 'notified';

/** The due cases added, numbered from the first number given, in the order they are asked. */
export interface DueCases {
  readonly count: number;
  /** How many are due for each reason; in case order, every `revisit` (open) comes before any `recheck`. */
  readonly revisit: number;
  readonly recheck: number;
}

/** Due charges whose cases are built at a time: a night's follow-ups are not held at once. */
const CHUNK = 2000;

/**
 * The charges a night asks about besides its own, added to `run_case_rows` as cases numbered
 * from `firstNo`, in the order they are asked: every open charge open for at most `openMaxDays`
 * nights (v3: counted from `open_since`, so a charge re-opened by a late refund is followed
 * whatever its age; longer ones are stale: listed, not asked), oldest first, then every final
 * charge that has reached a re-check age since it was last asked, oldest first; charges the run
 * already has are left out. See {@link addWantedCases}.
 */
export async function addDueCases(
  db: Kysely<Database>,
  scope: { night: string; openMaxDays: number },
  firstNo: number,
  chunk = CHUNK,
): Promise<DueCases> {
  return db.transaction().execute(async (trx) => {
    await sql`
      CREATE TEMP TABLE due_wanted ON COMMIT DROP AS
      SELECT row_number() OVER (ORDER BY open DESC, transaction_date, charge_key)::int AS ord, charge_key,
        CASE WHEN open THEN 'revisit' ELSE 'recheck' END AS due, NULL::bigint AS notification_id
      FROM charge_state s
      WHERE next_ask_on <= ${scope.night}::date
        AND (NOT open OR ${openSince('s')} >= ${shiftDate(scope.night, -scope.openMaxDays)}::date)
        AND NOT EXISTS (SELECT 1 FROM run_case_rows r WHERE r.charge_key = s.charge_key)`.execute(trx);
    const added = await addWantedCases(trx, firstNo, chunk);
    return { count: added.count, revisit: added.revisit, recheck: added.recheck };
  });
}

/**
 * Adds the cases of the temporary table `due_wanted` (`ord`, `charge_key`, `due`,
 * `notification_id`), in `ord` order, numbered from `firstNo`. A wanted charge with a
 * `notification_id` is one no ledger row names: its case is that notification. The others get
 * all their ledger rows, except rows already in one of the run's cases. Built `chunk` charges at
 * a time, each chunk's rows left out of the next: the rows of different charges are different
 * rows, so this is their grouping all at once. (A row that names two due charges by different
 * ids, which no real ledger writes, goes to the case of the first chunk that reads it.) A key
 * whose rows are gone from the ledger has no case.
 */
export async function addWantedCases(trx: Kysely<Database>, firstNo: number, chunk = CHUNK): Promise<{ count: number } & Record<DueReason, number>> {
  // Every ledger row naming a due charge, read in one pass: the ledger has no index on its ids
  // (sql/0005), so a query per chunk would read the whole ledger once per chunk. Each chunk's
  // rows leave this table as they are added, so no later chunk takes them.
  const dueKeys = sql`(SELECT charge_key FROM due_wanted WHERE notification_id IS NULL)`;
  await sql`
    CREATE TEMP TABLE due_rows ON COMMIT DROP AS
    SELECT * FROM ledger_entries l
    WHERE (charge_id IN ${dueKeys} OR reference_order IN ${dueKeys} OR order_id IN ${dueKeys})
      AND NOT EXISTS (SELECT 1 FROM run_case_rows r WHERE r.entry_id = l.entry_id) AND ${isLive('l')}`.execute(trx);
  await sql`
    CREATE INDEX ON due_rows (entry_id); CREATE INDEX ON due_rows (charge_id);
    CREATE INDEX ON due_rows (reference_order); CREATE INDEX ON due_rows (order_id); ANALYZE due_rows`.execute(trx);
  const added = { count: 0, revisit: 0, recheck: 0, notified: 0 };
  for (let after = 0; ; after += chunk) {
    const { rows: wanted } = await sql<{ charge_key: string; due: DueReason; notification_id: string | null }>`
      SELECT charge_key, due, notification_id FROM due_wanted WHERE ord > ${after} AND ord <= ${after + chunk} ORDER BY ord`.execute(trx);
    if (!wanted.length) return added;
    const byKey = await casesForKeys(trx, wanted.filter((d) => d.notification_id === null).map((d) => d.charge_key));
    const rows: CaseRow[] = [];
    for (const { charge_key: key, due, notification_id: notification } of wanted) {
      const caseNo = firstNo + added.count;
      if (notification !== null) {
        rows.push({ case_no: caseNo, pos: 0, entry_id: null, charge_key: key, orphan: false, due, notification_id: notification });
      } else {
        const chargeCase = byKey.get(key);
        if (!chargeCase) continue;
        rows.push(...caseRows(chargeCase, caseNo, due));
      }
      added.count += 1;
      added[due] += 1;
    }
    await sql`
      INSERT INTO run_case_rows (case_no, pos, entry_id, charge_key, orphan, due, notification_id)
      SELECT * FROM json_to_recordset(${JSON.stringify(rows)}::json)
        AS r(case_no int, pos int, entry_id text, charge_key text, orphan boolean, due text, notification_id bigint)`.execute(trx);
    await sql`DELETE FROM due_rows WHERE entry_id = ANY(${rows.flatMap((r) => (r.entry_id ? [r.entry_id] : []))}::text[])`.execute(trx);
  }
}

interface CaseRow {
  case_no: number;
  pos: number;
  /** null: the case of a charge no ledger row names, its notification's. */
  entry_id: string | null;
  charge_key: string | null;
  orphan: boolean;
  due: DueReason;
  notification_id: string | null;
}

/**
 * A case as `run_case_rows` holds it, in the order `readCases` puts it together again: the charge
 * row (with the case's charge key), its duplicates, its refunds and its voids. An orphan's first
 * row is its charge and one of its refunds or voids: it is stored once, as the charge.
 */
function caseRows(c: ChargeCase, caseNo: number, due: DueReason): CaseRow[] {
  const rest = [...c.duplicates, ...c.refunds, ...c.voids].filter((r) => r !== c.charge);
  return [c.charge, ...rest].map((row, pos) => ({
    case_no: caseNo,
    pos,
    entry_id: row.entry_id,
    charge_key: pos === 0 ? chargeKey(c.charge) : null,
    orphan: c.orphan,
    due,
    notification_id: null,
  }));
}

/**
 * The cases of the charges with these keys, built from all their ledger rows (in `due_rows`)
 * whatever their dates, keyed by the charge key each was asked by. A key whose rows are gone
 * from the ledger has no case.
 */
async function casesForKeys(db: Kysely<Database>, keys: string[]): Promise<Map<string, ChargeCase>> {
  const { rows: unclaimed } = await sql<LedgerEntry>`
    SELECT * FROM due_rows
    WHERE charge_id = ANY(${keys}::text[]) OR reference_order = ANY(${keys}::text[]) OR order_id = ANY(${keys}::text[])
    ORDER BY ingested_at, source_file, source_line`.execute(db);
  const charges = unclaimed.filter((r) => r.entry_type === 'charge');
  const followUps = unclaimed.filter((r) => r.entry_type !== 'charge').sort((a, b) => a.entry_date.localeCompare(b.entry_date));
  const { cases, unlinked } = buildCases(charges, followUps);
  const wanted = new Set(keys);
  const byKey = new Map<string, ChargeCase>();
  for (const c of [...cases, ...buildOrphanCases(unlinked)]) {
    const key = [chargeKey(c.charge), ...identifiers(c.charge)].find((id) => wanted.has(id));
    if (key && !byKey.has(key)) byKey.set(key, c);
  }
  return byKey;
}
