import { join } from 'node:path';
import pg from 'pg';
import { LEDGER_FIELDS } from '../../src/ingest/ledger-columns.ts';
import { INDEX_BUILD_MEMORY, ledgerKeys } from '../../src/ingest/ledger-copy.ts';
import { query } from './bench-database.ts';
import { timedChild } from './whole-command.ts';

/**
 * The least any loader can do for our table: `psql \copy` of the COPY text our ingest sends
 * into a copy of `ledger_entries` (its types, CHECK constraints and defaults), then building the
 * primary key and indexes the bulk path builds, in one transaction that truncated the table, as
 * the bulk path's does (so COPY FREEZE, and no WAL where wal_level is minimal). Every ingest of
 * the file into our table does at least this, however little its own side costs.
 */
export interface TypedFloor {
  load(): Promise<TypedLoad>;
}

/** One load, in seconds: the whole psql command, its COPY, and its key and index builds. */
export interface TypedLoad {
  seconds: number;
  copy: number;
  keys: number;
}

const TABLE = 'bench_copy_typed';
const COLUMNS = `source_line, ${LEDGER_FIELDS.join(', ')}`;

/**
 * Writes the COPY text of what an ingest of `file` stored in `url`'s ledger_entries (the lines
 * copyInto sent, as PostgreSQL gives them back) and reads the table's keys, for
 * {@link TypedFloor.load} to replay.
 */
export async function typedFloor(url: string, dir: string, file: string): Promise<TypedFloor> {
  const copyText = join(dir, 'ledger.copy');
  await timedChild('psql', [url, '-q', '-v', 'ON_ERROR_STOP=1', '-c', `\\copy (SELECT ${COLUMNS} FROM ledger_entries ORDER BY source_line) TO '${copyText}'`]);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const keys = await ledgerKeys(client).finally(() => client.end());
  const builds = [
    ...keys.constraints.map((c) => `ALTER TABLE ${TABLE} ADD ${c.definition}`),
    // `CREATE [UNIQUE] INDEX name ON schema.table ...`, unnamed here: index names are the schema's
    ...keys.indexes.map((i) => i.definition.replace(/^CREATE (UNIQUE )?INDEX \S+ ON \S+/, `CREATE $1INDEX ON ${TABLE}`)),
  ];
  return {
    async load() {
      // The column defaults the bulk path gives its COPY: literals (startBulkLoad); no merchant here.
      await query(
        url,
        `DROP TABLE IF EXISTS ${TABLE};
         CREATE TABLE ${TABLE} (LIKE ledger_entries INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
         ALTER TABLE ${TABLE} ALTER COLUMN source_file SET DEFAULT ${pg.escapeLiteral(file)}, ALTER COLUMN merchant SET DEFAULT ''`,
      );
      const statements = [
        `TRUNCATE ${TABLE}`,
        `SET LOCAL maintenance_work_mem = '${INDEX_BUILD_MEMORY}'`,
        '\\timing on',
        `\\copy ${TABLE} (${COLUMNS}) FROM '${copyText}' WITH (FREEZE)`,
        ...builds,
      ];
      const { seconds, stdout } = await timedChild('psql', [url, '-X', '-q', '-1', '-v', 'ON_ERROR_STOP=1', ...statements.flatMap((s) => ['-c', s])]);
      const [copy = NaN, ...keyTimes] = [...stdout.matchAll(/^Time: ([\d.]+) ms/gm)].map((m) => Number(m[1]) / 1000);
      return { seconds, copy, keys: keyTimes.reduce((a, b) => a + b, 0) };
    },
  };
}
