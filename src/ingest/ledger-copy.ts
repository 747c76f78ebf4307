import pg from 'pg';
import { from as copyFrom, type CopyStreamQuery } from 'pg-copy-streams';
import { PG } from '../errors.ts';
import { LEDGER_FIELDS } from './ledger-columns.ts';
import type { LedgerEntryInput } from './ledger-row.ts';

/**
 * The SQL side of a ledger file's ingest. Rows are COPYed into a temporary table (`ledger_incoming`) inside
 * the file's transaction, then checked for repeated `entry_id`s and upserted into
 * `ledger_entries` in a few set-based statements: memory stays flat however large the file, and
 * a process killed at any point leaves the file not ingested at all (the transaction rolls back).
 */

const COPY_TYPES: Record<(typeof LEDGER_FIELDS)[number], string> = {
  entry_id: 'text', entry_type: 'text', reference_order: 'text', charge_id: 'text', order_id: 'text',
  transaction_date: 'date', entry_date: 'date', source_type: 'text', currency: 'text',
  amount: 'numeric(14,2)', mdr: 'numeric(14,2)', vat: 'numeric(14,2)', net_amount: 'numeric(14,2)',
  refund_id: 'text', mid: 'text', plan_id: 'text', ipan_mode: 'text', term: 'integer',
  supplier_no: 'text', model_no: 'text', product_type: 'text',
  convfee_amount: 'numeric(14,2)', convfee_vat: 'numeric(14,2)', captured_amount: 'numeric(14,2)',
};
const FIELD_LIST = LEDGER_FIELDS.join(', ');

/**
 * The COPY text line of one entry: `source_line` and the fields. The file name is not repeated
 * on every line (it made the COPY a fifth bigger): the load table's column default supplies it.
 * No content hash: whether a re-ingested row changed is asked of PostgreSQL, which compares the
 * stored values themselves (`1,234.5` and `1234.50` are the same numeric), and only for the rows
 * that meet an existing id, instead of hashing every row of every file here. (Most rows never
 * come here: ledger-row-bytes.ts writes the same line straight from the file's bytes.)
 */
export function copyLine(entry: LedgerEntryInput, line: number): string {
  let text = `${line}\t${copyValue(entry.entry_id)}`;
  for (let i = 1; i < LEDGER_FIELDS.length; i++) text += `\t${copyValue(entry[LEDGER_FIELDS[i]!])}`;
  return `${text}\n`;
}

/** The row's values as one comparable SQL value, for `alias`. */
function rowOf(alias: string): string {
  return `ROW(${LEDGER_FIELDS.map((f) => `${alias}.${f}`).join(', ')})`;
}

/** A digest of the row's values, for `ingest_seen` and repeats within a file (both rare). */
function digestOf(alias: string): string {
  return `md5(${rowOf(alias)}::text)`;
}

const NEEDS_ESCAPE = /[\\\t\n\r]/;

