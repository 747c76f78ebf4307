import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import type { Notification } from './notification.ts';

/**
 * What became of a notification: `stored`; `repeat` (the same bytes were stored before, or earlier
 * in the same batch); `counted` (its checksum fails and the hour's bound of kept invalid
 * notifications was reached: counted in `notification_invalid_hours`, not stored).
 */
export type StoreOutcome = 'stored' | 'repeat' | 'counted';

/** Invalid notifications kept per merchant and hour before they are only counted. */
export const INVALID_PER_HOUR = 1_000;

/**
 * Stores a batch in one transaction, so each one's answer can wait for a single commit; returns
 * each notification's outcome, in order. Valid ones go in with one statement. Invalid ones take
 * their hour's row lock first, so two receivers (or a receiver and an import) count against one
 * bound, and a body seen before is a repeat, not a second use of the bound.
 */
export async function storeNotifications(
  db: Kysely<Database>,
  batch: readonly Notification[],
  invalidPerHour = INVALID_PER_HOUR,
): Promise<StoreOutcome[]> {
  if (batch.length === 0) return [];
  const outcomes = new Array<StoreOutcome>(batch.length).fill('repeat');
  const firstOfKey = new Map<string, number>();
  batch.forEach((n, i) => firstOfKey.has(n.key) || firstOfKey.set(n.key, i));
  const valid: number[] = [];
  const invalidByHour = new Map<number, number[]>();
  for (const i of firstOfKey.values()) {
    const { row } = batch[i]!;
    if (row.checksum_verdict === 'valid') valid.push(i);
    else {
      const hour = Math.floor(row.received_at.getTime() / HOUR_MS) * HOUR_MS;
      invalidByHour.set(hour, [...(invalidByHour.get(hour) ?? []), i]);
    }
  }
  if (invalidByHour.size === 0) {
    // The usual batch: one statement, its own transaction; a round trip fewer each side of it.
    for (const i of await insertNew(db, batch, valid)) outcomes[i] = 'stored';
    return outcomes;
  }
  await db.transaction().execute(async (trx) => {
    for (const i of await insertNew(trx, batch, valid)) outcomes[i] = 'stored';
    for (const [hour, indexes] of invalidByHour) {
      for (const [i, outcome] of await storeInvalid(trx, batch, indexes, new Date(hour), invalidPerHour)) outcomes[i] = outcome;
    }
  });
  return outcomes;
}

const HOUR_MS = 3_600_000;

/**
 * Inserts the rows not stored yet; returns the indexes of those it inserted. The batch goes as one
 * JSON parameter read by `json_to_recordset`: one statement whatever the batch's size, and each
 * body crosses as a JSON string (lossless for text), so neither side escapes it value by value.
 * The same statement puts each one a night must deal with (a verified success, or a failing
 * checksum) on the nights' list (`notification_outcomes`; docs/reference.md §6).
 */
async function insertNew(db: Kysely<Database>, batch: readonly Notification[], indexes: readonly number[]): Promise<number[]> {
  if (indexes.length === 0) return [];
  const rows = JSON.stringify(indexes.map((i) => ({ ...batch[i]!.row, body_sha256: batch[i]!.key })));
  const { rows: inserted } = await sql<{ key: string }>`
    WITH inserted AS (
      INSERT INTO notifications (body_sha256, body, received_at, received_via, received_from, checksum_verdict, charge_id, order_id,
                                 reference_order, source_type, amount, currency, status, transaction_state, livemode)
      SELECT decode(r.body_sha256, 'hex'), r.body, r.received_at, r.received_via, r.received_from, r.checksum_verdict, r.charge_id,
             r.order_id, r.reference_order, r.source_type, r.amount, r.currency, r.status, r.transaction_state, r.livemode
      FROM json_to_recordset(${rows}::json) AS r(body_sha256 text, body text, received_at timestamptz, received_via text,
           received_from text, checksum_verdict text, charge_id text, order_id text, reference_order text, source_type text,
           amount numeric, currency text, status text, transaction_state text, livemode boolean)
      ON CONFLICT (body_sha256) DO NOTHING
      RETURNING notification_id, body_sha256, received_at, checksum_verdict, status
    ), for_the_night AS (
      INSERT INTO notification_outcomes (notification_id, received_at, verified)
      SELECT notification_id, received_at, checksum_verdict = 'valid' FROM inserted
      WHERE checksum_verdict = 'invalid' OR lower(status) = 'success'
    )
    SELECT encode(body_sha256, 'hex') AS key FROM inserted`.execute(db);
  const keys = new Set(inserted.map((r) => r.key));
  return indexes.filter((i) => keys.has(batch[i]!.key));
}

async function storeInvalid(
  trx: Transaction<Database>,
  batch: readonly Notification[],
  indexes: readonly number[],
  hour: Date,
  bound: number,
): Promise<[number, StoreOutcome][]> {
  await trx.insertInto('notification_invalid_hours').values({ hour }).onConflict((oc) => oc.column('hour').doNothing()).execute();
  const { stored } = await trx.selectFrom('notification_invalid_hours').select('stored').where('hour', '=', hour).forUpdate().executeTakeFirstOrThrow();
  const seen = await trx
    .selectFrom('notifications')
    .select('body_sha256')
    .where('body_sha256', 'in', indexes.map((i) => batch[i]!.row.body_sha256))
    .execute();
  const seenKeys = new Set(seen.map((r) => r.body_sha256.toString('hex')));
  const fresh = indexes.filter((i) => !seenKeys.has(batch[i]!.key));
  const room = Math.max(0, bound - stored);
  const kept = await insertNew(trx, batch, fresh.slice(0, room));
  const counted = fresh.slice(room);
  if (kept.length > 0 || counted.length > 0) {
    await trx
      .updateTable('notification_invalid_hours')
      .set({ stored: sql`stored + ${kept.length}`, dropped: sql`dropped + ${counted.length}` })
      .where('hour', '=', hour)
      .execute();
  }
  return [...kept.map((i) => [i, 'stored'] as [number, StoreOutcome]), ...counted.map((i) => [i, 'counted'] as [number, StoreOutcome])];
}
