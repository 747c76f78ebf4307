import pg from 'pg';
import type { Config } from '../config/config.ts';
import { ReconError } from '../errors.ts';
import { SCHEMA_NOTE_PREFIX, merchantSchema } from './merchant.ts';
import { connectClient, connectionOptions } from './pg-options.ts';

/**
 * What a command does with a merchant's tables: `write` may create them (`migrate`, `run`,
 * `nightly`, `rerun`, a worker's night), for a merchant of the merchants file only; `read` needs
 * them to be there already (every other command), so that a mistyped mid is never answered from
 * an empty schema made on the spot.
 */
export type TableUse = 'read' | 'write';

/** A merchant whose tables are in the database: its schema, and its mid as recorded there. */
export interface StoredMerchant {
  readonly mid: string;
  readonly schema: string;
  /** False for a schema made before its mid was recorded: its mid is read off its name. */
  readonly recorded: boolean;
}

/** What the database holds: the merchants' schemas, and whether the single merchant's tables hold anything. */
export interface DatabaseMerchants {
  readonly merchants: readonly StoredMerchant[];
  readonly singleHasData: boolean;
}

/**
 * The merchant a command works on ('' for the single merchant of a plain set-up), checked against
 * the merchants the set-up knows: those of the merchants file (`RECON_MERCHANTS`) when one is set,
 * else those whose tables the database holds. A mid that is not one of them, or no `RECON_MERCHANT`
 * where the database holds only merchants' tables, is a configuration error naming the known ones.
 */
export async function chooseMerchant(serverUrl: string, config: Config, use: TableUse): Promise<string> {
  const known = await knownMerchants(serverUrl, config);
  const mid = config.merchant;
  if (!mid) {
    const mids = known.fileMids ?? known.stored.merchants.map((m) => m.mid);
    // The single merchant's own data is always reachable without RECON_MERCHANT.
    if (known.stored.singleHasData || mids.length === 0) return '';
    throw new ReconError('CONFIG', `RECON_MERCHANT is not set, and ${whose(known.file)} ${mids.join(', ')}: set RECON_MERCHANT to the one to work on`);
  }
  if (!storedMerchant(mid, known) && use === 'read') {
    throw new ReconError('CONFIG', `merchant ${mid} has no tables in this database yet: its first night creates them (or 'kpgw-recon migrate' with RECON_MERCHANT=${mid})`);
  }
  return mid;
}

/**
 * The merchants `status` looks at: `RECON_MERCHANT` alone when set (checked as above); else every
 * merchant of the merchants file, or without one every merchant whose tables the database holds;
 * and the single merchant when its tables hold anything, or when there is no other.
 */
export async function merchantsToWatch(serverUrl: string, config: Config): Promise<{ mid: string; hasTables: boolean }[]> {
  const known = await knownMerchants(serverUrl, config);
  if (config.merchant) return [{ mid: config.merchant, hasTables: storedMerchant(config.merchant, known) !== undefined }];
  const mids = known.fileMids ?? known.stored.merchants.map((m) => m.mid);
  const watched = mids.map((mid) => ({ mid, hasTables: known.stored.merchants.some((m) => m.schema === merchantSchema(mid)) }));
  if (known.stored.singleHasData || watched.length === 0) watched.unshift({ mid: '', hasTables: true });
  return watched;
}

interface KnownMerchants {
  readonly file: string | undefined;
  /** The mids of the merchants file, when one is set. */
  readonly fileMids: readonly string[] | undefined;
  readonly stored: DatabaseMerchants;
}

async function knownMerchants(serverUrl: string, config: Config): Promise<KnownMerchants> {
  const stored = await merchantsOfDatabase(serverUrl);
  const file = config.worker.merchantsFile;
  // Loaded only with a merchants file: its cron checks bring in graphile-worker.
  const fileMids = file ? (await (await import('../config/merchants-file.ts')).loadMerchants(config)).map((m) => m.mid) : undefined;
  return { file, fileMids, stored };
}

/** The stored merchant `mid` names, if its tables exist; a configuration error when `mid` is no known merchant. */
function storedMerchant(mid: string, known: KnownMerchants): StoredMerchant | undefined {
  const stored = known.stored.merchants.find((m) => m.schema === merchantSchema(mid));
  if (known.fileMids) {
    if (!known.fileMids.includes(mid)) throw new ReconError('CONFIG', `RECON_MERCHANT ${mid} is not in the merchants file ${known.file} (its merchants: ${known.fileMids.join(', ')})`);
  } else if (!stored || (stored.recorded && stored.mid !== mid)) {
    const mids = known.stored.merchants.map((m) => m.mid);
    throw new ReconError(
      'CONFIG',
      `RECON_MERCHANT ${mid} is not a merchant of this database (${mids.length ? `its merchants: ${mids.join(', ')}` : 'it holds none'}); merchants are added in the merchants file (RECON_MERCHANTS)`,
    );
  }
  return stored;
}

function whose(file: string | undefined): string {
  return file ? `the merchants file ${file} lists` : 'this database holds the merchants';
}

/** The merchants' schemas that hold our tables, and whether the single merchant's tables hold a ledger row, a run or a notification. */
export async function merchantsOfDatabase(serverUrl: string): Promise<DatabaseMerchants> {
  const client = new pg.Client(connectionOptions(serverUrl));
  client.on('error', () => undefined);
  await connectClient(client);
  try {
    const { rows } = await client.query<{ schema: string; note: string | null }>(
      `SELECT n.nspname AS schema, obj_description(n.oid, 'pg_namespace') AS note
       FROM pg_namespace n
       WHERE n.nspname LIKE 'kpgw\\_%' AND to_regclass(quote_ident(n.nspname) || '.schema_migrations') IS NOT NULL
       ORDER BY 1`,
    );
    const merchants = rows.map(({ schema, note }) => {
      const recorded = note?.startsWith(SCHEMA_NOTE_PREFIX) === true;
      return { schema, recorded, mid: recorded ? note!.slice(SCHEMA_NOTE_PREFIX.length) : schema.slice('kpgw_'.length) };
    });
    const { rows: [single] } = await client.query<{ runs: string | null; ledger: string | null; notifications: string | null }>(
      `SELECT to_regclass(format('%I.recon_runs', current_schema())) AS runs, to_regclass(format('%I.ledger_entries', current_schema())) AS ledger,
         to_regclass(format('%I.notifications', current_schema())) AS notifications`,
    );
    let singleHasData = false;
    if (single?.runs && single.ledger) {
      // KBank's notifications are the merchant's data too: they may come before its first night.
      const notified = single.notifications ? ` OR EXISTS (SELECT 1 FROM ${single.notifications})` : '';
      const { rows: [data] } = await client.query<{ any: boolean }>(`SELECT EXISTS (SELECT 1 FROM ${single.runs}) OR EXISTS (SELECT 1 FROM ${single.ledger})${notified} AS any`);
      singleHasData = data?.any === true;
    }
    return { merchants, singleHasData };
  } finally {
    await client.end();
  }
}