/** COPY text format: `\N` is NULL; backslash, tab and line breaks escaped. */
function copyValue(value: string | number | null): string {
  if (value === null) return '\\N';
  if (typeof value === 'number') return String(value);
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

/**
 * Session tables of one `ingestLedgers` call: `ingest_seen` holds the rows earlier files of the
 * call stored (to tell an in-run duplicate from a later run's correction), `ingest_replaced` the
 * ids to log as replaced once the file is committed, `ledger_incoming` a file's rows on the upsert
 * path (emptied at each commit; one table for the call rather than one per file, since catalog
 * changes are slow on a busy server). Its rows carry no file name: the statements supply it.
 */
export async function createSessionTables(client: pg.Client): Promise<void> {
  const columns = LEDGER_FIELDS.map((f) => `${f} ${COPY_TYPES[f]}`).join(', ');
  await client.query(`CREATE TEMP TABLE ingest_seen (
    entry_id text PRIMARY KEY, digest text NOT NULL, source_file text NOT NULL, source_line integer NOT NULL);
    CREATE TEMP TABLE ingest_replaced (entry_id text NOT NULL);
    CREATE TEMP TABLE ledger_incoming (source_line integer NOT NULL, ${columns}) ON COMMIT DELETE ROWS`);
}

/** Opens the file's transaction. */
export async function beginFile(client: pg.Client): Promise<void> {
  // The duplicate check groups a whole file by entry_id: give it room to do so in memory.
  await client.query(`BEGIN; SET LOCAL work_mem = '128MB'`);
}

export type LoadTable = 'ledger_incoming' | 'ledger_entries';

export function copyInto(client: pg.Client, table: LoadTable): CopyStreamQuery {
  // Into ledger_entries only on the bulk path, which truncated it in this transaction: its rows
  // can be written already frozen and all-visible, sparing the first reads and VACUUM a pass
  // over every page to set hint bits (PostgreSQL allows FREEZE only on a table truncated so).
  const freeze = table === 'ledger_entries' ? ' WITH (FREEZE)' : '';
  return client.query(copyFrom(`COPY ${table} (source_line, ${FIELD_LIST}) FROM STDIN${freeze}`));
}

/** An incoming row that repeats an `entry_id` read earlier in the same call with other content. */
export interface DuplicateRow {
  line: number;
  entryId: string;
  firstFile: string;
  firstLine: number;
}

/**
 * Takes out of the stage the rows whose entry_id an earlier file of this call already stored.
 * Identical ones are simply unchanged; different ones are returned, to be rejected.
 */
export async function removeSeen(client: pg.Client): Promise<DuplicateRow[]> {
  const { rows } = await client.query<DuplicateRow & { differs: boolean }>(`
    WITH removed AS (
      DELETE FROM ledger_incoming s USING ingest_seen k WHERE k.entry_id = s.entry_id
      RETURNING s.source_line AS line, s.entry_id AS "entryId", k.source_file AS "firstFile", k.source_line AS "firstLine",
                ${digestOf('s')} <> k.digest AS differs)
    SELECT * FROM removed WHERE differs ORDER BY line`);
  return rows.map(({ differs: _, ...row }) => row);
}

export interface UpsertCounts {
  inserted: number;
  replaced: number;
  /** Rows repeating an earlier row of this file with other content (to be rejected). */
  duplicates: DuplicateRow[];
  /** Repeats taken out of the stage, identical or not. */
  removed: number;
}

/**
 * Moves the stage into `ledger_entries`: new ids inserted, changed ones replaced, identical ones
 * left alone. Repeats within the file are resolved first (first row kept): ON CONFLICT cannot be
 * trusted to notice them, since a first row equal to the stored one updates nothing and the
 * second, different one would then quietly replace it.
 */
export async function upsertIncoming(client: pg.Client, file: string): Promise<UpsertCounts> {
  const { duplicates, removed } = await removeRepeats(client, 'ledger_incoming', file);
  return { ...(await upsert(client, file)), duplicates, removed };
}

async function upsert(client: pg.Client, file: string): Promise<{ inserted: number; replaced: number }> {
  const updates = [...LEDGER_FIELDS.slice(1), 'source_file', 'source_line']
    .map((c) => `${c} = EXCLUDED.${c}`)
    .join(', ');
  const { rows } = await client.query<{ inserted: number; replaced: number }>(
    `WITH up AS (
       INSERT INTO ledger_entries (${FIELD_LIST}, source_file, source_line)
       SELECT ${FIELD_LIST}, $1, source_line FROM ledger_incoming
       ON CONFLICT (entry_id) DO UPDATE SET ${updates}, ingested_at = now()
       WHERE ${rowOf('ledger_entries')} IS DISTINCT FROM ${rowOf('EXCLUDED')}
       RETURNING entry_id, (xmax = 0) AS inserted),
     replaced AS (INSERT INTO ingest_replaced SELECT entry_id FROM up WHERE NOT inserted)
     SELECT count(*) FILTER (WHERE inserted)::int AS inserted, count(*) FILTER (WHERE NOT inserted)::int AS replaced FROM up`,
    [file],
  );
  return rows[0]!;
}

/**
 * Keeps the first row (by line) of each entry_id repeated in `table`, which holds one file's
 * rows; returns the repeats whose content differs (to be rejected) and how many were removed.
 */
export async function removeRepeats(client: pg.Client, table: LoadTable, file: string): Promise<{ duplicates: DuplicateRow[]; removed: number }> {
  // one statement, no table of its own: a file costs no catalog changes here (they are slow on a busy server)
  const { rows } = await client.query<DuplicateRow & { differs: boolean }>(
    `WITH repeats AS (
       SELECT source_line, entry_id, ${digestOf('t')} AS digest,
              first_value(source_line) OVER w AS first_line, first_value(${digestOf('t')}) OVER w AS first_digest
       FROM ${table} t
       WHERE entry_id IN (SELECT entry_id FROM ${table} GROUP BY entry_id HAVING count(*) > 1)
       WINDOW w AS (PARTITION BY entry_id ORDER BY source_line)),
     removed AS (
       DELETE FROM ${table} s USING repeats r
       WHERE s.entry_id = r.entry_id AND s.source_line = r.source_line AND r.source_line <> r.first_line)
     SELECT source_line AS line, entry_id AS "entryId", $1::text AS "firstFile", first_line AS "firstLine", digest <> first_digest AS differs
     FROM repeats WHERE source_line <> first_line ORDER BY source_line`,
    [file],
  );
  const duplicates = rows.filter((r) => r.differs).map(({ differs: _, ...row }) => row);
  return { duplicates, removed: rows.length };
}

/**
 * What a bulk load into the empty `ledger_entries` changes for its transaction, to be put back
 * before commit. Its indexes and unique constraints are taken off and rebuilt after: building an
 * index from sorted data is far cheaper than maintaining five of them row by row.
 */
export interface BulkLoad {
  constraints: { name: string; definition: string }[];
  indexes: { name: string; definition: string }[];
  /** The `merchant` column's default expression, as the catalog has it. */
  merchantDefault: string;
}

/**
 * When `ledger_entries` is empty and nothing references it, locks it for this transaction and
 * drops its indexes, returning what to put back; otherwise `null` (the upsert path).
 */
export async function startBulkLoad(client: pg.Client, file: string): Promise<BulkLoad | null> {
  const { rows } = await client.query<{ referenced: boolean; filled: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE confrelid = 'ledger_entries'::regclass) AS referenced,
            EXISTS (SELECT 1 FROM ledger_entries) AS filled`,
  );
  if (rows[0]!.referenced || rows[0]!.filled) return null;
  await client.query('LOCK TABLE ledger_entries IN ACCESS EXCLUSIVE MODE');
  // checked again under the lock: another ingest may have filled it meanwhile
  if ((await client.query('SELECT 1 FROM ledger_entries LIMIT 1')).rowCount) return null;
  const { constraints, indexes } = await ledgerKeys(client);
  for (const c of constraints) await client.query(`ALTER TABLE ledger_entries DROP CONSTRAINT ${pg.escapeIdentifier(c.name)}`);
  for (const i of indexes) await client.query(`DROP INDEX ${i.name}`);
  // Empty already, but truncated in this transaction its new rows need no WAL where wal_level is
  // minimal (the embedded server): a rollback or crash simply drops the new file. With more WAL
  // (a replicated server) it changes nothing but allowing COPY FREEZE (copyInto).
  await client.query('TRUNCATE ledger_entries');
  // The COPY leaves source_file and merchant to the column defaults, made literals for it:
  // source_file has none of its own, and merchant's (sql/0012_merchant.sql) looks the session's
  // kpgw.merchant up again for every row, though it is stable and
  // so gives every row the same value: it is evaluated once here. Both are put back before
  // commit (finishBulkLoad) and only ever visible inside this transaction, which holds the table
  // exclusively; a rollback or a crash undoes them with the rest.
  const merchantDefault = await columnDefault(client, 'merchant');
  const merchant = (await client.query<{ value: string }>(`SELECT (${merchantDefault})::text AS value`)).rows[0]!.value;
  await client.query(
    `ALTER TABLE ledger_entries ALTER COLUMN source_file SET DEFAULT ${pg.escapeLiteral(file)},
                                ALTER COLUMN merchant SET DEFAULT ${pg.escapeLiteral(merchant)}`,
  );
  return { constraints, indexes, merchantDefault };
}

/** The unique constraints and the other indexes of `ledger_entries`: what a bulk load builds again. */
export async function ledgerKeys(client: pg.Client): Promise<Pick<BulkLoad, 'constraints' | 'indexes'>> {
  const constraints = (
    await client.query<{ name: string; definition: string }>(
      `SELECT conname AS name, pg_get_constraintdef(oid) AS definition FROM pg_constraint
       WHERE conrelid = 'ledger_entries'::regclass AND contype IN ('p', 'u')`,
    )
  ).rows;
  const indexes = (
    await client.query<{ name: string; definition: string }>(
      `SELECT indexrelid::regclass::text AS name, pg_get_indexdef(indexrelid) AS definition FROM pg_index
       WHERE indrelid = 'ledger_entries'::regclass
         AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = indexrelid)`,
    )
  ).rows;
  return { constraints, indexes };
}

/** A column's default expression in `ledger_entries`, as SQL text. */
async function columnDefault(client: pg.Client, column: string): Promise<string> {
  const { rows } = await client.query<{ expression: string }>(
    `SELECT pg_get_expr(d.adbin, d.adrelid) AS expression FROM pg_attrdef d
     JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
     WHERE d.adrelid = 'ledger_entries'::regclass AND a.attname = $1`,
    [column],
  );
  return rows[0]!.expression;
}

/** maintenance_work_mem for building a bulk load's keys: room to sort a million-row file's in memory. */
export const INDEX_BUILD_MEMORY = '256MB';

/**
 * Puts back what {@link startBulkLoad} changed, resolving repeated entry_ids first. The primary
 * key doubles as the repeat check: only when building it fails are repeats looked for (a
 * GROUP BY over the whole file, which a file without repeats is spared).
 */
export async function finishBulkLoad(client: pg.Client, bulk: BulkLoad, file: string): Promise<{ duplicates: DuplicateRow[]; removed: number }> {
  await client.query(`ALTER TABLE ledger_entries ALTER COLUMN source_file DROP DEFAULT, ALTER COLUMN merchant SET DEFAULT ${bulk.merchantDefault}`);
  await client.query(`SET LOCAL maintenance_work_mem = '${INDEX_BUILD_MEMORY}'`);
  let repeats = { duplicates: [] as DuplicateRow[], removed: 0 };
  await client.query('SAVEPOINT bulk_keys');
  try {
    await addConstraints(client, bulk);
  } catch (error) {
    if ((error as { code?: string }).code !== PG.UNIQUE_VIOLATION) throw error;
    await client.query('ROLLBACK TO SAVEPOINT bulk_keys');
    repeats = await removeRepeats(client, 'ledger_entries', file);
    await addConstraints(client, bulk);
  }
  for (const i of bulk.indexes) await client.query(i.definition);
  return repeats;
}

async function addConstraints(client: pg.Client, bulk: BulkLoad): Promise<void> {
  for (const c of bulk.constraints) {
    await client.query(`ALTER TABLE ledger_entries ADD CONSTRAINT ${pg.escapeIdentifier(c.name)} ${c.definition}`);
  }
}

/** Records the file's stored rows so later files of the same call can be checked against them. */
export async function rememberLoaded(client: pg.Client, table: LoadTable, file: string): Promise<void> {
  await client.query(
    `INSERT INTO ingest_seen SELECT entry_id, ${digestOf('t')}, $1, source_line FROM ${table} t
     ${table === 'ledger_entries' ? 'WHERE source_file = $1' : ''} ON CONFLICT DO NOTHING`,
    [file],
  );
}

/** The ids replaced by the last committed file, a page at a time, emptying the list. */
export async function* drainReplaced(client: pg.Client): AsyncGenerator<string[]> {
  for (;;) {
    const { rows } = await client.query<{ entry_id: string }>(
      `DELETE FROM ingest_replaced WHERE ctid IN (SELECT ctid FROM ingest_replaced LIMIT 5000) RETURNING entry_id`,
    );
    if (!rows.length) return;
    yield rows.map((r) => r.entry_id);
  }
}
