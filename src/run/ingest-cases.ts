import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../db/database.ts';
import { firstRowOrder } from '../ingest/first-row.ts';
import type { LedgerEntry } from '../ingest/ledger.table.ts';
import { isLive } from '../ingest/retracted.ts';
import { attach, groupCharges, ledgerCase, type NumberedCase } from '../reconcile/charge-case.ts';
import { attachNotifications, notifiedOnlyCases, type NotificationScope } from './ingest-notified.ts';

/** Cases read from the database at a time: enough to keep the gateway busy, few enough to hold. */
const PAGE = 2000;

/** A run starts and ends with its working tables empty (the schema's run lock is held). */
export async function clearRunWork(db: Kysely<Database>): Promise<void> {
  await sql`TRUNCATE run_case_rows, run_draft_findings, run_draft_charges, run_notifications`.execute(db);
}

/**
 * The run's own cases (docs/reference.md §1.2), numbered from 1 into `run_case_rows`, so
 * the run reads them back in pages whatever its size. The rows a run over [from, to] covers:
 * every row with `transaction_date` in the range (charge rows, and the refund and void rows of
 * those charges, which carry their charge's date); every refund or void row booked
 * (`entry_date`) in the range, however old its charge; the charge rows and other refund and void
 * rows of those older charges, looked up on the dates the booked rows carry and then by their
 * ids; and every other charge row of the charges so selected, whatever its date, with its
 * refund and void rows: a charge booked twice on two dates is one case in the run of either
 * date, reconciled by its first row, the later row its `DUPLICATE_IN_LEDGER` (see
 * docs/reference.md §4.20).
 *
 * Grouping is exactly {@link buildCases}'s, in SQL: charge rows grouped by {@link groupCharges}
 * (the first row of a charge by `transaction_date`, then `entry_id`), cases in ledger order of
 * their first rows (the range's, then the older charges'); a refund or void row goes to the case
 * whose charge row has its `charge_id`, else its `reference_order`, else its `order_id`. Only
 * charge rows that share an id with another charge row of the run can be duplicates, so only
 * those (few) are grouped in memory.
 *
 * Returns the number of cases and the refund and void rows that name no charge of the run, in
 * the order they were booked: their charge is known only by the gateway's ids, or is elsewhere
 * in the ledger, or nowhere (the pipeline's later steps).
 */
