import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

export type Family = 'card' | 'qr';

/** One charge the simulator knows, with its inquiry answer serialised once. */
export interface StoredCharge {
  readonly id: string;
  readonly family: Family;
  /** `YYYYMMDD`, the first 8 digits of `created`. */
  readonly createdDate: string;
  /** Lookup keys other than the id: `reference_order` (card only) and `order_id`. */
  readonly referenceOrder: string | null;
  readonly orderId: string | null;
  /** The inquiry answer exactly as served. */
  readonly body: string;
}

/**
 * A record may carry `"_family": "card" | "qr"` to say which endpoint serves it; the key is removed
 * before serving. Without it the family is read from the charge (see {@link inferFamily}).
 */
export const FAMILY_HINT = '_family';

/**
 * A record may carry `"_from": "YYYY-MM-DD"`: the day from which the gateway answers with it (removed
 * before serving). Several records of one charge make its history (captured on D, settled on D+1,
 * fee figures on D+2, a refund on D+12): the simulator serves the latest one its clock has reached,
 * and a charge none of whose records has been reached yet does not exist. A record without it
 * holds from the beginning of time.
 */
export const FROM_HINT = '_from';

export interface ChargeStore {
  /** Distinct charges. */
  readonly size: number;
  /**
   * The guide: card inquiry by charge id, reference order or order id; QR by charge id or order id.
   * `today` (`YYYY-MM-DD`) picks the record in force on that day.
   */
  find(family: Family, key: string, today: string): StoredCharge | undefined;
  /** Every key (id, reference order, order id) a charge can be asked by. */
  keysOf(charge: StoredCharge): string[];
  /** Each charge's earliest record (the payment itself) and the day it holds from (`''`: always). */
  firstRecords(): { from: string; charge: StoredCharge }[];
}

/**
 * QR when the source says so (`source.object` `qr`, brand ThaiQR/WeChat, a `qr_…` source id);
 * otherwise card. The QR void sample has `source.object: "charge"`, which is why the brand and the
 * source id are looked at too.
 */
export function inferFamily(record: Record<string, unknown>): Family {
  const hint = record[FAMILY_HINT];
  if (hint === 'card' || hint === 'qr') return hint;
  const source = typeof record.source === 'object' && record.source !== null ? (record.source as Record<string, unknown>) : {};
  const text = (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : '');
  if (text(source.object) === 'qr') return 'qr';
  if (/thaiqr|wechat|promptpay/.test(text(source.brand))) return 'qr';
  if (text(source.id).startsWith('qr_')) return 'qr';
  return 'card';
}

/** One charge's records, oldest `_from` first (`''` for a record without one). */
type History = { from: string; charge: StoredCharge }[];

/** Builds the store from inquiry answers; `texts[i]` (the JSON line as read) is served verbatim when given. */
export function createChargeStore(records: Iterable<unknown>, texts?: readonly string[]): ChargeStore {
  const byFamily: Record<Family, Map<string, History>> = { card: new Map(), qr: new Map() };
  const ids: Record<Family, Set<string>> = { card: new Set(), qr: new Set() };
  let index = 0;
  for (const record of records) {
    const where = `charge record ${index + 1}`;
    const verbatim = texts?.[index];
    index += 1;
    if (typeof record !== 'object' || record === null || Array.isArray(record)) throw new Error(`${where} is not a JSON object`);
    const r = record as Record<string, unknown>;
    if (typeof r.id !== 'string' || !r.id) throw new Error(`${where} has no "id"`);
    const from = r[FROM_HINT] ?? '';
    if (from !== '' && (typeof from !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(from))) throw new Error(`${where}: "${FROM_HINT}" must be a YYYY-MM-DD date`);
    const family = inferFamily(r);
    const hinted = FAMILY_HINT in r || FROM_HINT in r;
    const served = hinted ? Object.fromEntries(Object.entries(r).filter(([k]) => k !== FAMILY_HINT && k !== FROM_HINT)) : r;
    const str = (v: unknown) => (typeof v === 'string' && v ? v : typeof v === 'number' ? String(v) : null);
    const charge: StoredCharge = {
      id: r.id,
      family,
      createdDate: (str(r.created) ?? '').slice(0, 8),
      referenceOrder: str(r.reference_order),
      orderId: str(r.order_id),
      body: verbatim !== undefined && !hinted ? verbatim : JSON.stringify(served),
    };
    ids[family].add(charge.id);
    const map = byFamily[family];
    const keys = [charge.id, charge.orderId, family === 'card' ? charge.referenceOrder : null].filter((k): k is string => k !== null);
    for (const key of new Set(keys)) {
      const history = map.get(key) ?? [];
      // A later record for the same day replaces the earlier one, so a data file can be appended to with updates.
      const same = history.findIndex((h) => h.from === from);
      if (same >= 0) history[same] = { from, charge };
      else history.push({ from, charge });
      history.sort((a, b) => a.from.localeCompare(b.from));
      map.set(key, history);
    }
  }
  return {
    size: ids.card.size + ids.qr.size,
    find: (family, key, today) => byFamily[family].get(key)?.findLast((h) => h.from <= today)?.charge,
    keysOf: (c) => [c.id, c.referenceOrder, c.orderId].filter((k): k is string => k !== null),
    firstRecords: () => (['card', 'qr'] as const).flatMap((family) => [...ids[family]].map((id) => byFamily[family].get(id)![0]!)),
  };
}

/**
 * Reads a JSON-lines file of full inquiry answers (blank lines and `#` comments skipped), keeping
 * each line's text so it can be served byte for byte (`60.0` stays `60.0`).
 */
export async function readJsonLines(path: string): Promise<{ records: unknown[]; texts: string[] }> {
  const records: unknown[] = [];
  const texts: string[] = [];
  // Line by line: a million charges' answers make a file too big for one string.
  let number = 0;
  for await (const line of createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity })) {
    number += 1;
    const text = (number === 1 ? line.replace(/^\uFEFF/, '') : line).trim();
    if (!text || text.startsWith('#')) continue;
    try {
      records.push(JSON.parse(text));
    } catch (error) {
      throw new Error(`${path}:${number}: not JSON (${error instanceof Error ? error.message : String(error)})`);
    }
    texts.push(text);
  }
  return { records, texts };
}