export async function selectOwnCases(
  db: Kysely<Database>,
  from: string,
  to: string,
  /** Most ids looked up in a hash (a test sets 0 to take the other way). */
  hashedIds = HASHED_IDS,
): Promise<{ count: number; unlinked: LedgerEntry[] }> {
  return db.transaction().execute(async (trx) => {
    const inRange = sql`transaction_date BETWEEN ${from}::date AND ${to}::date`;
    // Retracted rows are left out from the start: no case has them.
    const live = isLive('l');
    await sql`CREATE TEMP TABLE sel ON COMMIT DROP AS SELECT ${COLUMNS}, 0 AS grp FROM ledger_entries l WHERE ${inRange} AND ${live}`.execute(trx);
    await sql`
      CREATE TEMP TABLE booked ON COMMIT DROP AS SELECT ${COLUMNS}, 2 AS grp FROM ledger_entries l
      WHERE entry_type <> 'charge' AND entry_date BETWEEN ${from}::date AND ${to}::date AND NOT (${inRange}) AND ${live}`.execute(trx);
    await sql`CREATE TEMP TABLE known_ids (id text) ON COMMIT DROP`.execute(trx);
    // Group 1: the booked rows' charges, on the dates they carry; then those charges' other rows.
    const booked = await loadIds(trx, sql`SELECT charge_id, reference_order, order_id FROM booked`, hashedIds);
    await insertSharing(trx, 1, booked, sql`l.entry_type = 'charge' AND l.transaction_date IN (SELECT transaction_date FROM booked)`);
    await insertFollowUps(trx, 1, hashedIds);
    await sql`INSERT INTO sel SELECT * FROM booked b WHERE NOT EXISTS (SELECT 1 FROM sel s WHERE s.entry_id = b.entry_id)`.execute(trx);
    // Groups 3 and on: the selected charges' charge rows on other dates (group 3: of every group
    // before it; then of the group before), then their rows, until a group finds none.
    if (await hasOtherDates(trx, from, to)) {
      for (let grp = 3; ; grp++) {
        const known = await loadIds(trx, sql`SELECT charge_id, reference_order, order_id FROM sel WHERE entry_type = 'charge' AND ${grp === 3 ? sql`grp < 3` : sql`grp = ${grp - 1}`}`, hashedIds);
        if (!(await insertSharing(trx, grp, known, sql`l.entry_type = 'charge' AND NOT (${inRange})`))) break;
        await insertFollowUps(trx, grp, hashedIds);
      }
    }
    await sql`ANALYZE sel`.execute(trx);

    await markDuplicates(trx);
    await sql`
      CREATE TEMP TABLE charges ON COMMIT DROP AS
      SELECT s.entry_id, s.charge_id, s.reference_order, s.order_id, d.owner,
             s.transaction_date, row_number() OVER (ORDER BY s.grp, s.ingested_at, s.source_file, s.source_line)::int AS pos
      FROM sel s LEFT JOIN dup d USING (entry_id) WHERE s.entry_type = 'charge'`.execute(trx);
    await sql`
      CREATE TEMP TABLE starters ON COMMIT DROP AS
      SELECT entry_id, pos, row_number() OVER (ORDER BY pos)::int AS case_no,
             coalesce(charge_id, reference_order, order_id, entry_id) AS charge_key, charge_id, reference_order, order_id
      FROM charges WHERE owner IS NULL`.execute(trx);
    // A case's ids: no two cases' first rows share one, or the later would be a duplicate.
    await sql`
      CREATE TEMP TABLE case_ids ON COMMIT DROP AS
      SELECT id, case_no FROM starters, unnest(ARRAY[charge_id, reference_order, order_id]) AS id WHERE id IS NOT NULL`.execute(trx);
    // Refund and void rows in the order they were booked: matching by amount takes the earliest first.
    await sql`
      CREATE TEMP TABLE follow ON COMMIT DROP AS
      SELECT f.entry_id, coalesce(c1.case_no, c2.case_no, c3.case_no) AS case_no,
             row_number() OVER (ORDER BY f.entry_date, f.grp, f.ingested_at, f.source_file, f.source_line)::int AS ord
      FROM sel f
      LEFT JOIN case_ids c1 ON c1.id = f.charge_id
      LEFT JOIN case_ids c2 ON c2.id = f.reference_order
      LEFT JOIN case_ids c3 ON c3.id = f.order_id
      WHERE f.entry_type <> 'charge'`.execute(trx);
    // Each case's first row at 0, so it is read first; then its duplicates, its refunds and voids.
    await sql`
      INSERT INTO run_case_rows (case_no, pos, entry_id, charge_key)
      SELECT case_no, 0, entry_id, charge_key FROM starters
      UNION ALL
      SELECT s.case_no, row_number() OVER (PARTITION BY s.case_no ORDER BY ${firstRowOrder('c')})::int, c.entry_id, NULL
      FROM charges c JOIN starters s ON s.entry_id = c.owner
      UNION ALL
      SELECT f.case_no, (SELECT count(*) FROM charges)::int + f.ord, f.entry_id, NULL FROM follow f WHERE f.case_no IS NOT NULL`.execute(trx);

    const { rows: counted } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM starters`.execute(trx);
    const { rows: unlinked } = await sql<LedgerEntry>`
      SELECT l.* FROM follow f JOIN ledger_entries l USING (entry_id) WHERE f.case_no IS NULL ORDER BY f.ord`.execute(trx);
    return { count: counted[0]!.n, unlinked };
  });
}

const COLUMN_NAMES = ['entry_id', 'entry_type', 'charge_id', 'reference_order', 'order_id', 'transaction_date', 'entry_date', 'ingested_at', 'source_file', 'source_line'];
/** The columns of `sel` (with its `grp`): what grouping and ordering need. */
const COLUMNS = sql.join(COLUMN_NAMES.map((c) => sql.ref(c)));


/**
 * Into `sel` as group `grp`: the refund and void rows of group `grp`'s charges, on the dates
 * those charge rows carry (the ledger's date index), that are not selected yet.
 */
async function insertFollowUps(trx: Kysely<Database>, grp: number, hashedIds: number): Promise<void> {
  const charges = sql`FROM sel WHERE grp = ${grp} AND entry_type = 'charge'`;
  const known = await loadIds(trx, sql`SELECT charge_id, reference_order, order_id ${charges}`, hashedIds);
  await insertSharing(trx, grp, known, sql`l.entry_type <> 'charge' AND l.transaction_date IN (SELECT transaction_date ${charges})`);
}

/** Whether the ledger has dates outside [from, to]: the date index's ends say so at once. */
async function hasOtherDates(trx: Kysely<Database>, from: string, to: string): Promise<boolean> {
  const { rows } = await sql<{ other: boolean | null }>`
    SELECT min(transaction_date) < ${from}::date OR max(transaction_date) > ${to}::date AS other FROM ledger_entries`.execute(trx);
  return rows[0]!.other === true;
}

/**
 * How rows are matched to a set of charge ids: a few thousand (a night's) are looked up in a
 * hash of them, the quickest pass; the hash must fit in work_mem, or every row would read the ids
 * again, so more (a range of many dates) are joined on each of the row's ids instead.
 */
type IdLookup = 'hash' | 'join';

/** Ids of charges looked up in a hash rather than joined: well within the default work_mem. */
const HASHED_IDS = 20_000;

/** Fills `known_ids` with the ids the `rows` (charge_id, reference_order, order_id) carry. */
async function loadIds(trx: Kysely<Database>, rows: RawBuilder<unknown>, hashedIds: number): Promise<IdLookup> {
  await sql`TRUNCATE known_ids`.execute(trx);
  const loaded = await sql`
    INSERT INTO known_ids SELECT id FROM (${rows}) r, unnest(ARRAY[r.charge_id, r.reference_order, r.order_id]) AS id WHERE id IS NOT NULL`.execute(trx);
  if (Number(loaded.numAffectedRows ?? 0n) > hashedIds) return 'join';
  // The planner hashes them only if it knows how few they are.
  await sql`ANALYZE known_ids`.execute(trx);
  return 'hash';
}

/**
 * Into `sel` as group `grp`: the ledger rows (`l`) that fit `where`, are live (not retracted),
 * are not selected yet, and name their charge by one of `known_ids`. The ledger has no index on
 * its ids (sql/0005): where no date narrows `where`, this reads it whole. Returns whether it
 * found any.
 */
async function insertSharing(trx: Kysely<Database>, grp: number, lookup: IdLookup, where: RawBuilder<unknown>): Promise<boolean> {
  const columns = sql.join(COLUMN_NAMES.map((c) => sql.ref(`l.${c}`)));
  const fits = sql`${where} AND ${isLive('l')} AND NOT EXISTS (SELECT 1 FROM sel s WHERE s.entry_id = l.entry_id)`;
  const result = lookup === 'hash'
    ? await sql`
        INSERT INTO sel SELECT ${columns}, ${grp} FROM ledger_entries l
        WHERE ${fits} AND (l.charge_id IN (SELECT id FROM known_ids) OR l.reference_order IN (SELECT id FROM known_ids) OR l.order_id IN (SELECT id FROM known_ids))`.execute(trx)
    : await sql`
        INSERT INTO sel SELECT DISTINCT ON (l.entry_id) ${columns}, ${grp} FROM ledger_entries l
        CROSS JOIN LATERAL unnest(ARRAY[l.charge_id, l.reference_order, l.order_id]) AS lid(id)
        JOIN known_ids k ON k.id = lid.id
        WHERE ${fits}`.execute(trx);
  return Number(result.numAffectedRows ?? 0n) > 0;
}

/**
 * `dup`: each duplicate charge row with the first row of its charge. Grouping is order-dependent
 * (first row wins, and only first rows claim ids), so the charge rows that share an id with
 * another are grouped by the same code as {@link buildCases}; every other charge row is a case
 * of its own.
 */
async function markDuplicates(trx: Kysely<Database>): Promise<void> {
  type Ids = Pick<LedgerEntry, 'entry_id' | 'charge_id' | 'reference_order' | 'order_id' | 'transaction_date'>;
  const { rows } = await sql<Ids>`
    WITH ids AS (
      SELECT entry_id, id FROM sel, unnest(ARRAY[charge_id, reference_order, order_id]) AS id
      WHERE entry_type = 'charge' AND id IS NOT NULL
    ), shared AS (
      SELECT id FROM ids GROUP BY id HAVING min(entry_id) <> max(entry_id)
    )
    SELECT entry_id, charge_id, reference_order, order_id, transaction_date::text AS transaction_date FROM sel s
    WHERE entry_id IN (SELECT entry_id FROM ids JOIN shared USING (id))
    ORDER BY grp, ingested_at, source_file, source_line`.execute(trx);
  const duplicates = groupCharges(rows).flatMap(({ first, duplicates }) => duplicates.map((d) => ({ entry_id: d.entry_id, owner: first.entry_id })));
  await sql`
    CREATE TEMP TABLE dup ON COMMIT DROP AS
    SELECT * FROM json_to_recordset(${JSON.stringify(duplicates)}::json) AS d(entry_id text, owner text)`.execute(trx);
}

/**
 * The run's cases `first` to `last` (inclusive), its own or due ones, a page at a time, each with
 * all its ledger rows and, given the run's `notifications`, KBank's verified notifications of its
 * payment (docs/reference.md §6). The next page is read while the
 * current one is worked on.
 */
export async function* readCases(
  db: Kysely<Database>,
  first: number,
  last: number,
  options: { notifications?: NotificationScope } = {},
): AsyncGenerator<NumberedCase[]> {
  const read = (start: number) => {
    const page = readPage(db, start, Math.min(last, start + PAGE - 1), options.notifications);
    // Read ahead: if the run stops before taking it, its failure must not go unhandled.
    page.catch(() => undefined);
    return page;
  };
  for (let start = first, next = start <= last ? read(start) : undefined; next; ) {
    const page = await next;
    start += PAGE;
    next = start <= last ? read(start) : undefined;
    yield page;
  }
}

async function readPage(db: Kysely<Database>, first: number, last: number, notifications: NotificationScope | undefined): Promise<NumberedCase[]> {
  const { rows } = await sql<LedgerEntry & { run_case_no: number; run_orphan: boolean }>`
    SELECT r.case_no AS run_case_no, r.orphan AS run_orphan, l.* FROM run_case_rows r JOIN ledger_entries l USING (entry_id)
    WHERE r.case_no BETWEEN ${first} AND ${last}
    ORDER BY r.case_no, r.pos`.execute(db);
  let cases: NumberedCase[] = [];
  let current: NumberedCase | undefined;
  for (const { run_case_no: no, run_orphan: orphan, ...entry } of rows) {
    if (current?.no !== no) {
      current = { no, chargeCase: ledgerCase(entry, orphan) };
      cases.push(current);
      // An orphan's first row stands for its charge and is one of its refunds or voids too.
      if (orphan) attach(current.chargeCase, entry);
    } else if (entry.entry_type === 'charge') current.chargeCase.duplicates.push(entry);
    else attach(current.chargeCase, entry);
  }
  if (!notifications) return cases;
  if (notifications.join) {
    const notified = await notifiedOnlyCases(db, first, last, notifications.tz);
    if (notified.length) cases = [...cases, ...notified].sort((a, b) => a.no - b.no);
  }
  await attachNotifications(db, cases.map((c) => c.chargeCase), notifications.receivedBefore);
  return cases;
}
